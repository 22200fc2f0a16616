import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand, PutRecordCommand, DescribeStreamSummaryCommand, DescribeStreamCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { startEngine, type EngineName } from '../kinesis/embedded';

async function tryit(label: string, fn: () => Promise<unknown>) {
  try { const r = await fn(); console.log(label, JSON.stringify(r, (k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v))?.slice(0, 800)); }
  catch (e) { const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } }; console.log(label, 'ERROR', err.name, err.$metadata?.httpStatusCode, err.message.slice(0, 300)); }
}

for (const name of (process.argv[2] ? [process.argv[2]] : ['kinesalite', 'kinesis-local']) as EngineName[]) {
  const t0 = Date.now();
  const e = await startEngine(name);
  console.log('=====', name, 'started in', Date.now() - t0, 'ms');
  const c = createKinesisClient({ endpoint: e.endpoint, region: 'us-east-1', maxAttempts: 1 });
  await ensureStream(c, { name: 's', shardCount: 2 });
  await tryit('summary', () => c.send(new DescribeStreamSummaryCommand({ StreamName: 's' })).then((o) => o.StreamDescriptionSummary));
  await tryit('listShards', () => c.send(new ListShardsCommand({ StreamName: 's' })).then((o) => ({ Shards: o.Shards, NextToken: o.NextToken })));
  await tryit('listShards maxResults1', () => c.send(new ListShardsCommand({ StreamName: 's', MaxResults: 1 })).then((o) => ({ n: o.Shards?.length, NextToken: o.NextToken })));
  await tryit('listShards ARN', () => c.send(new ListShardsCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' })).then((o) => ({ n: o.Shards?.length })));
  const before = new Date();
  await new Promise((r) => setTimeout(r, 1100));
  const mid = new Date();
  const p1 = await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('one') }));
  console.log('put1', p1.ShardId, p1.SequenceNumber, p1.SequenceNumber?.length);
  const p2 = await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('two') }));
  console.log('put2', p2.ShardId, p2.SequenceNumber, BigInt(p2.SequenceNumber!) > BigInt(p1.SequenceNumber!));
  await new Promise((r) => setTimeout(r, 1100));
  const after = new Date();
  const p3 = await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.from('three') }));
  console.log('put3', p3.SequenceNumber);
  const pr = await c.send(new PutRecordsCommand({ StreamName: 's', Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }, { PartitionKey: 'b', Data: Buffer.from('y') }] }));
  console.log('putRecords', JSON.stringify(pr.Records));
  const shard = p1.ShardId!;
  const iter = async (input: Record<string, unknown>) => (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: shard, ...input } as never))).ShardIterator!;
  const read = async (it: string) => { const o = await c.send(new GetRecordsCommand({ ShardIterator: it })); return { recs: (o.Records ?? []).map((r) => [Buffer.from(r.Data!).toString(), r.SequenceNumber, r.ApproximateArrivalTimestamp?.toISOString(), r.EncryptionType]), mbl: o.MillisBehindLatest, next: !!o.NextShardIterator, children: o.ChildShards } };
  await tryit('TRIM_HORIZON', async () => read(await iter({ ShardIteratorType: 'TRIM_HORIZON' })));
  await tryit('AT_TIMESTAMP before', async () => read(await iter({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: before })));
  await tryit('AT_TIMESTAMP mid', async () => read(await iter({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: mid })));
  await tryit('AT_TIMESTAMP after', async () => read(await iter({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: after })));
  await tryit('AT_TIMESTAMP future', async () => read(await iter({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.now() + 3600_000) })));
  await tryit('AT_TIMESTAMP no ts', async () => read(await iter({ ShardIteratorType: 'AT_TIMESTAMP' })));
  await tryit('LATEST', async () => read(await iter({ ShardIteratorType: 'LATEST' })));
  await tryit('AT_SEQ p2', async () => read(await iter({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: p2.SequenceNumber })));
  await tryit('AFTER_SEQ p2', async () => read(await iter({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: p2.SequenceNumber })));
  const bumped = (BigInt(p3.SequenceNumber!) + 1n).toString();
  await tryit('AT_SEQ p3+1 (nonexistent)', async () => read(await iter({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: bumped })));
  await tryit('AT_SEQ garbage', async () => read(await iter({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '123' })));
  await tryit('AT_SEQ other shard seq', async () => read(await iter({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: pr.Records!.find((r) => r.ShardId !== shard)?.SequenceNumber })));
  await tryit('bad shard', async () => c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000099', ShardIteratorType: 'LATEST' })));
  await tryit('bad stream', async () => c.send(new GetShardIteratorCommand({ StreamName: 'nope', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })));
  await tryit('bad iterator', async () => c.send(new GetRecordsCommand({ ShardIterator: 'AAAAAAAAAAAA' })));
  await tryit('limit 0', async () => c.send(new GetRecordsCommand({ ShardIterator: await iter({ ShardIteratorType: 'TRIM_HORIZON' }), Limit: 0 })));
  await tryit('limit 10001', async () => c.send(new GetRecordsCommand({ ShardIterator: await iter({ ShardIteratorType: 'TRIM_HORIZON' }), Limit: 10001 })));
  await tryit('limit 1', async () => c.send(new GetRecordsCommand({ ShardIterator: await iter({ ShardIteratorType: 'TRIM_HORIZON' }), Limit: 1 })).then((o) => ({ n: o.Records?.length, mbl: o.MillisBehindLatest })));
  await tryit('putRecords 501', async () => c.send(new PutRecordsCommand({ StreamName: 's', Records: Array.from({ length: 501 }, () => ({ PartitionKey: 'a', Data: Buffer.from('x') })) })));
  await tryit('putRecord 1MiB+1', async () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.alloc(1024 * 1024 + 1) })));
  await tryit('putRecord pk 257', async () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a'.repeat(257), Data: Buffer.from('x') })));
  await tryit('putRecord empty data', async () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', Data: Buffer.alloc(0) })));
  await tryit('putRecord ExplicitHashKey 2^128', async () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', ExplicitHashKey: (2n ** 128n).toString(), Data: Buffer.from('x') })));
  await tryit('putRecord SequenceNumberForOrdering', async () => c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'a', SequenceNumberForOrdering: p3.SequenceNumber, Data: Buffer.from('x') })));
  await tryit('describeStream', () => c.send(new DescribeStreamCommand({ StreamName: 's' })).then((o) => o.StreamDescription?.Shards?.map((s) => s.SequenceNumberRange)));
  c.destroy();
  await e.stop();
}
