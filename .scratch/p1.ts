import { createKinesisClient, ensureStream } from '../kinesis/client';
import { startKinesalite } from '../kinesis/embedded';
import { KinesisProducer } from '../producers';
import { createFixtures } from '../schemas/fixtures';
import { readAllRecords } from '../test/support/read-stream';
const emu = await startKinesalite();
const client = createKinesisClient({ endpoint: emu.endpoint });
await ensureStream(client, { name: 's', shardCount: 4 });
for (const aggregation of [false, true]) {
  const p = new KinesisProducer({ streamName: 's', endpoint: emu.endpoint, aggregation, ordered: aggregation });
  const f = createFixtures({ seed: 3 });
  const events = f.take(3000);
  const t0 = performance.now();
  const res = await Promise.all(events.map((e) => p.put(e)));
  await p.close();
  console.log(aggregation, 'ms', performance.now() - t0, p.stats(), res[0], res[2999]);
}
const recs = await readAllRecords(client, 's');
console.log('stored', recs.length);
client.destroy(); await emu.stop();
