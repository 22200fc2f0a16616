/**
 * esbuild bundles of every deployed function of the pipeline definition: one folder per function
 * (`<outDir>/<name>/index.mjs`, its lazily loaded chunks in `chunks/`, a source map beside each file),
 * which the stack zips whole through a TerraformAsset.
 *
 * Choices:
 * - ESM (`.mjs`): Node.js 22 on Lambda loads ES modules natively and the project is ESM; top-level
 *   await is available for one-time initialisation. A `createRequire` banner lets bundled CommonJS
 *   dependencies still `require()` Node built-ins.
 * - Code splitting: every dynamic `import()` becomes a chunk that loads when first needed, so the cold
 *   start reads only the entry file and what it imports statically (`initBytes`, the figure the size
 *   budget in infra/bundle-budgets.ts limits). The consumers `import()` the SDK clients of rare paths
 *   (consumers/runtime/on-first-use.ts) and the SDK itself `import()`s its optional credential
 *   providers (SSO, INI, web identity, ...), which a function on AWS rarely reaches (the environment
 *   provider answers first); every provider of the default chain still ships in the folder.
 * - Minified, tree-shaken, `target: node22`, WITHOUT source maps by default: a map adds 0.5-1.3 MB to
 *   every zip and NODE_OPTIONS=--enable-source-maps 10-25 ms of init CPU. Source maps are a debug
 *   choice: `npm run build:lambdas -- --source-maps` writes linked maps (sources not embedded) and a
 *   stage with `"sourceMaps": true` runs with --enable-source-maps (see PipelineStack). The local
 *   runner's sandboxes keep FUNCTION_BUNDLE_OPTIONS' maps (readable stack traces while developing).
 * - The AWS SDK v3 clients ARE bundled, not taken from the runtime: the Lambda developer guide
 *   ("Building Lambda functions with TypeScript" / "Node.js runtime: SDK") recommends packaging the SDK
 *   to control its version; the runtime's copy changes with runtime updates, outside our tests. Bundled
 *   and tree-shaken, only the clients a function imports ship, and a few minified files load faster
 *   at cold start than the runtime's many-file SDK packages. `npm run build:lambdas` prints the sizes.
 * - zod is imported as a namespace (`import * as z from 'zod'`) everywhere: the named `{ z }` import
 *   keeps every locale file (~250 KiB) in the bundle.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
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
  // Dynamic import() -> a chunk loaded on first use (see above); callers give `outdir` and name the entry.
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS dependencies may still require() Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
} satisfies BuildOptions;

/** File name of a bundle inside its folder; the handler setting is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs';

export interface BundleResult {
  name: string;
  entry: string;
  outDir: string;
  /** Size of the entry file (index.mjs). */
  bytes: number;
  /** JavaScript the cold start loads: the entry file and every chunk it imports statically, transitively. */
  initBytes: number;
  /** JavaScript in chunks loaded only by a dynamic import(), when first needed. */
  lazyBytes: number;
  /** Every source map of the folder. */
  sourceMapBytes: number;
  /** Deflated size of every file of the folder: close to the zip the stack uploads. */
  zippedBytes: number;
  /** Every file of the folder, relative to it (`index.mjs` first), as the deployment package holds them. */
  files: string[];
  /** The JavaScript files of `files` the cold start loads (`index.mjs` first). */
  initFiles: string[];
  /** Source files (relative to the project root, as esbuild names them) with code in `initFiles`. */
  initModules: string[];
}

export interface BuildBundlesOptions {
  definition: PipelineDefinition;
  /** Project root the definition's `entry` paths are relative to. */
  projectRoot: string;
  /** Where the per-function folders go (e.g. `dist/lambdas`). */
  outDir: string;
  /** Write linked source maps beside the bundles (a debug choice; default off). */
  sourceMaps?: boolean;
}

/** Every consumer and plain function, by definition key, with its entry file. */
export function deployedFunctions(definition: PipelineDefinition): { name: string; entry: string }[] {
  return [...Object.entries(definition.consumers), ...Object.entries(definition.functions)].map(([name, fn]) => ({ name, entry: fn.entry }));
}

/** Bundles one entry file (relative to `projectRoot`) as function `name` into `<outDir>/<name>/`, as every deployed function is. */
export async function buildBundle(name: string, entry: string, options: Pick<BuildBundlesOptions, 'projectRoot' | 'outDir' | 'sourceMaps'>): Promise<BundleResult> {
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
  const { metafile } = await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    absWorkingDir: options.projectRoot,
    entryPoints: [{ in: entryPath, out: BUNDLE_FILE.replace(/\.mjs$/, '') }],
    outdir: dir,
    target: 'node22',
    minify: true,
    treeShaking: true,
    sourcemap: options.sourceMaps === true ? 'linked' : false,
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  });
  const init = initLoadedFiles(metafile, options.projectRoot, join(dir, BUNDLE_FILE));
  const files = await filesUnder(dir);
  const initFiles = files.filter((file) => init.has(resolve(dir, file)));
  let initBytes = 0;
  let lazyBytes = 0;
  let sourceMapBytes = 0;
  let zippedBytes = 0;
  for (const file of files) {
    const data = await readFile(join(dir, file));
    zippedBytes += deflateRawSync(data).length;
    if (file.endsWith('.map')) sourceMapBytes += data.length;
    else if (initFiles.includes(file)) initBytes += data.length;
    else lazyBytes += data.length;
  }
  const bytes = (await stat(join(dir, BUNDLE_FILE))).size;
  const initModules = new Set<string>();
  for (const [path, output] of Object.entries(metafile.outputs)) {
    if (!init.has(resolve(options.projectRoot, path))) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) if (bytesInOutput > 0) initModules.add(input);
  }
  return { name, entry, outDir: dir, bytes, initBytes, lazyBytes, sourceMapBytes, zippedBytes, files, initFiles, initModules: [...initModules].sort() };
}

/**
 * Absolute paths of the output files a cold start loads: the entry and, transitively, every chunk it
 * imports statically. Chunks reached only through a dynamic import() load when first needed.
 */
export function initLoadedFiles(metafile: Metafile, absWorkingDir: string, entryFile: string): Set<string> {
  const loaded = new Set<string>();
  const visit = (file: string): void => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const output = Object.entries(metafile.outputs).find(([path]) => resolve(absWorkingDir, path) === file)?.[1];
    for (const imported of output?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(resolve(absWorkingDir, imported.path));
    }
  };
  visit(resolve(entryFile));
  return loaded;
}

/** Files under a folder, relative to it, `index.mjs` first, the rest sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
  return files.sort((a, b) => (a === BUNDLE_FILE ? -1 : b === BUNDLE_FILE ? 1 : a.localeCompare(b)));
}

/** Bundles every function of the definition; rejects naming every function whose bundle failed. */
export async function buildBundles(options: BuildBundlesOptions): Promise<BundleResult[]> {
  const settled = await Promise.allSettled(deployedFunctions(options.definition).map(({ name, entry }) => buildBundle(name, entry, options)));
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason instanceof Error ? s.reason.message : String(s.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('\n'));
  return settled.map((s) => (s as PromiseFulfilledResult<BundleResult>).value);
}
