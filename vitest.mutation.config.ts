/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the project's, limited to the test files
 * of the area being mutated (MUTATION_TESTS, set by mutation/run.mjs from mutation/areas.mjs).
 * Not mergeConfig: it would append these files to the project's `include` instead of replacing it.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config';

const tests = (process.env['MUTATION_TESTS'] ?? '').split(',').filter((t) => t !== '');
if (tests.length === 0) throw new Error('MUTATION_TESTS is empty: run mutation testing with `npm run test:mutation`');

export default defineConfig({ ...base, test: { ...base.test, include: tests, maxWorkers: 1 } });
