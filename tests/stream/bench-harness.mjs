// What the stream benchmarks share: kinesis-local on free loopback ports (killed on exit), the
// official JS client for it, and stream creation. A program of the benchmarks only.
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const secret = 'bench-secret-key-for-the-emulator-only000';
const freePort = () => new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });

/// Starts kinesis-local and waits for its port; `{ endpoint, client, createStream, stop }`.
export async function startKinesis() {
  const port = await freePort();
  const emulator = spawn('node', ['main.js'], {
    cwd: join(root, 'node_modules/kinesis-local'),
    env: { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(port), KINESIS_MOCK_TLS_PORT: String(await freePort()), CREATE_STREAM_DURATION: '0ms', LOG_LEVEL: 'ERROR' },
    stdio: 'ignore',
  });
  const stop = () => { try { emulator.kill('SIGKILL'); } catch {} };
  process.on('exit', stop);
  process.on('SIGINT', () => process.exit(130));
  for (let i = 0; ; i++) {
    const up = await new Promise((res) => { const c = connect(port, '127.0.0.1', () => { c.end(); res(true); }).on('error', () => res(false)); });
    if (up) break;
    if (i > 300) throw new Error('emulator did not start');
    await sleep(100);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new KinesisClient({
    endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(), maxAttempts: 10,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: secret },
  });
  async function createStream(name, shards) {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    while ((await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus !== 'ACTIVE') await sleep(100);
  }
  return { endpoint, client, createStream, stop };
}
