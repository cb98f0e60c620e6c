// Shared by the tests of pkg/: builds the package from the current glue and wasm, packs it with
// `npm pack`, installs the tarball into a fresh project under os.tmpdir() and loads it from there
// by name, so every test runs against what a user would install (no mocks, no source imports).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG = join(ROOT, 'pkg');
export const NODE_MODULES = join(ROOT, 'node_modules');
export const WASM = process.env.KC_WASM ? resolve(process.env.KC_WASM) : join(PKG, 'kinesis_connector.wasm');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A valid create payload (the seed's example with a 20-char key id and a 40-char secret). */
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz';
export function validConnector() {
  return {
    type: 'aws-kinesis',
    id: 'dc.kinesis.1',
    credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: SECRET },
    region: 'us-west-2',
    stream: 'test',
    shards: 1,
    maxRecordsPerShardPerSecond: 1000,
    maxBytesPerShardPerSecond: 1000000,
    disabled: false,
  };
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Builds pkg/index.* from the current wasm and glue; throws when the wasm is not built yet. */
export function buildPackage() {
  if (!existsSync(WASM)) {
    throw new Error(`${WASM} does not exist: run \`make wasm\` first`);
  }
  run(process.execPath, [join(PKG, 'build.mjs'), WASM]);
}

let installed = null;

/**
 * Packs pkg/ and installs the tarball into a new project in os.tmpdir() (once per test process).
 * Returns { dir, tarball, load() } where load() imports the package by name from that project.
 */
export function installPackage() {
  if (installed) return installed;
  buildPackage();
  const dir = mkdtempSync(join(os.tmpdir(), 'kc-consumer-'));
  const packed = JSON.parse(run('npm', ['pack', PKG, '--pack-destination', dir, '--json', '--silent'], { cwd: dir }));
  const tarball = join(dir, packed[0].filename);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'kc-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--silent', tarball], { cwd: dir });
  // A module inside the consumer project that re-exports the package by name: importing it
  // resolves `kinesis-connector` exactly as the consumer's own code would.
  writeFileSync(join(dir, 'entry.mjs'), "export * from 'kinesis-connector';\n");
  installed = {
    dir,
    tarball,
    files: packed[0].files.map((f) => f.path),
    load: () => import(pathToFileURL(join(dir, 'entry.mjs')).href),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  process.once('exit', () => {
    if (!process.env.KC_KEEP_TMP) installed?.cleanup();
  });
  return installed;
}

/** Runs `node file` in the consumer project; returns stdout (throws with stderr on failure). */
export function runNode(dir, file, args = []) {
  return run(process.execPath, [file, ...args], { cwd: dir });
}

export function fixtureFiles() {
  const dir = join(ROOT, 'tests', 'fixtures');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, cases: JSON.parse(readFileSync(join(dir, f), 'utf8')).cases }));
}

/** Launches headless Chromium with a fresh user-data dir; returns { context, close }. */
export async function launchChromium() {
  const { chromium } = await import(pathToFileURL(join(NODE_MODULES, 'playwright-core', 'index.mjs')).href);
  const userDataDir = mkdtempSync(join(os.tmpdir(), 'kc-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The secret must not appear in a result outside `value` / `update` / `create`. */
export function withoutSecretCarriers(result) {
  if (result === null || typeof result !== 'object') return result;
  const { value: _v, update: _u, create: _c, ...rest } = result;
  // A request's body is the update or create body (the request to send); its method and id show.
  if (Array.isArray(rest.requests)) rest.requests = rest.requests.map(({ body: _b, ...request }) => request);
  return rest;
}

export { execFileSync };
