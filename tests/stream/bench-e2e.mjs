// End-to-end benchmark of `kinesis-connector consume` against kinesis-mock:
//  1. drain of 20,000 records from a 4-shard stream, against the same drain by a plain
//     @aws-sdk/client-kinesis loop in the same run (same emulator, same stream);
//  2. peak RSS of the consumer while it reads an 8-shard stream.
//
//   node tests/stream/bench-e2e.mjs path/to/kinesis-connector [records]
//
// A measurement that cannot be made (the drain exits early or fails, the emulator stalls) is
// printed as PARTIAL or FAILED with the reason, the others still run, and the script exits 1
// at the end.
import {
  PutRecordsCommand, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startKinesis, sleep } from './bench-harness.mjs';

const binary = resolve(process.argv[2]);
const total = Number(process.argv[3] ?? 20000);
const { endpoint, client, createStream, stop: cleanup } = await startKinesis();

async function fill(name, count) {
  const value = (n) => JSON.stringify({ feedId: `feed-${n}`, app: { id: '_app_1', name: 'Plant_7' },
    destination: { object: { id: `_dev_${n % 97}`, name: 'Pump.7' }, property: { id: '_prp_5', name: 'temperature' } }, value: n % 100 });
  const started = Date.now();
  for (let i = 0; i < count; i += 500) {
    let batch = [];
    for (let n = i; n < Math.min(count, i + 500); n++) batch.push({ PartitionKey: `dev-${n % 97}`, Data: Buffer.from(value(n)) });
    while (batch.length) {
      const out = await client.send(new PutRecordsCommand({ StreamName: name, Records: batch }));
      batch = batch.filter((_, j) => out.Records[j].ErrorCode);
    }
  }
  return (Date.now() - started) / 1000;
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

function ourDrain(name, shards, count, { measureRss = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kc-bench-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    type: 'aws-kinesis', id: 'bench', credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: 'bench-secret-key-for-the-emulator-only000' },
    region: 'us-east-1', stream: name, shards, maxRecordsPerShardPerSecond: 10000, maxBytesPerShardPerSecond: 10485760 }));
  const args = ['consume', '--config', config, '--endpoint-url', endpoint, '--state-dir', join(dir, 'state'), '--idle-timeout', '2', '--stats-interval', '0'];
  const [cmd, argv] = measureRss ? ['/usr/bin/time', ['-f', 'maxrss_kb=%M', binary, ...args]] : [binary, args];
  return new Promise((res) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KINESIS_CONNECTOR_LOG: 'warn' } });
    let lines = 0; let seconds = null; let stderr = '';
    child.stdout.on('data', (chunk) => {
      for (const b of chunk) if (b === 10) lines++;
      if (seconds === null && lines >= count) seconds = Number(process.hrtime.bigint() - started) / 1e9;
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (error) => res({ lines, seconds: null, failed: String(error) }));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const rss = /maxrss_kb=(\d+)/.exec(stderr);
      const maxRssMb = rss ? Number(rss[1]) / 1024 : null;
      const last = stderr.trim().split('\n').filter((l) => !l.startsWith('maxrss_kb=')).pop() || '';
      if (code !== 0) return res({ lines, seconds: null, maxRssMb, failed: `consume exited ${code}: ${last}` });
      // Exit 0 before all were read would be a drain that stopped early: reported, not timed.
      if (lines < count) return res({ lines, seconds: null, maxRssMb, failed: `PARTIAL: exited 0 after ${lines} of ${count} records` });
      res({ lines, seconds, maxRssMb });
    });
  });
}

let failures = 0;
const show = (r) => {
  if (r.seconds !== null) return `${r.seconds.toFixed(2)} s`;
  failures++;
  return r.failed.startsWith('PARTIAL') ? r.failed : `FAILED (${r.failed})`;
};
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
  await measurement(`drain ${total} records, 4 shards`, async () => {
    await createStream('bench4', 4);
    const fillSeconds = await fill('bench4', total);
    console.log(`filled 4-shard stream with ${total} records in ${fillSeconds.toFixed(1)} s (emulator write speed)`);
    const ours = await ourDrain('bench4', 4, total);
    const reference = await referenceDrain('bench4', total);
    const ours2 = await ourDrain('bench4', 4, total);
    const timed = [ours, ours2].filter((r) => r.seconds !== null).map((r) => r.seconds);
    const verdict = timed.length === 0 ? 'no complete run to compare with'
      : Math.min(...timed) <= reference ? 'not slower than' : 'SLOWER than';
    console.log(`drain ${total} records, 4 shards: kinesis-connector ${show(ours)} / ${show(ours2)}, ` +
      `@aws-sdk/client-kinesis loop ${reference.toFixed(2)} s -> ${verdict} the reference`);
  });
  await measurement('peak RSS consuming 8 shards', async () => {
    await createStream('bench8', 8);
    await fill('bench8', 8000);
    const rss = await ourDrain('bench8', 8, 8000, { measureRss: true });
    const mb = rss.maxRssMb === null || rss.seconds === null ? 'not measured' : `${rss.maxRssMb.toFixed(1)} MB`;
    const run = rss.seconds === null ? ` (${show(rss)})` : '';
    console.log(`peak RSS consuming 8 shards (8000 records): ${mb} (target <= 60 MB)${run}`);
  });
} finally {
  cleanup();
}
if (failures > 0) {
  console.log(`bench-e2e: ${failures} measurement(s) failed or partial (see above)`);
  process.exitCode = 1;
}
