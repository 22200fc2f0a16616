/**
 * Local functions run from esbuild bundles, as they do on AWS (infra/bundle.ts builds the deployed
 * ones the same way): one ES module per function with every dependency inside, plus the sandbox
 * bootstrap. A sandbox then starts with plain `node` (no TypeScript loader), so cold starts take a
 * fraction of a second and several of them fit in Lambda's 10 s Init limit even on two cores.
 * Not minified, with linked source maps (`--enable-source-maps`), so stack traces name the .ts lines.
 * Split like the deployed bundles: what a handler `import()`s lives in `chunks/` beside `index.mjs`.
 * A bundle is rebuilt only when one of its input files changed (esbuild's metafile lists them).
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion } from 'esbuild';
import { FUNCTION_BUNDLE_OPTIONS } from '../../infra/bundle';

const here = dirname(fileURLToPath(import.meta.url));

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** What a bundle was built from: every input file with its size and modification time. */
interface BuildStamp {
  esbuild: string;
  node: string;
  entry: string;
  inputs: Record<string, { size: number; mtimeMs: number }>;
}

async function fileStamp(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  return stat(path).then(
    (s) => ({ size: s.size, mtimeMs: s.mtimeMs }),
    () => undefined,
  );
}

/** True when the bundle exists and none of its inputs changed since it was built (a restart skips the build). */
async function upToDate(entryPath: string, outfile: string): Promise<boolean> {
  let stamp: BuildStamp;
  try {
    stamp = JSON.parse(await readFile(`${outfile}.inputs.json`, 'utf8')) as BuildStamp;
  } catch {
    return false;
  }
  if (stamp.esbuild !== esbuildVersion || stamp.node !== process.versions.node || stamp.entry !== entryPath) return false;
  if ((await fileStamp(outfile)) === undefined) return false;
  for (const [path, was] of Object.entries(stamp.inputs)) {
    const now = await fileStamp(path);
    if (now === undefined || now.size !== was.size || now.mtimeMs !== was.mtimeMs) return false;
  }
  return true;
}

/** Builds `entryPath` to `outfile` (a `.mjs` whose folder holds nothing else), its chunks beside it. */
async function bundle(entryPath: string, outfile: string): Promise<void> {
  try {
    await stat(entryPath);
  } catch {
    throw new BundleError(`handler entry ${entryPath} does not exist`);
  }
  if (await upToDate(entryPath, outfile)) return;
  await rm(dirname(outfile), { recursive: true, force: true });
  await mkdir(dirname(outfile), { recursive: true });
  let metafile;
  try {
    ({ metafile } = await build({
      ...FUNCTION_BUNDLE_OPTIONS,
      metafile: true,
      entryPoints: [{ in: entryPath, out: basename(outfile, '.mjs') }],
      outdir: dirname(outfile),
      // The Node running the sandboxes, not Lambda's; not minified, so stack traces stay readable.
      target: `node${process.versions.node.split('.')[0]}`,
      logLevel: 'silent',
    }));
  } catch (error) {
    throw new BundleError(`could not bundle ${entryPath}: ${(error as Error).message}`);
  }
  const inputs: BuildStamp['inputs'] = {};
  for (const input of Object.keys(metafile.inputs)) {
    const path = resolve(input);
    const stamp = await fileStamp(path);
    if (stamp) inputs[path] = stamp;
  }
  const stamp: BuildStamp = { esbuild: esbuildVersion, node: process.versions.node, entry: entryPath, inputs };
  await writeFile(`${outfile}.inputs.json`, JSON.stringify(stamp), 'utf8');
}

/** Bundle a function's handler module to `<buildDir>/<name>/index.mjs`; returns that path. */
export async function bundleFunction(name: string, entryPath: string, buildDir: string): Promise<string> {
  const outfile = join(buildDir, name, 'index.mjs');
  await bundle(entryPath, outfile);
  return outfile;
}

/** Bundle the sandbox bootstrap (sandbox-child.ts) to `<buildDir>/_sandbox/sandbox-child.mjs`. */
export async function bundleSandboxChild(buildDir: string): Promise<string> {
  const outfile = join(buildDir, '_sandbox', 'sandbox-child.mjs');
  await bundle(join(here, 'sandbox-child.ts'), outfile);
  return outfile;
}
