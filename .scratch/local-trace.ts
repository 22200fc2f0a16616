import { definePipeline } from '../pipeline/define-pipeline';
import { startLocalPipeline } from '../local/pipeline-runner';
const entry = 'test/local-runner/fixtures/effects-consumer.ts';
const mapping = { batchSize: 50, startingPosition: 'TRIM_HORIZON' as const, reportBatchItemFailures: true, parallelizationFactor: 2 };
const definition = definePipeline({
  name: 'orders',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    'order-metrics': { entry, stream: 'orders', timeoutSeconds: 10, mapping },
  },
});
const t0 = performance.now();
const p = await startLocalPipeline({ definition, dataDir: '/tmp/e2e-trace', rate: 100, events: 200, seed: 3 });
console.log('started', Math.round(performance.now() - t0));
const t = performance.now();
for (let i = 0; i < 30; i++) {
  const s = p.snapshot();
  const c = s.consumers[0]!; const f = s.functions[0]!;
  console.log(Math.round(performance.now() - t), s.streams[0]!.records, c.processed, c.quarantined, c.missing, c.inFlight, f.invocations, f.sandboxes, c.iteratorAgeMs);
  if (s.streams[0]!.records === 200 && c.missing === 0) break;
  await new Promise((r) => setTimeout(r, 300));
}
await p.stop();
