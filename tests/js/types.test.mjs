// The published declarations, as a strict TypeScript consumer sees them: a .mts (ESM import) and
// a .cts (CJS require) file use every export, narrow the unions, and must compile with
// `tsc --strict --noEmit` against the installed package. Also: no `any` in the declarations.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NODE_MODULES, PKG, installPackage } from './helpers.mjs';

const pkg = installPackage();
const TSC = join(NODE_MODULES, 'typescript', 'bin', 'tsc');

const consumer = `
import {
  validateCreate, validateUpdate, validateCreateJson, validateUpdateJson,
  normalizeCreate, normalizeUpdate, diff, applyUpdate, regions, createSchema, updateSchema,
  createValidator, updateValidator, locate,
} from 'kinesis-connector';
import type {
  Change, Connector, Context, DiffContext, DiffResult, Effect, Issue, IssueCode, NormalizeResult,
  RegionInfo, Request, Severity, UpdatePayload, ValidationResult, JsonSchema, StandardSchemaV1,
} from 'kinesis-connector';

const input: unknown = JSON.parse('{}');
const context: Context = { existingIds: ['a', 'b'], methods: ['_mtd_1'], current: input };

function describe(issue: Issue): string {
  const severity: Severity = issue.severity;
  const level: 'error' | 'warning' = severity;
  const line: number | undefined = issue.params.line;
  const suggestion: string | undefined = issue.params.suggestion;
  return \`\${level} \${issue.code} at \${issue.path}: \${issue.message} \${line ?? ''} \${suggestion ?? ''}\`;
}

const created: ValidationResult<Connector> = validateCreate(input, context);
if (created.valid && created.value !== undefined) {
  const c: Connector = created.value;
  const shards: number = c.shards;
  const region: string = c.region;
  const disabled: boolean = c.disabled;
  const method: string | undefined = c.dataProcessingMethodId;
  const user: string | undefined = c.credentials?.user;
  void [shards, region, disabled, method, user];
}
created.errors.map(describe);
created.warnings.map(describe);
validateCreate({ anything: 1 });

const updated = validateUpdate(input, { current: input });
if (updated.value !== undefined) {
  const u: UpdatePayload = updated.value;
  const m: string | null | undefined = u.dataProcessingMethodId;
  void m;
}
const fromText: boolean = validateCreateJson('{"type":"aws-kinesis"}').valid && validateUpdateJson('{}', context).valid;

const normalized: NormalizeResult = normalizeCreate(input);
const normalizedValue: unknown = normalized.value;
for (const change of normalizeUpdate(input).changes) {
  const p: string = change.path;
  const msg: string = change.message;
  void [p, msg];
}

function effectText(effect: Effect): string {
  switch (effect.kind) {
    case 'reshard': {
      const steps: number = effect.steps;
      return \`reshard \${effect.from} -> \${effect.to} in \${steps} steps via \${effect.plan.join(',')}\`;
    }
    case 'reconnect':
    case 'throttle':
    case 'method':
    case 'pause':
    case 'resume':
    case 'recreate':
      return effect.kind;
    default: {
      const never: never = effect;
      return never;
    }
  }
}

function changeText(change: Change): string {
  switch (change.kind) {
    case 'added':
      return \`+ \${change.path} = \${String(change.after)}\`;
    case 'removed':
      return \`- \${change.path} (was \${String(change.before)})\`;
    case 'changed':
      return \`~ \${change.path}: \${effectText(change.effect)}\`;
    default: {
      const never: never = change.kind;
      return never;
    }
  }
}

const d: DiffResult = diff(input, input);
const diffContext: DiffContext = { existingIds: ['a'], methods: ['m'] };
const planned: DiffResult = diff(input, input, diffContext);
function requestLine(request: Request): string {
  switch (request.method) {
    case 'PUT': {
      const body: UpdatePayload = request.body;
      return \`PUT \${request.id} \${JSON.stringify(body)}\`;
    }
    case 'DELETE':
      return \`DELETE \${request.id}\`;
    case 'POST': {
      const body: Connector = request.body;
      return \`POST \${body.id}\`;
    }
    default: {
      const never: never = request;
      return never;
    }
  }
}
planned.requests.map(requestLine);
const code: IssueCode = 'credentials.incomplete';
const isRegion: boolean = planned.errors.some((i) => i.code === 'region.unknown' || i.code === code);
const action: 'none' | 'update' | 'replace' = d.action;
d.changes.map(changeText);
const body: UpdatePayload = d.update;
const created2: Connector | undefined = d.create;
const shardsUpdate: number | undefined = body.shards;

const applied: ValidationResult<Connector> = applyUpdate(input, { shards: 2 });
const list: RegionInfo[] = regions();
const names: string[] = list.map((r) => r.name);
const codes: string[] = list.map((r) => r.code);
const schema: JsonSchema = createSchema();
const updSchema: JsonSchema = updateSchema();
const title: unknown = schema['title'];

// Standard Schema: what a form library infers from the validator.
type OutputOf<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never;
const creator = createValidator({ existingIds: ['a'] });
const creatorOut: OutputOf<typeof creator> extends Connector ? true : false = true;
const standard = creator['~standard'].validate(input);
if (!(standard instanceof Promise)) {
  if (standard.issues === undefined) {
    const connector: Connector = standard.value;
    void connector;
  } else {
    const first: string | undefined = standard.issues[0]?.message;
    const keys: readonly (PropertyKey | StandardSchemaV1.PathSegment)[] | undefined = standard.issues[0]?.path;
    void [first, keys];
  }
}
const updater: StandardSchemaV1<unknown, UpdatePayload> = updateValidator(() => ({ current: input }));
const at: { line: number; column: number } | null = locate('{}', '');

// Misuse must not compile:
// @ts-expect-error a create validator's output is not an update payload's shape alone
const wrongOut: StandardSchemaV1<unknown, { shards: string }> = creator;
// @ts-expect-error locate takes text and a pointer
locate(1, '');
// @ts-expect-error the text argument is a string
validateCreateJson(42);
// @ts-expect-error existingIds holds strings
validateCreate(input, { existingIds: [1] });
// @ts-expect-error no such export
import('kinesis-connector').then((m) => m.validate);
// @ts-expect-error results are not any
const notAny: number = created.errors;
// @ts-expect-error issue codes are a closed union
const notACode: IssueCode = 'region.unkown';
// @ts-expect-error a diff context has no current (the saved connector is the first argument)
diff(input, input, { current: input });
// @ts-expect-error a DELETE carries no body
diff(input, input).requests.filter((r) => r.method === 'DELETE').map((r) => r.body);

void [creatorOut, updater, at, wrongOut, fromText, normalizedValue, action, created2, shardsUpdate, applied, names, codes, updSchema, title, notAny, notACode, isRegion];
`;

