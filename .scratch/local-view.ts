import { definePipeline } from '../pipeline/define-pipeline';
import { startLocalPipeline } from '../local/pipeline-runner';
import { renderView, renderSummary, plain } from '../local/live-view';
const entry = 'test/local-runner/fixtures/effects-consumer.ts';
const mapping = { batchSize: 50, startingPosition: 'TRIM_HORIZON' as const, reportBatchItemFailures: true, parallelizationFactor: 2 };
const definition = definePipeline({
  name: 'orders',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    'order-metrics': { entry, stream: 'orders', timeoutSeconds: 10, mapping, metricsNamespace: 'Orders/Business' },
    'order-review': { entry, stream: 'orders', timeoutSeconds: 10, mapping: { ...mapping, filterPatterns: [{ data: { type: ['order.placed'] } }] } },
  },
  functions: { 'review-intake': { entry } },
});
const p = await startLocalPipeline({ definition, dataDir: '/tmp/e2e-view', rate: 100, events: 200, seed: 3 });
await p.waitUntilAccounted(30000);
const lines = renderView(p.snapshot());
for (const l of lines) console.log(plain(l).length.toString().padStart(3), plain(l));
const s = await p.stop();
for (const l of renderSummary(s)) console.log(plain(l).length.toString().padStart(3), plain(l));
