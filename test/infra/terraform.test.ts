/**
 * Terraform itself on every stage's synthesized stack, offline: `terraform init -backend=false`
 * against the provider mirror (project CLI configuration infra/terraform/mirror.tfrc), `terraform
 * validate`, and `terraform test` planning the stack with `mock_provider "aws"` (no credentials, no
 * network). Then the rename rule with the real provider configured offline, and negative controls
 * proving a broken stack fails each step. Skipped, with the reason printed, only where terraform or
 * a mirror of the AWS provider is missing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipeline } from '../../pipeline';
import { buildApp } from '../../infra/app';
import { stackName } from '../../infra/pipeline-stack';
import { checkStack, chooseProviderVersion, planTest, prepareWorkDir, probeTerraform, readStack, renameCheck, type TerraformEnvironment } from '../../infra/terraform-check';
import { fakeBundleDir, stageConfig, STAGE_NAMES } from './synth-helpers';

const work = mkdtempSync(join(tmpdir(), 'terraform-test-'));
const probe = probeTerraform(work);
if (!probe.ok) console.info(`[terraform] SKIPPED: ${probe.reason}`);

describe.skipIf(!probe.ok)('terraform on the synthesized stacks (offline)', () => {
  const env = (probe as { env: TerraformEnvironment }).env;
  const outdir = join(work, 'cdktf.out');
  const stackDir = (stage: string): string => join(outdir, 'stacks', stackName(pipeline, stage));
  let providerVersion = '';

  beforeAll(() => {
    const { app } = buildApp({ definition: pipeline, stages: STAGE_NAMES.map(stageConfig), bundleDir: fakeBundleDir(pipeline), outdir });
    app.synth();
    const pinned = readStack(stackDir('dev')).terraform.required_providers.aws.version;
    const choice = chooseProviderVersion(pinned, env.mirroredVersions);
    providerVersion = choice.version;
    // Said in the output on purpose: which provider version the checks really ran with.
    console.info(`[terraform] ${env.terraformVersion}, mirror ${env.mirror}, CLI configuration ${env.cliConfigFile}\n[terraform] ${choice.note}`);
  });

  it('checks with the pinned provider when mirrored, else says which version it used instead', () => {
    expect(chooseProviderVersion('6.25.0', ['6.25.0', '5.100.0']).version).toBe('6.25.0');
    expect(chooseProviderVersion('6.25.0', ['6.20.0', '5.100.0']).version).toBe('6.20.0');
    const fallback = chooseProviderVersion('6.25.0', ['5.100.0']);
    expect(fallback.version).toBe('5.100.0');
    expect(fallback.note).toContain('pins 6.25.0');
    expect(fallback.note).toContain('NOT under 6.25.0');
  });

  it.each(STAGE_NAMES)('stage %s: init -backend=false, validate, and a mocked plan pass', (stage) => {
    const dir = prepareWorkDir(stackDir(stage), join(work, stage), providerVersion);
    const results = checkStack(dir, env, { allowPlaceholders: true });
    for (const r of results) expect(r.ok, `${stage} ${r.step}:\n${r.output}`).toBe(true);
    expect(results.map((r) => r.step)).toEqual(['init', 'validate', 'test']);
    expect(results[2]!.output).toMatch(/run "plan"\.\.\. pass/);
  }, 180_000);

  it('renaming the protected stream (prod) fails the plan on prevent_destroy instead of replacing it; unprotected dev plans the replacement', () => {
    const prod = renameCheck(stackDir('prod'), join(work, 'rename-prod'), env, providerVersion);
    expect(prod.refused, prod.output).toBe(true);
    const dev = renameCheck(stackDir('dev'), join(work, 'rename-dev'), env, providerVersion);
    expect(dev.replaced, dev.output).toBe(true);
  }, 180_000);

  describe('negative controls: a broken stack fails', () => {
    it('validate: a reference to a resource that is not declared', () => {
      const dir = prepareWorkDir(stackDir('staging'), join(work, 'broken-validate'), providerVersion, (stack) => {
        delete stack.resource['aws_sns_topic'];
      });
      const results = checkStack(dir, env, { allowPlaceholders: true });
      expect(results.map((r) => [r.step, r.ok])).toEqual([
        ['init', true],
        ['validate', false],
      ]);
      expect(results[1]!.output).toContain('Reference to undeclared resource');
    }, 180_000);

    it('the mocked plan: the placeholder guard stops a stage that still has placeholder values', () => {
      // dev's working copy passed init and validate above; only the plan is run again, without the variable.
      const result = planTest(join(work, 'dev'), env, { allowPlaceholders: false });
      expect(result.ok).toBe(false);
      expect(result.output).toContain('still has placeholder values');
      expect(result.output).toContain('account: 111111111111 is a placeholder account id');
    }, 180_000);
  });
});