const cjsConsumer = `
import kc = require('kinesis-connector');
import type { ValidationResult, Connector, Effect } from 'kinesis-connector';
const r: ValidationResult<Connector> = kc.validateCreate({});
const ok: boolean = r.valid;
const effects: Effect[] = kc.diff({}, {}).changes.map((c) => c.effect);
const regionCount: number = kc.regions().length;
// @ts-expect-error no such export
kc.validate;
export { ok, effects, regionCount };
`;

function tsc(dir, args) {
  return spawnSync(process.execPath, [TSC, ...args], { cwd: dir, encoding: 'utf8' });
}

test('a strict ESM and CJS consumer compiles against the installed declarations', () => {
  writeFileSync(join(pkg.dir, 'consumer.mts'), consumer);
  writeFileSync(join(pkg.dir, 'consumer.cts'), cjsConsumer);
  writeFileSync(
    join(pkg.dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        skipLibCheck: false,
        noUnusedLocals: false,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
      },
      files: ['consumer.mts', 'consumer.cts'],
    }),
  );
  const r = tsc(pkg.dir, ['-p', 'tsconfig.json', '--strict', '--noEmit']);
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
});

test('the declarations also work with bundler resolution', () => {
  writeFileSync(join(pkg.dir, 'consumer-bundler.ts'), consumer);
  writeFileSync(
    join(pkg.dir, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
      },
      files: ['consumer-bundler.ts'],
    }),
  );
  const r = tsc(pkg.dir, ['-p', 'tsconfig.bundler.json']);
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
});

test('a type error in the consumer fails tsc (the check can fail)', () => {
  writeFileSync(
    join(pkg.dir, 'broken.mts'),
    "import { validateCreate } from 'kinesis-connector';\nconst n: number = validateCreate({}).valid;\nvoid n;\n",
  );
  writeFileSync(
    join(pkg.dir, 'tsconfig.broken.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', types: [] }, files: ['broken.mts'] }),
  );
  const r = tsc(pkg.dir, ['-p', 'tsconfig.broken.json']);
  assert.notEqual(r.status, 0, 'tsc accepted a wrong type');
  assert.match(r.stdout, /TS2322/);
});

/** Strips comments and string literals, then looks for the `any` type. */
function findAny(source) {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
  return code.split('\n').filter((line) => /\bany\b/.test(line));
}

test('no `any` in pkg/index.d.ts or pkg/types.d.ts', () => {
  for (const file of ['index.d.ts', 'types.d.ts']) {
    const source = readFileSync(join(PKG, file), 'utf8');
    assert.deepEqual(findAny(source), [], `${file} uses any`);
  }
  assert.deepEqual(findAny('type A = { a: any };'), ['type A = { a: any };'], 'the any check itself');
});
