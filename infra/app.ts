/** Builds the cdktf App: one PipelineStack per stage file. Used by main.ts and the tests. */
import { App } from 'cdktf';
import type { PipelineDefinition } from '../pipeline';
import { PipelineStack, stackName } from './pipeline-stack';
import type { StageConfig } from './stage-config';

/** Where `npm run build:lambdas` writes bundles and `main.ts` reads them (relative to the project root). */
export const DEFAULT_BUNDLE_DIR = 'dist/lambdas';

export interface BuildAppOptions {
  definition: PipelineDefinition;
  stages: StageConfig[];
  bundleDir: string;
  /** Defaults to env CDKTF_OUTDIR (set by cdktf-cli) or `cdktf.out`. */
  outdir?: string;
}

export function buildApp(options: BuildAppOptions): { app: App; stacks: PipelineStack[] } {
  const app = new App(options.outdir !== undefined ? { outdir: options.outdir } : {});
  const stacks = options.stages.map(
    (stage) => new PipelineStack(app, stackName(options.definition, stage.stage), { definition: options.definition, stage, bundleDir: options.bundleDir }),
  );
  return { app, stacks };
}
