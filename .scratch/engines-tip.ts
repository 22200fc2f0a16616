import { DescribeStreamSummaryCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { startKinesalite } from '../kinesis/embedded';
import { LocalEventSourceMapping } from '../local/esm/index';
import { mappingSchema } from '../pipeline/definition-schema';
import { createLogger } from '../telemetry/logger';
const e = await startKinesalite();
const c = createKinesisClient({ endpoint: e.endpoint, region: 'us-east-1' });
await ensureStream(c, { name: 's', shardCount: 1 });
const arn = (await c.send(new DescribeStreamSummaryCommand({ StreamName: 's' }))).StreamDescriptionSummary!.StreamARN!;
await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('{"old":1}') }));
await new Promise((r) => setTimeout(r, 20));
const ts = new Date().toISOString();
await new Promise((r) => setTimeout(r, 20));
let delivered = 0;
const m = new LocalEventSourceMapping({ kinesis: c, consumerName: 'x', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:x', streamName: 's', streamArn: arn, region: 'us-east-1',
  settings: mappingSchema.parse({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: ts }), invoke: async (ev) => { delivered += (ev as { Records: unknown[] }).Records.length; return { ok: true, response: null, durationMs: 0 }; },
  onFailure: { write: async () => undefined }, logger: createLogger({ name: 'x', level: 'warn' }), timing: { pollIntervalMs: 20 } });
await m.start();
await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('{"new":1}') }));
await new Promise((r) => setTimeout(r, 3000));
console.log('delivered after 3s', delivered, JSON.stringify(m.stats().shards));
const r = await Promise.race([m.stop().then(() => 'stopped'), new Promise((res) => setTimeout(() => res('stop() still pending after 5s'), 5000))]);
console.log(r);
process.exit(0);
