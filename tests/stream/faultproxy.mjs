// A fault-injecting HTTP proxy for the stream/ tests: it sits between our binary and
// kinesis-local and, on a schedule, answers with the faults the real service (or the network in
// front of it) produces. A program of the tests; nothing here is used by the product.
//
//   node faultproxy.mjs UPSTREAM_PORT SCHEDULE_JSON LOG_FILE
//
// Prints {"port": N} as its first line on stdout once it listens on 127.0.0.1:N.
// SCHEDULE_JSON maps a Kinesis operation (the X-Amz-Target suffix: PutRecords, GetRecords,
// ListShards, GetShardIterator, ...; "*" for any other) to a list of faults used in turn: the
// k-th request of that operation gets list[k % list.length]. An optional "after" object gives,
// per operation, how many requests pass untouched first, and "until" after how many requests
// the faults stop (so a run under faults can still settle); "slowMs" sets the delay of "slow".
//   ok        forwarded as it is
//   throttle  HTTP 400 ProvisionedThroughputExceededException (the service's JSON error shape)
//   limit     HTTP 400 LimitExceededException
//   500       HTTP 500 InternalFailure (JSON error shape)
//   503       HTTP 503 with a plain-text body, as a load balancer in front of the service sends
//   slow      forwarded after slowMs (default 3000)
//   drop      forwarded, then the connection is cut half way through the response body (the
//             upstream did the work: a PutRecords dropped so was written)
//   reset     the connection is cut before anything is forwarded
//   partial   PutRecords only: every third entry (from the second) fails with
//             ProvisionedThroughputExceededException, every seventh with InternalFailure; only
//             the other entries are forwarded, and the answer is merged back in request order
//   stall     SubscribeToShard only: the event stream is forwarded for its first
//             stallAfterChunks chunks (default 2), then nothing more while the connection stays
//             open (a half-open subscription)
// SubscribeToShard answers are event streams: they are forwarded as they come, never buffered.
// Every request is logged to LOG_FILE as one JSON line: {op, n, fault, entries?, forwarded?,
// failed?}; "forwarded" counts the PutRecords entries that reached the emulator, so a test can
// tell which duplicates a dropped answer may cause.
// Standard input takes commands, one per line: "cut" closes every open client connection.
import http from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [upstreamPort, scheduleJson, logFile] = process.argv.slice(2);
const schedule = JSON.parse(scheduleJson);
const after = schedule.after || {};
const until = schedule.until || {};
const slowMs = schedule.slowMs ?? 3000;
const stallAfterChunks = schedule.stallAfterChunks ?? 2;
writeFileSync(logFile, '');
const counts = new Map();
const sockets = new Set();
let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const JSON_TYPE = 'application/x-amz-json-1.1';

function log(entry) {
  appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

function faultFor(op) {
  const n = counts.get(op) ?? 0;
  counts.set(op, n + 1);
  const list = schedule[op] ?? schedule['*'] ?? ['ok'];
  const skip = after[op] ?? after['*'] ?? 0;
  const stop = until[op] ?? until['*'] ?? Infinity;
  if (n < skip || n >= stop || list.length === 0) return { n, fault: 'ok' };
  return { n, fault: list[(n - skip) % list.length] };
}

function forward(req, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

// An event stream (SubscribeToShard) forwarded chunk by chunk; with `stall`, only the first
// stallAfterChunks chunks.
function stream(req, body, res, entry, stall) {
  const headers = { ...req.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
    entry.status = answer.statusCode;
    log(entry);
    const out = { ...answer.headers };
    delete out.connection;
    res.writeHead(answer.statusCode, out);
    let chunks = 0;
    answer.on('data', (c) => {
      chunks += 1;
      if (!stall || chunks <= stallAfterChunks) res.write(c);
    });
    answer.on('end', () => { if (!stall) res.end(); });
    answer.on('error', () => req.socket.destroy());
  });
  up.on('error', (error) => {
    entry.fault = 'upstream-error';
    entry.error = String(error && error.code || error);
    log(entry);
    req.socket.destroy();
  });
  // The client went away: so does the upstream subscription.
  res.on('close', () => up.destroy());
  up.end(body);
}

function send(res, answer) {
  const headers = { ...answer.headers, 'content-length': String(answer.body.length) };
  delete headers['transfer-encoding'];
  delete headers.connection;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

function errorAnswer(status, type, message) {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'x-amzn-requestid': `fault-${Date.now()}`, 'x-amzn-errortype': type },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
  };
}

