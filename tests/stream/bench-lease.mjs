// Benchmarks of `consume --lease-table` against kinesis-mock (npm kinesis-local) and dynalite,
// both started here on free loopback ports:
//  1. takeover after kill -9 of one of two workers (4 shards, default failover 10 s): from the
//     kill until the survivor has gained both of the dead worker's leases; median and max of N
//     runs (target: failover + one renewal interval = 13.4 s; KCL 2.x users report ~20 s,
//     awslabs/amazon-kinesis-client#474);
//  2. graceful handoff on SIGTERM: from the signal until the survivor holds the released leases
//     (target <= 2 s);
//  3. lease-table requests per worker per minute at steady state, 3 workers on 6 shards (the
//     kinesis_connector_lease_table_requests_total counter of --metrics-addr);
//  4. drain throughput of one 6-shard stream with 1, 2 and 3 workers (a new table each time, so
//     each drain reads everything), next to a plain @aws-sdk/client-kinesis loop.
// A measurement that fails is printed as FAILED with its reason; the others still run.
//
//   node tests/stream/bench-lease.mjs path/to/kinesis-connector [--runs N] [--records N]
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

const args = process.argv.slice(2);
const binary = resolve(args[0]);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const runs = option('--runs', 5);
const records = option('--records', 6000);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });
const waitPort = async (port, what) => {
  for (let i = 0; ; i++) {
    const up = await new Promise((res) => { const c = connect(port, '127.0.0.1', () => { c.end(); res(true); }).on('error', () => res(false)); });
    if (up) return;
    if (i > 600) throw new Error(`${what} did not start`);
    await sleep(100);
  }
};

const children = new Set();
const cleanup = () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } };
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const kinesisPort = await freePort();
children.add(spawn('node', ['main.js'], {
  cwd: join(root, 'node_modules/kinesis-local'),
  env: { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(kinesisPort), KINESIS_MOCK_TLS_PORT: String(await freePort()), CREATE_STREAM_DURATION: '0ms', LOG_LEVEL: 'ERROR' },
  stdio: 'ignore',
}));
const dynamoPort = await freePort();
children.add(spawn('node', [join(root, 'node_modules/dynalite/cli.js'), '--port', String(dynamoPort), '--createTableMs', '0'], { stdio: 'ignore' }));
await waitPort(kinesisPort, 'kinesis-local');
await waitPort(dynamoPort, 'dynalite');
const endpoint = `http://127.0.0.1:${kinesisPort}`;
const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bench-secret-key-for-the-emulator-only000' };
const client = new KinesisClient({ endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(), maxAttempts: 10, credentials });

async function createStream(name, shards) {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  while ((await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus !== 'ACTIVE') await sleep(100);
}

async function fill(name, count) {
  for (let i = 0; i < count; i += 500) {
    let batch = [];
    for (let n = i; n < Math.min(count, i + 500); n++) batch.push({ PartitionKey: `dev-${n % 97}`, Data: Buffer.from(JSON.stringify({ n, value: n % 100 })) });
    while (batch.length) {
      const out = await client.send(new PutRecordsCommand({ StreamName: name, Records: batch }));
      batch = batch.filter((_, j) => out.Records[j].ErrorCode);
    }
  }
}

async function referenceDrain(name, count) {
  const started = process.hrtime.bigint();
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards;
  let got = 0;
  await Promise.all(shards.map(async (shard) => {
    let { ShardIterator: it } = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (it && got < count) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      got += out.Records.length;
      it = out.NextShardIterator;
      if (out.Records.length === 0) await sleep(200);
    }
  }));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const dir = mkdtempSync(join(tmpdir(), 'kc-bench-lease-'));
function configFor(stream, shards) {
  const path = join(dir, `${stream}.json`);
  writeFileSync(path, JSON.stringify({
    type: 'aws-kinesis', id: 'bench', credentials: { user: credentials.accessKeyId, password: credentials.secretAccessKey },
    region: 'us-east-1', stream, shards, maxRecordsPerShardPerSecond: 10000, maxBytesPerShardPerSecond: 10485760 }));
  return path;
}

// One worker: its stdout lines counted, its "lease gained" log lines watched as they arrive.
function worker(config, table, id, { metricsPort } = {}) {
  const argv = ['consume', '--config', config, '--endpoint-url', endpoint, '--state-dir', join(dir, 'state', id),
    '--stats-interval', '0', '--lease-table', table, '--worker-id', id, '--dynamodb-endpoint-url', dynamoEndpoint];
  if (metricsPort) argv.push('--metrics-addr', `127.0.0.1:${metricsPort}`);
  const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KINESIS_CONNECTOR_LOG: 'warn,kinesis_stream=info' } });
  children.add(child);
  const w = { id, child, lines: 0, gains: [], held: 0, exited: null, log: '' };
  child.stdout.on('data', (chunk) => { for (const b of chunk) if (b === 10) w.lines++; });
  let pending = '';
  child.stderr.on('data', (chunk) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop();
    for (const line of parts) {
      w.log += `${line}\n`;
      if (line.includes('lease gained')) {
        const from = /previous_owner="([^"]*)"/.exec(line)?.[1];
        w.gains.push({ at: process.hrtime.bigint(), from });
        w.held++;
      }
      if (/lease lost|stopped reading the shard \(lease no longer held\)|shard finished/.test(line)) w.held = Math.max(0, w.held - (line.includes('no longer held') ? 0 : 1));
    }
  });
  child.on('exit', (code, signal) => { w.exited = code ?? signal; children.delete(child); });
  return w;
}

