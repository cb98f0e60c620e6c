// Polling against enhanced fan-out (`consume --efo`), in one run against kinesis-mock:
//  1. put-to-stdout latency, p50 and p99: records written at a steady rate (default 200/s for
//     30 s, one PutRecords call each, the send time in the record) while the consumer runs; the
//     latency of a record is when its line reached our stdout reader minus when its put began;
//  2. drain throughput: the same filled 4-shard stream drained by polling and by fan-out.
//
//   node tests/stream/bench-efo.mjs path/to/kinesis-connector [--rate 200] [--seconds 30] [--drain 5000]
//
// A measurement that cannot be made is printed as FAILED or PARTIAL with the reason; the other
// still runs, and the script exits 1 at the end.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startKinesis, sleep, secret } from './bench-harness.mjs';
import { createInterface } from 'node:readline';

const binary = resolve(process.argv[2]);
const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = flag('rate', 200);
const seconds = flag('seconds', 30);
const drainCount = flag('drain', 5000);
const now = () => performance.timeOrigin + performance.now();

const { endpoint, client, createStream, stop: stopEmulator } = await startKinesis();
const children = new Set();
const cleanup = () => {
  for (const c of children) { try { c.kill('SIGKILL'); } catch {} }
  stopEmulator();
};
process.on('exit', cleanup);

/// A consumer process; `lines` gets each stdout line with the time it arrived.
function consumer(stream, shards, extra, onLine) {
  const dir = mkdtempSync(join(tmpdir(), 'kc-bench-efo-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    type: 'aws-kinesis', id: 'bench', credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: secret },
    region: 'us-east-1', stream, shards, maxRecordsPerShardPerSecond: 10000, maxBytesPerShardPerSecond: 10485760 }));
  const args = ['consume', '--config', config, '--endpoint-url', endpoint, '--state-dir', join(dir, 'state'), '--stats-interval', '0', ...extra];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KINESIS_CONNECTOR_LOG: 'warn,kinesis_stream=info' } });
  children.add(child);
  let stderr = '';
  let ready = 0;
  child.stderr.on('data', (d) => {
    stderr += d;
    ready = (stderr.match(/reading shard|subscribed|subscribing to the shard/g) || []).length;
  });
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, now()));
  const exited = new Promise((res) => child.on('exit', (code) => { children.delete(child); rmSync(dir, { recursive: true, force: true }); res(code); }));
  return { child, exited, ready: () => ready >= shards, stderr: () => stderr };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/// Records at `rate`/s for `seconds` s into a fresh stream while a consumer reads it.
async function latency(mode) {
  const stream = `latency-${mode}`;
  await createStream(stream, 2);
  const latencies = [];
  const extra = mode === 'efo' ? ['--efo', 'bench-latency'] : [];
  const c = consumer(stream, 2, extra, (line) => {
    try {
      const record = JSON.parse(line);
      if (typeof record.data?.t === 'number') latencies.push(now() - record.data.t);
    } catch {}
  });
  const deadline = Date.now() + 60_000;
  while (!c.ready()) {
    if (Date.now() > deadline) throw new Error(`consumer not reading after 60 s: ${c.stderr().trim().split('\n').pop()}`);
    await sleep(50);
  }
  await sleep(1500); // the subscriptions (or the first polls) are up
  // One PutRecords every 50 ms with a twentieth of a second's records: a steady rate the
  // emulator keeps up with (one call per record it does not, at 200/s).
  const total = rate * seconds;
  const perBatch = Math.max(1, Math.round(rate / 20));
  const started = now();
  const inFlight = new Set();
  let failedPuts = 0;
  for (let n = 0; n < total; n += perBatch) {
    const due = started + (n * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const t = now();
    const records = [];
    for (let k = n; k < Math.min(total, n + perBatch); k++) records.push({ PartitionKey: `dev-${k % 53}`, Data: Buffer.from(JSON.stringify({ n: k, t })) });
    const put = client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))
      .then((out) => { failedPuts += out.FailedRecordCount || 0; })
      .catch(() => { failedPuts += records.length; })
      .finally(() => inFlight.delete(put));
    inFlight.add(put);
  }
  await Promise.all(inFlight);
  const achieved = total / ((now() - started) / 1000);
  const waitUntil = Date.now() + 15_000;
  while (latencies.length < total - failedPuts && Date.now() < waitUntil) await sleep(100);
  c.child.kill('SIGTERM');
  await c.exited;
  if (latencies.length === 0) throw new Error('no record reached stdout');
  const sorted = [...latencies].sort((a, b) => a - b);
  return { got: latencies.length, total, failedPuts, achieved, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

async function fill(stream, count) {
  for (let i = 0; i < count; i += 500) {
    let batch = [];
    for (let n = i; n < Math.min(count, i + 500); n++) batch.push({ PartitionKey: `dev-${n % 97}`, Data: Buffer.from(JSON.stringify({ n, value: n % 100 })) });
    while (batch.length) {
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      batch = batch.filter((_, j) => out.Records[j].ErrorCode);
    }
  }
}

/// Seconds from start until `count` lines (the consumer then exits on its idle timeout).
async function drain(stream, mode, count) {
  let lines = 0;
  let done = null;
  let first = null;
  const started = now();
  const extra = ['--idle-timeout', '3', ...(mode === 'efo' ? ['--efo', 'bench-drain'] : [])];
  const c = consumer(stream, 4, extra, (_, at) => {
    lines++;
    if (first === null) first = at;
    if (lines >= count && done === null) done = { total: (at - started) / 1000, reading: (at - first) / 1000 };
  });
  const code = await c.exited;
  if (code !== 0) throw new Error(`consume exited ${code}: ${c.stderr().trim().split('\n').pop()}`);
  if (done === null) throw new Error(`PARTIAL: exited 0 after ${lines} of ${count} records`);
  return done;
}

let failures = 0;
async function measurement(name, body) {
  try {
    await body();
  } catch (error) {
    failures++;
    const message = String(error && error.message || error);
    console.log(`${name}: ${message.startsWith('PARTIAL') ? message : `FAILED (${message})`}`);
  }
}

try {
  const rows = {};
  for (const mode of ['polling', 'efo']) {
    await measurement(`put-to-stdout latency, ${mode}`, async () => {
      const r = await latency(mode);
      rows[mode] = r;
      const partial = r.got < r.total - r.failedPuts ? ` PARTIAL: ${r.got} of ${r.total} read` : '';
      if (partial) failures++;
      console.log(`put-to-stdout latency, ${mode === 'efo' ? 'fan-out (--efo)' : 'polling'}, ${r.total} records at ${r.achieved.toFixed(0)}/s: ` +
        `p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms${partial}`);
    });
  }
  await measurement(`drain ${drainCount} records, 4 shards, polling vs fan-out`, async () => {
    await createStream('drain', 4);
    await fill('drain', drainCount);
    const polling = await drain('drain', 'polling', drainCount);
    const efo = await drain('drain', 'efo', drainCount);
    const show = (d) => `${d.total.toFixed(2)} s from start (${(drainCount / d.total).toFixed(0)} records/s), ${d.reading.toFixed(2)} s first to last record`;
    console.log(`drain ${drainCount} records, 4 shards: polling ${show(polling)}; fan-out ${show(efo)} (includes registering the consumer)`);
  });
} finally {
  cleanup();
}
if (failures > 0) {
  console.log(`bench-efo: ${failures} measurement(s) failed or partial (see above)`);
  process.exitCode = 1;
}
