// Sample device data: Data Values as the platform streams them to a connector, one JSON per line.
// Deterministic (a seeded generator), so tests and the demo can predict what the method keeps.
//
//   node examples/generate-data-values.mjs [COUNT=300] [--seed N] [--bad-line K] [--devices D]
//
// Properties rotate temperature, pressure, humidity: a third of the values are temperature
// changes. --bad-line K makes line K (1-based) a line that is not JSON, to show the dead letter.
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const count = Number(args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? 300);
const badLine = flag('--bad-line', 0);
const devices = flag('--devices', 8);
let seed = flag('--seed', 7) >>> 0;
const random = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const hex = (n, width) => n.toString(16).padStart(width, '0');
const properties = [
  { name: 'temperature', id: '_prp_100000000000000005', value: () => Math.round((60 + random() * 30) * 10) / 10 },
  { name: 'pressure', id: '_prp_100000000000000006', value: () => Math.round((1.5 + random()) * 100) / 100 },
  { name: 'humidity', id: '_prp_100000000000000007', value: () => Math.round(30 + random() * 40) },
];
const start = Date.parse('2026-03-01T10:00:00.000Z');
const lines = [];
for (let n = 0; n < count; n++) {
  if (n + 1 === badLine) {
    lines.push('{"feedId": "truncated by a flaky gateway", "value": ');
    continue;
  }
  const d = n % devices;
  const property = properties[n % properties.length];
  const device = { id: `_dev_1000000000000000${hex(d, 2)}`, name: `Pump.${d + 1}` };
  const value = property.value();
  const sourceTime = new Date(start + n * 250).toISOString();
  lines.push(JSON.stringify({
    feedId: `5f1c0e2a-8d3b-4c71-9a0e-${hex(n, 12)}`,
    account: { id: '_acc_100000000000000001', name: 'acme' },
    app: { id: '_app_100000000000000002', name: 'Plant_7' },
    sourceTime,
    serverTime: new Date(start + n * 250 + 120).toISOString(),
    tags: [`line-${(d % 3) + 1}`],
    annotations: { sn: `SN-77-${hex(d, 4)}` },
    source: { ip: `203.0.113.${d + 1}:50123`, object: device, protocol: 'mqtt', apiKeyId: '_key_100000000000000004' },
    destination: { object: device, property: { id: property.id, name: property.name }, state: { [property.name]: value } },
    value,
  }));
}
process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
