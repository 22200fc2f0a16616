/** `npm run build:lambdas`: bundle every function of the pipeline definition and print each size. */
import '../cli/fail-cleanly';
import { resolve } from 'node:path';
import { pipeline } from '../pipeline';
import { buildBundles, type BundleResult } from './bundle';
import { DEFAULT_BUNDLE_DIR } from './app';

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

function table(results: BundleResult[]): string {
  const rows = [['function', 'entry', 'index.mjs', 'source map', 'zipped'], ...results.map((r) => [r.name, r.entry, kib(r.bytes), kib(r.sourceMapBytes), kib(r.zippedBytes)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

const projectRoot = resolve(import.meta.dirname, '..');
const outDir = resolve(projectRoot, process.env['LAMBDA_BUNDLE_DIR'] ?? DEFAULT_BUNDLE_DIR);
try {
  const results = await buildBundles({ definition: pipeline, projectRoot, outDir });
  process.stdout.write(`${table(results)}\nbundles in ${outDir}\n`);
} catch (error) {
  process.stderr.write(`build:lambdas failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
