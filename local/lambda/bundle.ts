/**
 * Local functions run from esbuild bundles, as they do on AWS (infra/bundle.ts builds the deployed
 * ones the same way): one ES module per function with every dependency inside, plus the sandbox
 * bootstrap. A sandbox then starts with plain `node` (no TypeScript loader), so cold starts take a
 * fraction of a second and several of them fit in Lambda's 10 s Init limit even on two cores.
 * Not minified, with linked source maps (`--enable-source-maps`), so stack traces name the .ts lines.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

async function bundle(entryPath: string, outfile: string): Promise<void> {
  try {
    await stat(entryPath);
  } catch {
    throw new BundleError(`handler entry ${entryPath} does not exist`);
  }
  await rm(dirname(outfile), { recursive: true, force: true });
  await mkdir(dirname(outfile), { recursive: true });
  try {
    await build({
      entryPoints: [entryPath],
      outfile,
      bundle: true,
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      format: 'esm',
      sourcemap: 'linked',
      legalComments: 'none',
      mainFields: ['module', 'main'],
      // Bundled CommonJS dependencies may still require() Node built-ins.
      banner: { js: "import { createRequire as __localRequire } from 'node:module'; const require = __localRequire(import.meta.url);" },
      logLevel: 'silent',
    });
  } catch (error) {
    throw new BundleError(`could not bundle ${entryPath}: ${(error as Error).message}`);
  }
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