async function until(what, limitSeconds, done) {
  const deadline = Date.now() + limitSeconds * 1000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function stop(w) {
  if (w.exited !== null) return;
  w.child.kill('SIGTERM');
  await until(`${w.id} to exit`, 60, () => w.exited !== null);
}

const seconds = (from, to) => Number(to - from) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const results = [];
async function measure(name, body) {
  try { results.push(`${name}: ${await body()}`); } catch (e) { results.push(`${name}: FAILED (${e.message})`); }
  console.log(results[results.length - 1]);
}

let tableNumber = 0;
// Two workers on 4 shards, settled at 2 each; then `signal` to worker a; seconds until b has
// gained a's two leases.
async function handoff(config, signal) {
  const table = `bench-handoff-${++tableNumber}`;
  const a = worker(config, table, 'worker-a');
  await until('worker-a to take the 4 leases', 60, () => a.gains.length >= 4);
  const b = worker(config, table, 'worker-b');
  await until('worker-b to steal 2 leases', 120, () => b.gains.length >= 2);
  // A random phase against the renewals (every 3.3 s): the takeover counts from the dead
  // worker's last renewal, so a fixed delay would measure one point of the range only.
  await sleep(1000 + Math.random() * 3400);
  const before = b.gains.length;
  const t0 = process.hrtime.bigint();
  a.child.kill(signal);
  await until('worker-b to gain the 2 leases of worker-a', 120, () => b.gains.length >= before + 2);
  const took = seconds(t0, b.gains[before + 1].at);
  await stop(b);
  if (a.exited === null) await until('worker-a to exit', 60, () => a.exited !== null);
  return took;
}

try {
  await createStream('handoff', 4);
  const handoffConfig = configFor('handoff', 4);
  await measure(`takeover after kill -9 (2 workers, 4 shards, failover 10 s), ${runs} runs`, async () => {
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await handoff(handoffConfig, 'SIGKILL'));
    return `median ${median(times).toFixed(1)} s, max ${Math.max(...times).toFixed(1)} s ` +
      `[${times.map((t) => t.toFixed(1)).join(', ')}] (target <= 13.4 s; KCL 2.x reported ~20 s)`;
  });
  await measure(`graceful handoff on SIGTERM, ${runs} runs`, async () => {
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await handoff(handoffConfig, 'SIGTERM'));
    return `median ${median(times).toFixed(2)} s, max ${Math.max(...times).toFixed(2)} s ` +
      `[${times.map((t) => t.toFixed(2)).join(', ')}] (target <= 2 s)`;
  });

  await createStream('steady', 6);
  await measure('lease-table requests per worker per minute, 3 workers, 6 idle shards', async () => {
    const config = configFor('steady', 6);
    const table = `bench-steady-${++tableNumber}`;
    const ports = [await freePort(), await freePort(), await freePort()];
    const ws = ports.map((p, i) => worker(config, table, `worker-${i}`, { metricsPort: p }));
    await until('3 workers to settle at 2 leases', 120, () => ws.every((w) => w.held === 2));
    await sleep(5000);
    const scrape = (port) => new Promise((res, rej) => {
      http.get(`http://127.0.0.1:${port}/metrics`, (r) => { let t = ''; r.on('data', (d) => { t += d; }); r.on('end', () => res(t)); }).on('error', rej);
    });
    const count = async (port) => Number(/kinesis_connector_lease_table_requests_total (\d+)/.exec(await scrape(port))?.[1] ?? NaN);
    const window = 60;
    const start = await Promise.all(ports.map(count));
    await sleep(window * 1000);
    const end = await Promise.all(ports.map(count));
    for (const w of ws) await stop(w);
    const perMinute = end.map((e, i) => (e - start[i]) * 60 / window);
    if (perMinute.some(Number.isNaN)) throw new Error('no request counter in the metrics');
    return `${perMinute.map((n) => n.toFixed(0)).join(' / ')} requests/min ` +
      '(one scan every failover/6 plus a renewal per lease every failover/3; KCL default: a renewal per lease every 3.3 s and a scan every 20 s)';
  });

  await createStream('drain', 6);
  await fill('drain', records);
  const drainConfig = configFor('drain', 6);
  for (const n of [1, 2, 3]) {
    await measure(`drain ${records} records, 6 shards, ${n} worker(s)`, async () => {
      const table = `bench-drain-${++tableNumber}`;
      const started = process.hrtime.bigint();
      const ws = [];
      for (let i = 0; i < n; i++) ws.push(worker(drainConfig, table, `worker-${i}`));
      await until(`${records} records`, 300, () => ws.reduce((s, w) => s + w.lines, 0) >= records);
      const took = seconds(started, process.hrtime.bigint());
      for (const w of ws) await stop(w);
      return `${took.toFixed(2)} s = ${(records / took).toFixed(0)} records/s (process start to the last record, settling included)`;
    });
  }
  await measure(`drain ${records} records, 6 shards, reference @aws-sdk/client-kinesis loop`, async () => {
    const took = await referenceDrain('drain', records);
    return `${took.toFixed(2)} s = ${(records / took).toFixed(0)} records/s`;
  });
} finally {
  console.log('\nlease benchmarks:');
  for (const r of results) console.log(`  ${r}`);
  cleanup();
  rmSync(dir, { recursive: true, force: true });
}
