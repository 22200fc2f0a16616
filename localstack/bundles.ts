/** Deployment packages for the SDK deployer, from the same esbuild bundles the cdktf stack zips. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_FILE, buildBundles } from '../infra/bundle';
import type { PipelineDefinition } from '../pipeline';
import type { FunctionBundle } from './deploy-pipeline';

export async function buildFunctionBundles(options: {
  definition: PipelineDefinition;
  projectRoot: string;
  outDir: string;
}): Promise<Record<string, FunctionBundle>> {
  const results = await buildBundles(options);
  const bundles: Record<string, FunctionBundle> = {};
  for (const result of results) {
    // Every file of the folder: index.mjs, its lazily loaded chunks/ and the source maps.
    const files = await Promise.all(result.files.map(async (name) => ({ name, data: await readFile(join(result.outDir, name)) })));
    bundles[result.name] = { handler: `${BUNDLE_FILE.replace(/\.mjs$/, '')}.handler`, files };
  }
  return bundles;
}
