// The documentation's create example (seed/aws-kinesis.md), verbatim.
export const seedCreate = {
  type: "aws-kinesis",
  id: "dc.kinesis.1",
  credentials: { user: "AKIAJH44BQER4BMM6Q", password: "mypassword" },
  region: "us-west-2",
  stream: "test",
  shards: 1,
  maxRecordsPerShardPerSecond: 1000,
  maxBytesPerShardPerSecond: 1000000,
  disabled: false,
};

// Saved connectors as the platform returns them: never with the password.
export const savedExamples = [
  {
    label: "dc.kinesis.1: the documentation example, 1 shard",
    value: {
      type: "aws-kinesis",
      id: "dc.kinesis.1",
      credentials: { user: "AKIAJH44BQER4BMM6Q" },
      region: "us-west-2",
      stream: "test",
      shards: 1,
      maxRecordsPerShardPerSecond: 1000,
      maxBytesPerShardPerSecond: 1000000,
      disabled: false,
    },
  },
  {
    label: "telemetry.eu: 8 shards with a processing method",
    value: {
      type: "aws-kinesis",
      id: "telemetry.eu",
      credentials: { user: "AKIAIOSFODNN7EXAMPLE" },
      region: "eu-central-1",
      stream: "plant-telemetry",
      shards: 8,
      maxRecordsPerShardPerSecond: 500,
      maxBytesPerShardPerSecond: 524288,
      dataProcessingMethodId: "_mtd_695058884056880409",
      disabled: false,
    },
  },
  {
    label: "archive.us: paused archive stream",
    value: {
      type: "aws-kinesis",
      id: "archive.us",
      credentials: { user: "AKIAI44QH8DHBEXAMPLE" },
      region: "us-east-1",
      stream: "device-archive",
      shards: 2,
      maxRecordsPerShardPerSecond: 200,
      maxBytesPerShardPerSecond: 262144,
      disabled: true,
    },
  },
];
