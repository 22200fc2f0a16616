/**
 * The areas `npm run test:mutation` measures: the code mutated and the test files that judge it (only
 * tests written for that code, so a mutant is killed by the suite meant to catch it and runs stay short
 * on two shared cores). Left out on purpose: tests that spawn processes (a child process never sees the
 * active mutant) and test/producer/faults.test.ts (randomised faults: a mutant must not survive by luck).
 */
export const AREAS = {
  'consumer-runtime': {
    mutate: ['consumers/runtime/**/*.ts'],
    tests: ['test/consumer-runtime/**/*.test.ts'],
  },
  // local/esm in two parts: its pure rule modules, judged by the fast unit tests, and the mapping itself
  // (shard workers, polling, checkpoints), judged by the kinesalite suites; together they are local/esm.
  // The mapping's event-filter rule lives in kinesis/filter-pattern.ts (shared with the consumer runtime's
  // after-deaggregation filter and the ops redrive), so it is measured here with its unit tests.
  'local-esm-rules': {
    mutate: [
      'local/esm/batch-assembly.ts',
      'local/esm/batch-response.ts',
      'local/esm/checkpoint-tracker.ts',
      'local/esm/failure-plan.ts',
      'kinesis/filter-pattern.ts',
      'local/esm/lanes.ts',
      'local/esm/on-failure-record.ts',
      'local/esm/poll-cadence.ts',
      'local/esm/tumbling-window.ts',
    ],
    tests: [
      'test/local-esm/rules.test.ts',
      'test/local-esm/rule-boundaries.test.ts',
      'test/local-esm/filter-pattern.test.ts',
      'test/local-esm/filter-pattern-edges.test.ts',
    ],
  },
  'local-esm-mapping': {
    mutate: [
      'local/esm/**/*.ts',
      '!local/esm/batch-assembly.ts',
      '!local/esm/batch-response.ts',
      '!local/esm/checkpoint-tracker.ts',
      '!local/esm/failure-plan.ts',
      '!local/esm/lanes.ts',
      '!local/esm/on-failure-record.ts',
      '!local/esm/poll-cadence.ts',
      '!local/esm/tumbling-window.ts',
    ],
    // kinesis-local.test.ts is left out: it runs kinesis-mock, whose start-up alone outlasts a mutant run here.
    tests: [
      'test/local-esm/checkpointing.test.ts',
      'test/local-esm/filtering.test.ts',
      'test/local-esm/lifecycle.test.ts',
      'test/local-esm/mapping-boundaries.test.ts',
      'test/local-esm/mapping-lifecycle-edges.test.ts',
      'test/local-esm/metric-values.test.ts',
      'test/local-esm/parallelization.test.ts',
      'test/local-esm/persistent-checkpoints.test.ts',
      'test/local-esm/polling.test.ts',
      'test/local-esm/read-faults.test.ts',
      'test/local-esm/retries.test.ts',
      'test/local-esm/tumbling-windows.test.ts',
      // Unit tests of the small modules (session 5) and the shard worker's reading and processing edges.
      'test/local-esm/atomic-json-file.test.ts',
      'test/local-esm/checkpoint-store.test.ts',
      'test/local-esm/file-checkpoint-store.test.ts',
      'test/local-esm/progress-recorder.test.ts',
      'test/local-esm/signal.test.ts',
      'test/local-esm/stream-record.test.ts',
      'test/local-esm/shard-worker-reading.test.ts',
      'test/local-esm/shard-worker-processing.test.ts',
    ],
  },
  producers: {
    mutate: ['producers/**/*.ts', '!producers/cli.ts', '!producers/bin/**'],
    tests: [
      'test/producer/client.test.ts',
      'test/producer/hash-key.test.ts',
      'test/producer/limits.test.ts',
      'test/producer/metric-publisher.test.ts',
      'test/producer/metric-values.test.ts',
      'test/producer/producer.test.ts',
      'test/producer/retry-policy.test.ts',
    ],
  },
  'kinesis-kpl': {
    mutate: ['kinesis/kpl.ts'],
    tests: [
      'test/kinesis/kpl-format.test.ts',
      'test/consumer-runtime/kpl.test.ts',
      'test/consumer-runtime/decode-buffers.test.ts',
      'test/producer/producer.test.ts',
    ],
  },
};
