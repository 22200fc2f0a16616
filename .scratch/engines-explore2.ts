import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand, PutRecordCommand, SplitShardCommand, DescribeStreamSummaryCommand, UpdateShardCountCommand, MergeShardsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream, waitForStreamActive } from '../kinesis/client';
import { startEngine, type EngineName } from '../kinesis/embedded';

async function tryit(label: string, fn: () => Promise<unknown>) {
  try { const r = await fn(); console.log(label, JSON.stringify(r, (k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString() : k === '$metadata' ? undefined : v))?.slice(0, 900)); }
  catch (e) { const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } }; console.log(label, 'ERROR', err.name, err.$metadata?.httpStatusCode, err.message.slice(0, 300)); }
}

for (const name of (process.argv[2] ? [process.argv[2]] : ['kinesalite', 'kinesis-local']) as EngineName[]) {
  const e = await startEngine(name);
  console.log('=====', name);
  const c = createKinesisClient({ endpoint: e.endpoint, region: 'us-east-1', maxAttempts: 1 });
  await tryit('create ON_DEMAND', () => c.send(new CreateStreamCommand({ StreamName: 'od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } })));
  await new Promise((r) => setTimeout(r, 500));
  await tryit('od summary', () => c.send(new DescribeStreamSummaryCommand({ StreamName: 'od' })).then((o) => o.StreamDescriptionSummary));
  await ensureStream(c, { name: 's', shardCount: 1 });
  // LATEST iterator obtained before puts
  const latest = (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' }))).ShardIterator!;
  const p = await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('after-latest') }));
  await tryit('LATEST then put', () => c.send(new GetRecordsCommand({ ShardIterator: latest })).then((o) => o.Records?.map((r) => Buffer.from(r.Data!).toString())));
  await tryit('iterator reuse', () => c.send(new GetRecordsCommand({ ShardIterator: latest })).then((o) => o.Records?.map((r) => Buffer.from(r.Data!).toString())));
  // AT_TIMESTAMP exact arrival
  const tr = await c.send(new GetRecordsCommand({ ShardIterator: (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator! }));
  const arr = tr.Records![0]!.ApproximateArrivalTimestamp!;
  console.log('arrival', arr.toISOString(), arr.getTime() % 1000);
  await tryit('AT_TIMESTAMP exact', async () => (await c.send(new GetRecordsCommand({ ShardIterator: (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: arr }))).ShardIterator! }))).Records?.length);
  if (name !== 'kinesalite') await tryit('AT_TIMESTAMP exact+1ms', async () => (await c.send(new GetRecordsCommand({ ShardIterator: (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(arr.getTime() + 1) }))).ShardIterator! }))).Records?.length);
  await tryit('1MiB data + key', () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'abc', Data: Buffer.alloc(1024 * 1024) })).then((o) => o.ShardId));
  await tryit('PutRecords 5MiB+', () => c.send(new PutRecordsCommand({ StreamName: 's', Records: Array.from({ length: 6 }, () => ({ PartitionKey: 'a', Data: Buffer.alloc(1000 * 1000) })) })).then((o) => o.FailedRecordCount));
  // Split
  await tryit('split', () => c.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() })));
  await waitForStreamActive(c, 's');
  await tryit('listShards after split', () => c.send(new ListShardsCommand({ StreamName: 's' })).then((o) => o.Shards));
  await tryit('listShards filter AT_LATEST', () => c.send(new ListShardsCommand({ StreamName: 's', ShardFilter: { Type: 'AT_LATEST' } })).then((o) => o.Shards?.map((s) => s.ShardId)));
  let it: string | undefined = (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  for (let i = 0; i < 5 && it; i++) {
    const o = await c.send(new GetRecordsCommand({ ShardIterator: it }));
    console.log('closed read', i, o.Records?.length, 'next', !!o.NextShardIterator, 'mbl', o.MillisBehindLatest, 'children', JSON.stringify(o.ChildShards));
    it = o.NextShardIterator;
  }
  await tryit('put to closed via EHK', () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', ExplicitHashKey: '1', Data: Buffer.from('x') })).then((o) => o.ShardId));
  await tryit('updateShardCount', () => c.send(new UpdateShardCountCommand({ StreamName: 's', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' })));
  await tryit('merge', () => c.send(new MergeShardsCommand({ StreamName: 's', ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' })));
  // throughput
  await ensureStream(c, { name: 't', shardCount: 1 });
  const t0 = Date.now();
  let n = 0;
  for (let b = 0; b < 4; b++) { await c.send(new PutRecordsCommand({ StreamName: 't', Records: Array.from({ length: 250 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.alloc(300) })) })); n += 250; }
  console.log('PutRecords', n, 'in', Date.now() - t0, 'ms');
  c.destroy();
  await e.stop();
}
