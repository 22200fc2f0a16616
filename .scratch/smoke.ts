import { createKinesisClient, ensureStream, listAllShards } from '/work/main/kinesis/client';
import { startKinesalite, startKinesisLocal } from '/work/main/kinesis/embedded';
import { ShardMap } from '/work/main/kinesis/hash-key';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
for (const start of [startKinesalite, startKinesisLocal]) {
  const t0 = Date.now();
  const emu = await start();
  console.log(emu.engine, emu.endpoint, 'started in', Date.now() - t0);
  const client = createKinesisClient({ endpoint: emu.endpoint });
  await ensureStream(client, { name: 's1', shardCount: 4 });
  const shards = await listAllShards(client, 's1');
  const map = ShardMap.fromShards(shards);
  let ok = 0;
  for (let i = 0; i < 50; i++) {
    const out = await client.send(new PutRecordCommand({ StreamName: 's1', PartitionKey: 'k' + i, Data: Buffer.from('x') }));
    if (out.ShardId === map.shardForPartitionKey('k' + i)?.shardId) ok++;
  }
  console.log('placement ok', ok, '/50', 'ready in', Date.now() - t0);
  client.destroy();
  await emu.stop();
}
