#!/usr/bin/env node
// `npx kinesis-connector validate|normalize|diff ...`: the native CLI's offline commands for
// build pipelines without Rust, on the package itself (the same core, compiled to wasm). The
// report is the native CLI's (stream/src/commands/offline.rs and report.rs): issues as
// `FILE:LINE:COLUMN: error[code] /path: message` on stderr, `--format json` for the result
// objects on stdout, exit 0 ok, 1 invalid input (or a file that cannot be read), 2 usage.

import { readFileSync } from 'node:fs';
import { diff, locate, normalizeCreate, normalizeUpdate, validateCreateJson, validateUpdateJson } from '../index.node.mjs';

const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage: kinesis-connector <COMMAND>

Commands:
  validate [--update] [--current FILE] [--existing-ids IDS] [--methods IDS] [--format human|json] FILE|-...
      Check create (or, with --update, update) payloads; IDS are comma-separated
  normalize [--update] [--format human|json] FILE|-...
      Print the normalized payload (stdout) and each change (stderr)
  diff [--format human|json] SAVED DESIRED
      Action, changes with their effect, and the request body; exit 1 if either side is invalid

Exit codes: 0 ok, 1 invalid input or a file that cannot be read, 2 usage.
`;

class UsageError extends Error {}
class ReadError extends Error {}

/** Options by name: true for a flag, else takes a value. */
const OPTIONS = {
  validate: { update: true, current: false, 'existing-ids': false, methods: false, format: false },
  normalize: { update: true, format: false },
  diff: { format: false },
};

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return { help: true };
  if (command === undefined) throw new UsageError('a command is required');
  const known = OPTIONS[command];
  if (known === undefined) throw new UsageError(`unrecognized command '${command}'`);
  const options = {};
  const files = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (!(name in known)) throw new UsageError(`unexpected argument '--${name}'`);
      if (known[name]) {
        if (eq !== -1) throw new UsageError(`--${name} takes no value`);
        options[name] = true;
      } else {
        const value = eq !== -1 ? arg.slice(eq + 1) : rest[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        options[name] = value;
      }
    } else {
      files.push(arg);
    }
  }
  const format = options.format ?? 'human';
  if (format !== 'human' && format !== 'json') {
    throw new UsageError(`invalid value '${format}' for '--format': possible values: human, json`);
  }
  if (files.length === 0) throw new UsageError(command === 'diff' ? 'SAVED and DESIRED are required' : 'FILE is required');
  if (command === 'diff' && files.length !== 2) throw new UsageError('diff takes SAVED and DESIRED');
  return { command, options, files, format };
}

function readInput(file) {
  const name = file === '-' ? '<stdin>' : file;
  try {
    return { name, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
  } catch (error) {
    throw new ReadError(`cannot read ${name}: ${error.message}`);
  }
}

const ids = (list) => (list === undefined ? undefined : list.split(',').filter((id) => id !== ''));

/** `FILE:LINE:COLUMN: error[code] /path: message`, as the native CLI's format_issue. */
function formatIssue(input, issue) {
  let location = '';
  if (input !== null) {
    const { line, column } = issue.params ?? {};
    const at = typeof line === 'number' && typeof column === 'number' ? { line, column } : locate(input.text, issue.path);
    location = at === null ? `${input.name}: ` : `${input.name}:${at.line}:${at.column}: `;
  }
  const path = issue.path === '' ? '' : ` ${issue.path}`;
  return `${location}${issue.severity}[${issue.code}]${path}: ${issue.message}`;
}

function printIssues(input, errors, warnings) {
  for (const issue of [...errors, ...warnings]) process.stderr.write(formatIssue(input, issue) + '\n');
}

const printJson = (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

/** JSON.parse, or the core's `input.syntax` issue (line and column) for text that is not JSON. */
function parseJson(input) {
  try {
    return { value: JSON.parse(input.text) };
  } catch {
    const syntax = validateCreateJson(input.text).errors.find((i) => i.code === 'input.syntax');
    if (syntax !== undefined) return { issue: syntax };
    // JSON.parse and the core disagree (e.g. a lone surrogate escape): the core reads it.
    return { issue: null };
  }
}

function reportSyntax(input, issue, format) {
  if (format === 'human') printIssues(input, [issue], []);
  else printJson({ valid: false, errors: [issue], warnings: [] });
  return EXIT_INVALID;
}

function validate({ options, files, format }) {
  let current;
  if (options.current !== undefined) {
    const saved = readInput(options.current);
    const parsed = parseJson(saved);
    if (parsed.issue) return reportSyntax(saved, parsed.issue, format);
    current = parsed.value;
  }
  const context = { existingIds: ids(options['existing-ids']) ?? [] };
  if (current !== undefined) context.current = current;
  if (options.methods !== undefined) context.methods = ids(options.methods);
  let exit = EXIT_OK;
  for (const file of files) {
    const input = readInput(file);
    const result = options.update ? validateUpdateJson(input.text, context) : validateCreateJson(input.text, context);
    if (format === 'json') {
      printJson(result);
    } else {
      printIssues(input, result.errors, result.warnings);
      process.stderr.write(
        `${input.name}: ${result.valid ? 'valid' : 'invalid'} (${result.errors.length} errors, ${result.warnings.length} warnings)\n`,
      );
    }
    if (!result.valid) exit = EXIT_INVALID;
  }
  return exit;
}

function normalize({ options, files, format }) {
  let exit = EXIT_OK;
  for (const file of files) exit = Math.max(exit, normalizeOne(readInput(file), options.update, format));
  return exit;
}

function normalizeOne(input, update, format) {
  const parsed = parseJson(input);
  if (parsed.issue) return reportSyntax(input, parsed.issue, format);
  const result = update ? normalizeUpdate(parsed.value) : normalizeCreate(parsed.value);
  if (format === 'json') {
    printJson(result);
  } else {
    printJson(result.value);
    for (const change of result.changes) {
      process.stderr.write(`${input.name}: ${change.path === '' ? '/' : change.path} ${change.message}\n`);
    }
  }
  return EXIT_OK;
}

function diffCommand({ files, format }) {
  const savedInput = readInput(files[0]);
  const desiredInput = readInput(files[1]);
  const saved = parseJson(savedInput);
  if (saved.issue) return reportSyntax(savedInput, saved.issue, format);
  const desired = parseJson(desiredInput);
  if (desired.issue) return reportSyntax(desiredInput, desired.issue, format);
  const result = diff(saved.value, desired.value);
  if (format === 'json') {
    printJson(result);
  } else {
    printIssues(null, result.errors, result.warnings);
    const lines = [`action: ${result.action}`];
    const show = (v) => (v === undefined || v === null ? '-' : JSON.stringify(v));
    for (const change of result.changes) {
      lines.push(`  ${change.path} ${change.kind}: ${show(change.before)} -> ${show(change.after)} (${change.effect?.kind ?? '?'})`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    if (Object.keys(result.update).length > 0) {
      process.stdout.write('update:\n');
      printJson(result.update);
    }
    if (result.create !== undefined) {
      process.stdout.write('create:\n');
      printJson(result.create);
    }
  }
  return result.valid ? EXIT_OK : EXIT_INVALID;
}

function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  try {
    if (args.command === 'validate') return validate(args);
    if (args.command === 'normalize') return normalize(args);
    return diffCommand(args);
  } catch (error) {
    if (!(error instanceof ReadError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_INVALID;
  }
}

process.exitCode = main(process.argv.slice(2));
