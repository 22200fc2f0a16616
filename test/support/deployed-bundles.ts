/**
 * The reference pipeline's function bundles, built exactly as `npm run build:lambdas` builds what
 * `cdktf deploy` uploads: through infra/bundle.ts's buildBundles, so any change to how functions are
 * bundled (options, code splitting, extra files) is what the tests load. Built once per test file.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBundles, type BundleResult } from '../../infra/bundle';
import { pipeline } from '../../pipeline';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

export interface DeployedBundles {
  /** The bundle folder (`<dir>/<function>/...`), what main.ts reads as LAMBDA_BUNDLE_DIR. */
  readonly dir: string;
  readonly results: readonly BundleResult[];
}

let built: Promise<DeployedBundles> | undefined;

export function deployedBundles(): Promise<DeployedBundles> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deployed-bundles-'));
    const results = await buildBundles({ definition: pipeline, projectRoot: PROJECT_ROOT, outDir: dir });
    return { dir, results };
  })();
  return built;
}
