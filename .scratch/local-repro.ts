import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { startKinesalite } from '../kinesis/embedded';
import { createKinesisClient } from '../kinesis/client';
process.env.CONSUMER_NAME = 'repro'; process.env.LOCAL_DATA_DIR = '/tmp/repro';
const { handler } = await import('../test/local-runner/fixtures/effects-consumer');
const k = await startKinesalite({ path: '/tmp/persist/kinesalite' });
const c = createKinesisClient({ endpoint: k.endpoint });
const it = await c.send(new GetShardIteratorCommand({ StreamName: 'orders', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
const out = await c.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
const recs = out.Records!.map((r) => ({ kinesis: { kinesisSchemaVersion: '1.0', partitionKey: r.PartitionKey, sequenceNumber: r.SequenceNumber, data: Buffer.from(r.Data!).toString('base64'), approximateArrivalTimestamp: r.ApproximateArrivalTimestamp!.getTime() / 1000 }, eventSource: 'aws:kinesis', eventVersion: '1.0', eventID: `shardId-000000000000:${r.SequenceNumber}`, eventName: 'aws:kinesis:record', invokeIdentityArn: 'x', awsRegion: 'us-east-1', eventSourceARN: 'arn' }));
console.log(recs.length, Buffer.from(recs[0]!.kinesis.data, 'base64').toString().slice(0, 100));
const res = await handler({ Records: recs } as never, { awsRequestId: 'r', getRemainingTimeInMillis: () => 60000, functionName: 'repro' } as never);
console.log(res);
await k.stop();
// Same event through a bundled sandbox.
import { LocalLambdaService } from '../local/lambda/local-lambda-service';
import { DataDir } from '../local/data-dir';
import { definePipeline } from '../pipeline/define-pipeline';
const def = definePipeline({ name: 'p', streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } }, consumers: {}, functions: { repro: { entry: 'test/local-runner/fixtures/effects-consumer.ts' } } });
for (const bundle of [true, false]) {
  const svc = await LocalLambdaService.start({ definition: def, projectRoot: '/work/main', dataDir: new DataDir('/tmp/repro2'), region: 'us-east-1', bundle });
  const r = await svc.get('repro').invoke({ payload: JSON.stringify({ Records: recs }) });
  console.log('bundle', bundle, r.ok ? r.payload.slice(0, 200) : r.error);
  await svc.close();
}
