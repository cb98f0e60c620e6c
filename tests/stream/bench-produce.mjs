// Producer benchmarks against kinesis-mock (each measurement on a fresh stream: the emulator's
// PutRecords slows down as a stream fills):
//  1. throughput of `kinesis-connector produce` (no method, high rate limits) against a plain
//     @aws-sdk/client-kinesis PutRecords loop (500 per request, sequential) in the same run, on a
//     warmed-up emulator;
//  2. records per PutRecords request under that backlog (target >= 95% of 500);
//  3. achieved per-shard rate against the configured one over 10 s of steady state, from the
//     arrival timestamps read back by the JS SDK (target within +-5%).
//
//   node tests/stream/bench-produce.mjs path/to/kinesis-connector [records] [--rounds N]
//       [--compare path/to/other-kinesis-connector] [--throughput-only]
// A measurement that cannot be made (produce fails, the emulator stalls) is printed as FAILED
// with the reason, the others still run, and the script exits 1 at the end.
// With --rounds N the throughput measurement is repeated N times, the runs interleaved
// (ours, [other,] JS loop, ours, ...) on fresh streams, and the median of each is reported.
import {
  KinesisClient, CreateStreamCommand, DeleteStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); if (i < 0) return undefined; const [, v] = args.splice(i, 2); return v; };
const rounds = Number(flag('--rounds') ?? 1);
const compare = flag('--compare');
const throughputOnly = args.includes('--throughput-only') && args.splice(args.indexOf('--throughput-only'), 1);
const binary = resolve(args[0]);
const total = Number(args[1] ?? 5000);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });

const port = await freePort();
const emulator = spawn('node', ['main.js'], {
  cwd: join(root, 'node_modules/kinesis-local'),
  env: { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(port), KINESIS_MOCK_TLS_PORT: String(await freePort()), CREATE_STREAM_DURATION: '0ms', LOG_LEVEL: 'ERROR' },
  stdio: 'ignore',
});
const cleanup = () => { try { emulator.kill('SIGKILL'); } catch {} };
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
for (let i = 0; ; i++) {
  const up = await new Promise((res) => { const c = connect(port, '127.0.0.1', () => { c.end(); res(true); }).on('error', () => res(false)); });
  if (up) break;
  if (i > 300) throw new Error('emulator did not start');
  await sleep(100);
}
const endpoint = `http://127.0.0.1:${port}`;
const secret = 'bench-secret-key-for-the-emulator-only000';
const client = new KinesisClient({
  endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(), maxAttempts: 10,
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: secret },
});
const dir = mkdtempSync(join(tmpdir(), 'kc-bench-produce-'));

// The emulator allows 50 shards in all: streams are deleted once measured.
const deleteStream = (name) => client.send(new DeleteStreamCommand({ StreamName: name }));

