// An independent Kinesis client for the stream/ integration tests and benchmarks: the official
// JS SDK (HTTP/1.1 handler, which the emulator's plain port needs). Never our own producer.
//
//   node kinesis.mjs ENDPOINT create STREAM SHARDS
//   node kinesis.mjs ENDPOINT put STREAM FILE      FILE: NDJSON {partitionKey, data} or {partitionKey, dataBase64}
//   node kinesis.mjs ENDPOINT reshard STREAM TARGET
//   node kinesis.mjs ENDPOINT shards STREAM        prints the shard list as JSON
//   node kinesis.mjs ENDPOINT put-kpl STREAM KEY=DATA...  one KPL-aggregated record (built here from the format)
//   node kinesis.mjs ENDPOINT drain STREAM COUNT   reads every shard until COUNT records; prints {records, seconds}
//   node kinesis.mjs ENDPOINT consumers STREAM     the stream's registered consumers as JSON [{name, status}]
//   node kinesis.mjs ENDPOINT dump STREAM          every record of every shard, one JSON line each:
//                                                  {shardId, sequenceNumber, partitionKey, data (UTF-8 text), arrival (ms)}
// KINESIS_REGION sets the region (default us-east-1); the emulator keeps streams per region.
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  UpdateShardCountCommand, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand,
  ListStreamConsumersCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const [endpoint, command, stream, arg] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint,
  region: process.env.KINESIS_REGION || 'us-east-1',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test-secret-key-for-the-emulator-only00' },
  requestHandler: new NodeHttpHandler(),
  maxAttempts: 10,
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitActive() {
  for (let i = 0; i < 600; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (out.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`stream ${stream} did not become ACTIVE`);
}

async function listShards() {
  const shards = [];
  let token;
  do {
    const out = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    shards.push(...out.Shards);
    token = out.NextToken;
  } while (token);
  return shards;
}

async function put(file) {
  const entries = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const e = JSON.parse(l);
    const data = e.dataBase64 !== undefined ? Buffer.from(e.dataBase64, 'base64') : Buffer.from(e.data, 'utf8');
    return { PartitionKey: e.partitionKey, Data: data };
  });
  let sent = 0;
  // Keep per-key order: one batch at a time, and a failed entry is retried before anything after it.
  for (let i = 0; i < entries.length; i += 500) {
    let batch = entries.slice(i, i + 500);
    for (let attempt = 0; batch.length > 0; attempt++) {
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      const failed = out.Records.findIndex((r) => r.ErrorCode);
      if (failed < 0) { sent += batch.length; break; }
      sent += failed;
      batch = batch.slice(failed);
      if (attempt > 50) throw new Error('PutRecords keeps failing');
      await sleep(50 * (attempt + 1));
    }
  }
  console.log(JSON.stringify({ sent }));
}

async function drain(count) {
  const started = process.hrtime.bigint();
  const shards = await listShards();
  let total = 0;
  await Promise.all(shards.map(async (shard) => {
    let { ShardIterator: it } = await client.send(new GetShardIteratorCommand({
      StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (it && total < count) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      total += out.Records.length;
      it = out.NextShardIterator;
      if (out.Records.length === 0) await sleep(200);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ records: total, seconds }));
}

async function dump() {
  const out = [];
  for (const shard of await listShards()) {
    let { ShardIterator: it } = await client.send(new GetShardIteratorCommand({
      StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (it) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      for (const r of page.Records) {
        out.push(JSON.stringify({ shardId: shard.ShardId, sequenceNumber: r.SequenceNumber, partitionKey: r.PartitionKey,
          data: Buffer.from(r.Data).toString('utf8'), arrival: r.ApproximateArrivalTimestamp?.getTime() }));
      }
      it = page.NextShardIterator;
      if (page.Records.length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
    }
  }
  if (out.length) console.log(out.join('\n'));
}

// The KPL aggregation format: magic, protobuf AggregatedRecord, md5 of the protobuf.
function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
const field = (no, bytes) => Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
function aggregate(pairs) {
  const keys = [...new Set(pairs.map(([k]) => k))];
  const parts = keys.map((k) => field(1, Buffer.from(k)));
  for (const [k, d] of pairs) {
    const rec = Buffer.concat([varint(1 << 3), varint(keys.indexOf(k)), field(3, Buffer.from(d))]);
    parts.push(field(3, rec));
  }
  const body = Buffer.concat(parts);
  const md5 = createHash('md5').update(body).digest();
  return Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, md5]);
}

switch (command) {
  case 'put-kpl': {
    const pairs = process.argv.slice(5).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
    await client.send(new PutRecordsCommand({ StreamName: stream, Records: [{ PartitionKey: pairs[0][0], Data: aggregate(pairs) }] }));
    break;
  }
  case 'create':
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: Number(arg) }));
    await waitActive();
    break;
  case 'put': await put(arg); break;
  case 'reshard':
    await client.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: Number(arg), ScalingType: 'UNIFORM_SCALING' }));
    await sleep(200);
    await waitActive();
    break;
  case 'shards': console.log(JSON.stringify(await listShards())); break;
  case 'drain': await drain(Number(arg)); break;
  case 'dump': await dump(); break;
  case 'consumers': {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const out = await client.send(new ListStreamConsumersCommand({ StreamARN: summary.StreamDescriptionSummary.StreamARN }));
    console.log(JSON.stringify((out.Consumers || []).map((c) => ({ name: c.ConsumerName, status: c.ConsumerStatus }))));
    break;
  }
  default: throw new Error(`unknown command ${command}`);
}