const rateExceeded = (stream) => `Rate exceeded for shard shardId-000000000000 in stream ${stream} under account 000000000000.`;

async function partialPut(req, body, entry) {
  const request = JSON.parse(body.toString('utf8'));
  const records = request.Records || [];
  const failed = new Map();
  records.forEach((_, i) => {
    if (i % 7 === 6) failed.set(i, ['InternalFailure', 'Internal service failure.']);
    else if (i % 3 === 1) failed.set(i, ['ProvisionedThroughputExceededException', rateExceeded(request.StreamName)]);
  });
  const kept = records.filter((_, i) => !failed.has(i));
  let upstream = { Records: [], FailedRecordCount: 0 };
  let answer;
  if (kept.length > 0) {
    answer = await forward(req, Buffer.from(JSON.stringify({ ...request, Records: kept })));
    if (answer.status !== 200) return answer;
    upstream = JSON.parse(answer.body.toString('utf8'));
  }
  let k = 0;
  const merged = records.map((_, i) => {
    if (failed.has(i)) {
      const [ErrorCode, ErrorMessage] = failed.get(i);
      return { ErrorCode, ErrorMessage };
    }
    return upstream.Records[k++];
  });
  const failedCount = merged.filter((r) => r.ErrorCode).length;
  entry.entries = records.length;
  entry.forwarded = kept.length;
  entry.failed = failed.size;
  return {
    status: 200,
    headers: answer ? answer.headers : { 'content-type': JSON_TYPE },
    body: Buffer.from(JSON.stringify({ FailedRecordCount: failedCount, Records: merged, EncryptionType: upstream.EncryptionType })),
  };
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const target = String(req.headers['x-amz-target'] || '');
  const op = target.includes('.') ? target.split('.').pop() : target || req.url;
  const { n, fault } = faultFor(op);
  const entry = { op, n, fault };
  const entries = () => {
    if (op !== 'PutRecords') return undefined;
    try { return JSON.parse(body.toString('utf8')).Records.length; } catch { return undefined; }
  };
  if (op === 'SubscribeToShard' && (fault === 'ok' || fault === 'stall')) {
    return stream(req, body, res, entry, fault === 'stall');
  }
  try {
    switch (fault) {
      case 'throttle':
        log(entry);
        return send(res, errorAnswer(400, 'ProvisionedThroughputExceededException', rateExceeded('?')));
      case 'limit':
        log(entry);
        return send(res, errorAnswer(400, 'LimitExceededException', 'Rate exceeded for stream under account 000000000000.'));
      case '500':
        log(entry);
        return send(res, errorAnswer(500, 'InternalFailure', 'Internal service failure.'));
      case '503':
        log(entry);
        return send(res, { status: 503, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Service Unavailable') });
      case 'reset':
        log(entry);
        return req.socket.destroy();
      case 'slow': {
        await new Promise((r) => setTimeout(r, slowMs));
        const answer = await forward(req, body);
        entry.entries = entries();
        entry.forwarded = entry.entries;
        log(entry);
        return send(res, answer);
      }
      case 'drop': {
        const answer = await forward(req, body);
        entry.entries = entries();
        entry.forwarded = answer.status === 200 ? entry.entries : 0;
        entry.status = answer.status;
        log(entry);
        const headers = { ...answer.headers, 'content-length': String(answer.body.length) };
        delete headers['transfer-encoding'];
        res.writeHead(answer.status, headers);
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)), () => req.socket.destroy());
        return;
      }
      case 'partial': {
        if (op !== 'PutRecords') break;
        const answer = await partialPut(req, body, entry);
        log(entry);
        return send(res, answer);
      }
      default:
        break;
    }
    const answer = await forward(req, body);
    entry.fault = 'ok';
    entry.entries = entries();
    entry.forwarded = answer.status === 200 ? entry.entries : 0;
    entry.status = answer.status;
    log(entry);
    send(res, answer);
  } catch (error) {
    // The emulator is down (or went away mid-request): the client sees its connection cut.
    entry.fault = 'upstream-error';
    entry.error = String(error && error.code || error);
    log(entry);
    req.socket.destroy();
  }
});
server.keepAliveTimeout = 60_000;
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'cut') {
    for (const socket of sockets) socket.destroy();
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }
});
process.stdin.on('end', () => process.exit(0));