async function createStream(name, shards) {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  while ((await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus !== 'ACTIVE') await sleep(100);
}

function dataValues(count) {
  const file = join(dir, `values-${count}.ndjson`);
  writeFileSync(file, execFileSync('node', [join(root, 'examples/generate-data-values.mjs'), String(count), '--devices', '97'], { maxBuffer: 1 << 30 }));
  return file;
}

function produce(stream, shards, input, recordsPerSecond, bin = binary) {
  const config = join(dir, `${stream}.json`);
  writeFileSync(config, JSON.stringify({
    type: 'aws-kinesis', id: 'bench', credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: secret },
    region: 'us-east-1', stream, shards, maxRecordsPerShardPerSecond: recordsPerSecond, maxBytesPerShardPerSecond: 10485760 }));
  const started = process.hrtime.bigint();
  let out;
  try {
    out = execFileSync(bin, ['produce', '--config', config, '--input', input, '--endpoint-url', endpoint,
      '--dead-letter', join(dir, `${stream}-dead.ndjson`), '--state-dir', join(dir, 'state'), '--stats-interval', '0', '--format', 'json'],
    { env: { KINESIS_CONNECTOR_LOG: 'error', ...process.env }, maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    const summary = (() => { try { return JSON.stringify(JSON.parse(String(error.stdout))); } catch { return ''; } })();
    throw new Error(`produce exited ${error.status ?? error.signal ?? '?'} ${summary}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, summary: JSON.parse(out) };
}

async function referencePut(stream, input) {
  const entries = readFileSync(input, 'utf8').split('\n').filter(Boolean).map((line) => {
    const v = JSON.parse(line);
    return { PartitionKey: v.destination.object.id, Data: Buffer.from(line) };
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < entries.length; i += 500) {
    let batch = entries.slice(i, i + 500);
    while (batch.length) {
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      batch = batch.filter((_, j) => out.Records[j].ErrorCode);
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function arrivals(stream) {
  const times = [];
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards;
  for (const shard of shards) {
    let { ShardIterator: it } = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (it) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      for (const r of page.Records) times.push(r.ApproximateArrivalTimestamp.getTime());
      it = page.NextShardIterator;
      if (page.Records.length === 0) break;
    }
  }
  return times.sort((a, b) => a - b);
}

let failures = 0;
/// Runs one measurement; an exception is printed as its failure and the next one still runs.
async function measurement(name, body) {
  try {
    await body();
  } catch (error) {
    failures++;
    console.log(`${name}: FAILED (${error && error.message || error})`);
  }
}

try {
  // 1 + 2: throughput and batch fill under a backlog (4 shards, limits far above the load).
  await measurement(`produce ${total} Data Values (4 shards)`, async () => {
  const input = dataValues(total);
  // The emulator runs on Node: its PutRecords gets much faster as its JIT warms up, so whoever
  // went first on a cold emulator would lose. Warm it up first, then alternate the order.
  for (let i = 0; i < 2; i++) {
    await createStream(`warmup-${i}`, 4);
    await referencePut(`warmup-${i}`, input);
    await client.send(new ListShardsCommand({ StreamName: `warmup-${i}` }));
    await deleteStream(`warmup-${i}`);
  }
  const runs = { ours: [], other: [], reference: [] };
  let summary;
  for (let round = 0; round < rounds; round++) {
    await createStream(`ours-${round}`, 4);
    await createStream(`reference-${round}`, 4);
    if (compare) await createStream(`other-${round}`, 4);
    // Rotate the order, so none always meets a fresher emulator.
    const steps = [
      async () => {
        const ours = produce(`ours-${round}`, 4, input, 100000);
        summary = ours.summary;
        runs.ours.push(ours.seconds);
      },
      async () => { runs.reference.push(await referencePut(`reference-${round}`, input)); },
    ];
    if (compare) steps.push(async () => { runs.other.push(produce(`other-${round}`, 4, input, 100000, resolve(compare)).seconds); });
    for (let i = 0; i < steps.length; i++) await steps[(i + round) % steps.length]();
    for (const name of ['ours', 'reference', ...(compare ? ['other'] : [])]) await deleteStream(`${name}-${round}`);
    if (rounds > 1) {
      console.log(`  round ${round + 1}: kinesis-connector ${runs.ours[round].toFixed(2)} s` +
        (compare ? `, ${compare} ${runs.other[round].toFixed(2)} s` : '') + `, JS loop ${runs.reference[round].toFixed(2)} s`);
    }
  }
  const oursSeconds = median(runs.ours);
  const reference = median(runs.reference);
  const oursRate = total / oursSeconds;
  const refRate = total / reference;
  const of = rounds > 1 ? ` (median of ${rounds} interleaved runs)` : '';
  console.log(`produce ${total} Data Values (4 shards)${of}: kinesis-connector ${oursSeconds.toFixed(2)} s (${oursRate.toFixed(0)} records/s, process start to exit), ` +
    `@aws-sdk/client-kinesis PutRecords loop ${reference.toFixed(2)} s (${refRate.toFixed(0)} records/s) -> ${(oursRate / refRate).toFixed(2)}x`);
  if (compare) {
    const other = median(runs.other);
    console.log(`  ${compare}: ${other.toFixed(2)} s (${(total / other).toFixed(0)} records/s) -> ${(reference / other).toFixed(2)}x`);
  }
  const perRequest = summary.sent / summary.requests;
  const fewest = Math.ceil(summary.sent / 500);
  console.log(`records per PutRecords request under a backlog: ${perRequest.toFixed(1)} (${summary.requests} requests, the fewest possible ${fewest}; ` +
    `${(perRequest / 5).toFixed(1)}% of 500, target >= 95%)`);
  });

  if (!throughputOnly) await measurement('per-shard rate', async () => {
    // 3: per-shard rate, 1 shard at 300 records/s for 12 s; steady state = 10 s after the first.
    const rate = 300;
    await createStream('rate', 1);
    const rateInput = dataValues(rate * 12);
    produce('rate', 1, rateInput, rate);
    const times = await arrivals('rate');
    if (times.length < rate * 11) throw new Error(`only ${times.length} of ${rate * 12} records arrived`);
    const t0 = times[0] + 1000;
    const inWindow = times.filter((t) => t >= t0 && t < t0 + 10000).length;
    const achieved = inWindow / 10;
    console.log(`per-shard rate over 10 s (1 shard, maxRecordsPerShardPerSecond ${rate}): ${achieved.toFixed(1)} records/s ` +
      `(${((achieved / rate - 1) * 100).toFixed(1)}% off, target within +-5%)`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
  cleanup();
}
if (failures > 0) {
  console.log(`bench-produce: ${failures} measurement(s) failed (see above)`);
  process.exitCode = 1;
}
