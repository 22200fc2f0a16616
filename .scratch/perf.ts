import { spawn } from 'node:child_process';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { KinesisProducer } from '../producers/index';
import { createLogger } from '../telemetry/logger';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
async function emu() {
  const child = spawn(process.execPath, ['-e', "const k=require('kinesalite')({createStreamMs:10});k.listen(0,'127.0.0.1',()=>console.log(k.address().port))"], { cwd: '/work/main', stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout!.once('data', (c) => r(Number(String(c).trim()))));
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
const N = 20000;
const payload = new Uint8Array(Number(process.env.SIZE ?? 100)).fill(97);
const keys = Array.from({ length: 5000 }, (_, i) => `key-${i}`);
for (const mode of (process.env.MODES ?? 'ceiling,producer').split(',')) {
  const e = await emu();
  const client = createKinesisClient({ endpoint: e.endpoint, maxAttempts: 1 });
  await ensureStream(client, { name: 's', shardCount: 4 });
  const t0 = performance.now();
  const lat: number[] = [];
  if (mode === 'ceiling') {
    const reqs = [];
    for (let i = 0; i < N; i += 500) reqs.push(new PutRecordsCommand({ StreamName: 's', Records: Array.from({ length: 500 }, (_, j) => ({ PartitionKey: keys[(i + j) % 5000]!, Data: payload })) }));
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < reqs.length) { const t = performance.now(); await client.send(reqs[next++]!); lat.push(performance.now() - t); } }));
  } else {
    const p = new KinesisProducer({ streamName: 's', endpoint: e.endpoint, logger: createLogger({ name: 'x', level: 'warn' }), lingerMs: mode === 'producer-linger0' ? 0 : 20, maxInFlightRequests: mode === 'producer-inflight16' ? 16 : 8 });
    const puts = [];
    if (mode.startsWith('events')) {
      const { createFixtures } = await import('../schemas/fixtures');
      const f = createFixtures({ seed: 42 });
      const evs = Array.from({ length: N }, (_, i) => f.orderPlaced({ lines: i % 2 ? 11 : 10 }));
      const t1 = performance.now();
      for (let i = 0; i < N; i++) {
        if (mode === 'events-raw') puts.push(p.putRecord({ partitionKey: evs[i]!.data.orderId, data: Buffer.from(JSON.stringify(evs[i])) }));
        else if (mode === 'events-rawkeys') puts.push(p.putRecord({ partitionKey: keys[i % 5000]!, data: Buffer.from(JSON.stringify(evs[i])) }));
        else puts.push(p.put(evs[i]));
        if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
      }
      console.log('loop ms', performance.now() - t1);
    } else
    for (let i = 0; i < N; i++) { puts.push(p.putRecord({ partitionKey: keys[i % 5000]!, data: payload })); if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r)); }
    await Promise.all(puts); await p.close();
    console.log(p.stats());
  }
  const s = (performance.now() - t0) / 1000;
  console.log(mode, Math.round(N / s), 'rec/s', lat.length ? `lat avg ${(lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(0)}ms` : '');
  client.destroy(); e.stop();
}
