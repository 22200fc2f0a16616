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
  'local-esm': {
    mutate: ['local/esm/**/*.ts'],
    tests: ['test/local-esm/**/*.test.ts'],
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
    tests: ['test/consumer-runtime/kpl.test.ts', 'test/consumer-runtime/decode-buffers.test.ts', 'test/producer/producer.test.ts'],
  },
};
