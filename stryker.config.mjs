// @ts-check
/**
 * StrykerJS mutation testing, one area at a time (see mutation/areas.mjs): `npm run test:mutation`
 * runs them all, `npm run test:mutation -- local-esm` one. Incremental: each area keeps its results in
 * reports/mutation/<area>.incremental.json, so a re-run only tests mutants whose code or tests changed.
 * Concurrency 1: the machine's two cores are shared.
 */
import { AREAS } from './mutation/areas.mjs';

const area = process.env['MUTATION_AREA'] ?? '';
const selected = AREAS[/** @type {keyof typeof AREAS} */ (area)];
if (!selected) throw new Error(`MUTATION_AREA must be one of: ${Object.keys(AREAS).join(', ')} (got "${area}")`);
// Optional narrowing (a part of an area, with its own report and incremental file): MUTATION_MUTATE=a.ts,b.ts MUTATION_PART=name
const mutate = process.env['MUTATION_MUTATE'] ? process.env['MUTATION_MUTATE'].split(',') : selected.mutate;
const report = process.env['MUTATION_PART'] ? `${area}.${process.env['MUTATION_PART']}` : area;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate,
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `reports/mutation/${report}.incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  ignorePatterns: ['dist', 'cdktf.out', '.data', 'reports', 'coverage', '.terraform', '.scratch', 'terraform.*.tfstate*'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: null },
};
