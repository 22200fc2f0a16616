/**
 * cdktf entry point: the pipeline definition (pipeline/pipeline.ts, the one the local runner uses)
 * becomes one Terraform stack per stage file in stages/ (`orders-dev`, `orders-staging`, `orders-prod`).
 * Bundles come from `npm run build:lambdas` (dist/lambdas); `npm run synth` runs both.
 */
import './cli/fail-cleanly';
import { relative, resolve } from 'node:path';
import { pipeline } from './pipeline';
import { buildApp, DEFAULT_BUNDLE_DIR } from './infra/app';
import { loadStageConfigs } from './infra/stage-config';

const root = import.meta.dirname;
const { app, stacks } = buildApp({
  definition: pipeline,
  stages: loadStageConfigs(resolve(root, 'stages')),
  bundleDir: resolve(root, process.env['LAMBDA_BUNDLE_DIR'] ?? DEFAULT_BUNDLE_DIR),
});
app.synth();

// Say what was written and what to do next (cdktf's own `synth` prints its summary after this).
const where = (path: string) => {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') ? path : inside || '.';
};
const lines = [`synthesized ${stacks.length} stacks into ${where(app.outdir)}:`];
for (const stack of stacks) lines.push(`  ${stack.node.id.padEnd(16)} ${where(resolve(app.outdir, 'stacks', stack.node.id, 'cdk.tf.json'))}`);
lines.push('next: `npx cdktf diff <stack>` to plan, `npx cdktf deploy <stack>` to apply (Terraform and AWS credentials needed)');
process.stdout.write(`${lines.join('\n')}\n`);
