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
    const [code, map] = await Promise.all([
      readFile(join(result.outDir, BUNDLE_FILE)),
      readFile(join(result.outDir, `${BUNDLE_FILE}.map`)),
    ]);
    bundles[result.name] = {
      handler: `${BUNDLE_FILE.replace(/\.mjs$/, '')}.handler`,
      files: [
        { name: BUNDLE_FILE, data: code },
        { name: `${BUNDLE_FILE}.map`, data: map },
      ],
    };
  }
  return bundles;
}
