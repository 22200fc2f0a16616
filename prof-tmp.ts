import { Writable } from 'node:stream';
import type { Context, KinesisStreamRecord } from 'aws-lambda';
import { InMemoryQuarantineSink, createKinesisHandler } from './consumers/runtime/index';
import { createFixtures } from './schemas/fixtures';
import { registry, type OrderEvent, orderPlacedV1 } from './schemas/index';
const f = createFixtures({ seed: 2026 });
const records: KinesisStreamRecord[] = [];
for (let i = 0; i < 10000; i++) {
  const e = f.orderPlaced({ lines: 10 });
  const s = (49590338271490256608559692538361571095921575989136588898n + BigInt(i)).toString();
  records.push({ kinesis: { kinesisSchemaVersion: '1.0', partitionKey: e.data.orderId, sequenceNumber: s, data: Buffer.from(JSON.stringify(e)).toString('base64'), approximateArrivalTimestamp: Date.now() / 1000 }, eventSource: 'aws:kinesis', eventVersion: '1.0', eventID: `shardId-000000000000:${s}`, eventName: 'x', invokeIdentityArn: 'x', awsRegion: 'x', eventSourceARN: 'arn' });
}
const discard = new Writable({ write: (_c, _e, d) => d() });
const ctx = { awsRequestId: 'b', functionName: 'b', getRemainingTimeInMillis: () => 900000 } as unknown as Context;
const mode = process.argv[2];
const t: number[] = [];
for (let r = 0; r < 20; r++) {
  const h = createKinesisHandler<OrderEvent>({ consumerName: 'b', registry, quarantine: new InMemoryQuarantineSink(), logDestination: discard, metrics: { writer: () => undefined }, handlers: { 'order.placed': () => undefined } });
  const c0 = process.cpuUsage();
  if (mode === 'floor') { for (const rec of records) orderPlacedV1.schema.safeParse(JSON.parse(Buffer.from(rec.kinesis.data, 'base64').toString('utf8'))); }
  else await h({ Records: records }, ctx);
  const c = process.cpuUsage(c0);
  if (r >= 5) t.push((c.user + c.system) / 1000);
}
t.sort((a, b) => a - b); console.log(mode, t[t.length >> 1]);
