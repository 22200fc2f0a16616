import { definePipeline } from '../pipeline/define-pipeline';
import { startLocalPipeline } from '../local/pipeline-runner';
const definition = definePipeline({
  name: 'p', streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } },
  consumers: { all: { entry: 'test/local-runner/fixtures/effects-consumer.ts', stream: 'orders', mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true } } },
});
const a = await startLocalPipeline({ definition, dataDir: '/tmp/persist', persistStream: true, rate: 100, events: 20, seed: 1 });
console.log(await a.waitUntilAccounted(30000));
const sa = await a.stop();
console.log('first', sa.produced, sa.consumers[0]);
const b = await startLocalPipeline({ definition, dataDir: '/tmp/persist', persistStream: true, rate: 0 });
await new Promise((r) => setTimeout(r, 5000));
const sb = await b.stop();
console.log('second', sb.consumers[0]);
