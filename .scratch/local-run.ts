import { definePipeline } from '../pipeline/define-pipeline';
import { startLocalPipeline } from '../local/pipeline-runner';
const entry = 'test/local-runner/fixtures/effects-consumer.ts';
const mapping = { batchSize: 50, startingPosition: 'TRIM_HORIZON' as const, reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 3, parallelizationFactor: 2 };
const definition = definePipeline({
  name: 'e2e',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    all: { entry, stream: 'orders', timeoutSeconds: 10, mapping },
    placed: { entry, stream: 'orders', timeoutSeconds: 10, mapping: { ...mapping, filterPatterns: [{ data: { type: ['order.placed'] } }] } },
  },
});
const t = Date.now();
const p = await startLocalPipeline({ definition, dataDir: '/tmp/e2e-data', rate: 200, events: 300, invalidFraction: 0.1, seed: 7, esmTiming: { pollIntervalMs: 100 } });
console.log('started', Date.now() - t);
console.log(await p.waitUntilAccounted(30000), Date.now() - t);
console.log(JSON.stringify(p.snapshot(), null, 1).slice(0, 3000));
const s = await p.stop();
console.log(JSON.stringify(s, null, 1), Date.now() - t);
