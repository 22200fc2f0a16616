/**
 * cdktf entry point: the pipeline definition (pipeline/pipeline.ts, the one the local runner uses)
 * becomes one Terraform stack per stage file in stages/ (`orders-dev`, `orders-staging`, `orders-prod`).
 * Bundles come from `npm run build:lambdas` (dist/lambdas); `npm run synth` runs both.
 */
import { resolve } from 'node:path';
import { pipeline } from './pipeline';
import { buildApp, DEFAULT_BUNDLE_DIR } from './infra/app';
import { loadStageConfigs } from './infra/stage-config';

const root = import.meta.dirname;
const { app } = buildApp({
  definition: pipeline,
  stages: loadStageConfigs(resolve(root, 'stages')),
  bundleDir: resolve(root, process.env['LAMBDA_BUNDLE_DIR'] ?? DEFAULT_BUNDLE_DIR),
});
app.synth();
