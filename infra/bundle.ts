/**
 * esbuild bundles of every deployed function of the pipeline definition: one folder per function
 * (`<outDir>/<name>/index.mjs` + `index.mjs.map`), which the stack zips through a TerraformAsset.
 *
 * Choices:
 * - ESM (`.mjs`): Node.js 22 on Lambda loads ES modules natively and the project is ESM; top-level
 *   await is available for one-time initialisation. A `createRequire` banner lets bundled CommonJS
 *   dependencies still `require()` Node built-ins.
 * - Minified, tree-shaken, `target: node22`, WITHOUT a source map by default: a map adds 0.5-1.3 MB to
 *   every zip and NODE_OPTIONS=--enable-source-maps 10-25 ms of init CPU. Source maps are a debug
 *   choice: `npm run build:lambdas -- --source-maps` writes a linked map (sources not embedded) and a
 *   stage with `"sourceMaps": true` runs with --enable-source-maps (see PipelineStack).
 * - The AWS SDK v3 clients ARE bundled, not taken from the runtime: the Lambda developer guide
 *   ("Building Lambda functions with TypeScript" / "Node.js runtime: SDK") recommends packaging the SDK
 *   to control its version; the runtime's copy changes with runtime updates, outside our tests. Bundled
 *   and tree-shaken, only the clients a function imports ship, and a single minified file loads faster
 *   at cold start than the runtime's many-file SDK packages. `npm run build:lambdas` prints the sizes.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import type { PipelineDefinition } from '../pipeline';

/**
 * How a function is bundled, wherever it runs: the deployed bundles here and the local runner's sandboxes
 * (local/lambda/bundle.ts) share these options, so what runs locally is built like what deploys.
 */
export const FUNCTION_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies may still require() Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
} satisfies BuildOptions;

/** File name of a bundle inside its folder; the handler setting is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs';

export interface BundleResult {
  name: string;
  entry: string;
  outDir: string;
  bytes: number;
  sourceMapBytes: number;
  /** Deflated size of bundle + map: close to the zip the stack uploads. */
  zippedBytes: number;
}

export interface BuildBundlesOptions {
  definition: PipelineDefinition;
  /** Project root the definition's `entry` paths are relative to. */
  projectRoot: string;
  /** Where the per-function folders go (e.g. `dist/lambdas`). */
  outDir: string;
  /** Write a linked `index.mjs.map` beside each bundle (debug choice; default off). */
  sourceMaps?: boolean;
}

/** Every consumer and plain function, by definition key, with its entry file. */
export function deployedFunctions(definition: PipelineDefinition): { name: string; entry: string }[] {
  return [...Object.entries(definition.consumers), ...Object.entries(definition.functions)].map(([name, fn]) => ({ name, entry: fn.entry }));
}

async function bundleOne(name: string, entry: string, options: BuildBundlesOptions): Promise<BundleResult> {
  const entryPath = join(options.projectRoot, entry);
  try {
    await stat(entryPath);
  } catch {
    throw new Error(`entry "${entry}" of "${name}" does not exist (pipeline definition: ${name}.entry)`);
  }
  const dir = join(options.outDir, name);
  // A stale file from an earlier build must never ship: each function folder is rebuilt from scratch.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const outfile = join(dir, BUNDLE_FILE);
  await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    absWorkingDir: options.projectRoot,
    entryPoints: [entryPath],
    outfile,
    target: 'node22',
    minify: true,
    treeShaking: true,
    sourcemap: options.sourceMaps === true ? 'linked' : false,
    sourcesContent: false,
    logLevel: 'error',
  });
  const [code, map] = await Promise.all([readFile(outfile), options.sourceMaps === true ? readFile(`${outfile}.map`) : Buffer.alloc(0)]);
  return {
    name,
    entry,
    outDir: dir,
    bytes: code.length,
    sourceMapBytes: map.length,
    zippedBytes: deflateRawSync(code).length + (map.length > 0 ? deflateRawSync(map).length : 0),
  };
}

/** Bundles every function of the definition; rejects naming every function whose bundle failed. */
export async function buildBundles(options: BuildBundlesOptions): Promise<BundleResult[]> {
  const settled = await Promise.allSettled(deployedFunctions(options.definition).map(({ name, entry }) => bundleOne(name, entry, options)));
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason instanceof Error ? s.reason.message : String(s.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('\n'));
  return settled.map((s) => (s as PromiseFulfilledResult<BundleResult>).value);
}
