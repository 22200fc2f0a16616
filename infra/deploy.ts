/**
 * `npm run deploy -- <stage> [cdktf deploy options]`: checks the stage file (valid, no placeholder
 * account / e-mail / state bucket) BEFORE Terraform runs, builds the bundles (with source maps when
 * the stage asks for them), then runs `cdktf deploy <pipeline>-<stage>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from '../pipeline';
import { stackName } from './pipeline-stack';
import { placeholderFindings, placeholderMessage } from './placeholders';
import { loadStageConfig, StageConfigError } from './stage-config';

const root = resolve(import.meta.dirname, '..');
const [stageName, ...cdktfArgs] = process.argv.slice(2);

function stop(message: string): never {
  process.stderr.write(`deploy: ${message}\n`);
  process.exit(2);
}

if (!stageName || stageName.startsWith('-')) stop('usage: npm run deploy -- <stage> [cdktf deploy options]   (stages: files in stages/, e.g. dev)');
const file = join(root, 'stages', `${stageName}.json`);
if (!existsSync(file)) stop(`no stage file stages/${stageName}.json`);
let stage;
try {
  stage = loadStageConfig(file);
} catch (error) {
  if (error instanceof StageConfigError) stop(error.message);
  throw error;
}
const findings = placeholderFindings(stage);
if (findings.length > 0) stop(`${placeholderMessage(stage, findings)}\nNothing was deployed; Terraform did not run.`);

const run = (command: string, args: string[]): void => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) stop(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run('npm', ['run', 'build:lambdas', '--', ...(stage.sourceMaps ? ['--source-maps'] : [])]);
run('npx', ['cdktf', 'deploy', stackName(pipeline, stage.stage), ...cdktfArgs]);
