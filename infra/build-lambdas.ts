/**
 * `npm run build:lambdas [-- --source-maps]`: bundle every function of the pipeline definition and print
 * each size. Source maps only on request (a debug choice, see infra/bundle.ts).
 * Also a library (tests, other tools): `buildLambdas()` builds the same bundles and returns their results.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline as referencePipeline, type PipelineDefinition } from '../pipeline';
import { buildBundles, type BundleResult } from './bundle';
import { initBytesBudget } from './bundle-budgets';
import { DEFAULT_BUNDLE_DIR } from './app';

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** The table `npm run build:lambdas` prints: what each cold start loads against its budget, the lazy chunks, the zip. */
export function formatBundleTable(results: readonly BundleResult[]): string {
  const rows = [
    ['function', 'entry', 'init loads', 'budget', 'lazy chunks', 'source maps', 'zipped'],
    ...results.map((r) => [r.name, r.entry, kib(r.initBytes), kib(initBytesBudget(r.name)), kib(r.lazyBytes), kib(r.sourceMapBytes), kib(r.zippedBytes)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Functions whose bundle loads more at init than its budget (infra/bundle-budgets.ts). */
export function overBudget(results: readonly BundleResult[]): BundleResult[] {
  return results.filter((r) => r.initBytes > initBytesBudget(r.name));
}

export interface BuildLambdasOptions {
  /** Default: the reference pipeline (pipeline/pipeline.ts). */
  definition?: PipelineDefinition;
  /** Default: this repository's root. */
  projectRoot?: string;
  /** Default: env LAMBDA_BUNDLE_DIR, else dist/lambdas under the project root. */
  outDir?: string;
  /** Linked source maps (debug choice). Default false. */
  sourceMaps?: boolean;
}

/** Builds every function's bundle exactly as `npm run build:lambdas` (and so `npm run synth`) does. */
export async function buildLambdas(options: BuildLambdasOptions = {}): Promise<{ outDir: string; results: BundleResult[] }> {
  const projectRoot = options.projectRoot ?? resolve(import.meta.dirname, '..');
  const outDir = options.outDir ?? resolve(projectRoot, process.env['LAMBDA_BUNDLE_DIR'] ?? DEFAULT_BUNDLE_DIR);
  const results = await buildBundles({ definition: options.definition ?? referencePipeline, projectRoot, outDir, sourceMaps: options.sourceMaps === true });
  return { outDir, results };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--source-maps');
  if (unknown.length > 0) {
    process.stderr.write(`build:lambdas: unknown option ${unknown.join(' ')} (usage: npm run build:lambdas [-- --source-maps])\n`);
    process.exitCode = 2;
    return;
  }
  try {
    const { outDir, results } = await buildLambdas({ sourceMaps: args.includes('--source-maps') });
    process.stdout.write(`${formatBundleTable(results)}\nbundles in ${outDir}\n`);
    // A warning, not a failure: test/infra/bundle-budget.test.ts is what holds the budgets.
    for (const r of overBudget(results)) {
      process.stderr.write(
        `warning: ${r.name} loads ${kib(r.initBytes)} at init, above its budget of ${kib(initBytesBudget(r.name))} (infra/bundle-budgets.ts): ` +
          'load what only a rare path needs on first use (consumers/runtime/on-first-use.ts)\n',
      );
    }
  } catch (error) {
    process.stderr.write(`build:lambdas failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
