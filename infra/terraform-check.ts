/**
 * Offline Terraform checks of synthesized stacks: `terraform init -backend=false` against a local
 * provider mirror (through the project's CLI configuration, infra/terraform/mirror.tfrc),
 * `terraform validate`, and `terraform test` with `mock_provider "aws"` planning the whole stack with
 * no credentials and no network. Plus the rename check: a real (offline-configured) provider plans a
 * renamed stream against a state holding the old one, and the plan must fail on prevent_destroy
 * instead of replacing the stream.
 *
 * Used by `npm run check:terraform` (docs/deploy.md) and test/infra/terraform.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_CLI_CONFIG = resolve(import.meta.dirname, 'terraform/mirror.tfrc');
const AWS_PROVIDER = 'registry.terraform.io/hashicorp/aws';

export interface TerraformEnvironment {
  terraformVersion: string;
  /** Mirror root (the folder holding `registry.terraform.io`). */
  mirror: string;
  /** AWS provider versions the mirror holds, newest first. */
  mirroredVersions: string[];
  /** CLI configuration file the checks run with (the project's, or a copy pointing at the mirror found). */
  cliConfigFile: string;
}

export type Probe = { ok: true; env: TerraformEnvironment } | { ok: false; reason: string };

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function awsVersionsIn(mirror: string): string[] {
  const dir = join(mirror, AWS_PROVIDER);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .sort(compareVersions)
    .reverse();
}

/** Mirror roots: TF_PROVIDER_MIRROR, the project's CLI configuration, then `find / -maxdepth 3 -name registry.terraform.io`. */
function mirrorCandidates(): string[] {
  const candidates: string[] = [];
  const fromEnv = process.env['TF_PROVIDER_MIRROR'];
  if (fromEnv) candidates.push(fromEnv);
  const configured = /path\s*=\s*"([^"]+)"/.exec(readFileSync(PROJECT_CLI_CONFIG, 'utf8'))?.[1];
  if (configured) candidates.push(configured);
  const found = spawnSync('find', ['/', '-maxdepth', '3', '-name', 'registry.terraform.io', '-type', 'd'], { encoding: 'utf8' });
  for (const line of (found.stdout ?? '').split('\n')) if (line.trim()) candidates.push(resolve(line.trim(), '..'));
  return candidates;
}

/** Whether this machine can run the checks: terraform on PATH and a mirror holding the AWS provider. */
export function probeTerraform(workDir: string): Probe {
  const version = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', env: { ...process.env, TF_CLI_CONFIG_FILE: PROJECT_CLI_CONFIG } });
  if (version.error || version.status !== 0) return { ok: false, reason: 'terraform is not on the PATH (install Terraform >= 1.10 to run the offline checks)' };
  const terraformVersion = (JSON.parse(version.stdout) as { terraform_version: string }).terraform_version;
  const mirror = mirrorCandidates().find((m) => awsVersionsIn(m).length > 0);
  if (mirror === undefined) {
    return { ok: false, reason: `no filesystem mirror of ${AWS_PROVIDER} found (TF_PROVIDER_MIRROR, ${PROJECT_CLI_CONFIG}, find / -maxdepth 3 -name registry.terraform.io)` };
  }
  let cliConfigFile = PROJECT_CLI_CONFIG;
  if (!readFileSync(PROJECT_CLI_CONFIG, 'utf8').includes(`"${mirror}"`)) {
    // Same file, this machine's mirror path.
    mkdirSync(workDir, { recursive: true });
    cliConfigFile = join(workDir, 'mirror.tfrc');
    writeFileSync(cliConfigFile, readFileSync(PROJECT_CLI_CONFIG, 'utf8').replace(/path\s*=\s*"[^"]+"/, `path    = ${JSON.stringify(mirror)}`));
  }
  return { ok: true, env: { terraformVersion, mirror, mirroredVersions: awsVersionsIn(mirror), cliConfigFile } };
}

interface StackJson {
  terraform: { required_providers: { aws: { version: string } }; backend?: unknown };
  resource: Record<string, Record<string, Record<string, unknown>>>;
  variable?: Record<string, unknown>;
}

export function readStack(stackDir: string): StackJson {
  return JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
}

/**
 * The provider version to check with: the pinned one when mirrored, else the newest mirrored one of
 * the same major, else the newest mirrored one; `note` says honestly what that means.
 */
export function chooseProviderVersion(pinned: string, mirrored: readonly string[]): { version: string; note: string } {
  if (mirrored.includes(pinned)) return { version: pinned, note: `AWS provider ${pinned}: the pinned version, from the mirror` };
  const major = pinned.split('.')[0];
  const sameMajor = mirrored.find((v) => v.split('.')[0] === major);
  if (sameMajor) return { version: sameMajor, note: `AWS provider: pinned ${pinned}, mirror has ${mirrored.join(', ')}; checking with ${sameMajor} (same major)` };
  const newest = mirrored[0]!;
  return {
    version: newest,
    note:
      `AWS provider: the project pins ${pinned} (@cdktf/provider-aws), but the mirror holds only ${mirrored.join(', ')}; checking with ${newest}. ` +
      `This proves the stack is valid and plans under ${newest}'s schema, NOT under ${pinned}'s: arguments only ${major}.x knows would fail here, ` +
      `and ${major}.x-only validation is not exercised. Put a ${major}.x provider in the mirror to check the pinned version.`,
  };
}

export interface StepResult {
  step: 'init' | 'validate' | 'test' | 'rename';
  ok: boolean;
  /** Combined output, trimmed to its last lines. */
  output: string;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function terraform(args: string[], cwd: string, env: TerraformEnvironment): { ok: boolean; output: string; full: string } {
  const result = spawnSync('terraform', [...args, '-no-color'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: env.cliConfigFile, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const full = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return { ok: result.status === 0, output: tail(full), full };
}

/**
 * A copy of a synthesized stack to run Terraform in: JSON pretty-printed (Terraform quotes the
 * offending line), the provider pinned to `providerVersion`, the asset folder linked.
 */
export function prepareWorkDir(stackDir: string, workDir: string, providerVersion: string, edit?: (stack: StackJson) => void): string {
  mkdirSync(workDir, { recursive: true });
  const stack = readStack(stackDir);
  stack.terraform.required_providers.aws.version = providerVersion;
  edit?.(stack);
  writeFileSync(join(workDir, 'cdk.tf.json'), `${JSON.stringify(stack, null, 1)}\n`);
  if (existsSync(join(stackDir, 'assets')) && !existsSync(join(workDir, 'assets'))) symlinkSync(resolve(stackDir, 'assets'), join(workDir, 'assets'));
  return workDir;
}

/** The `terraform test` file: the AWS provider mocked, one plan of the whole stack. */
export function planTestFile(stack: StackJson, allowPlaceholders: boolean): string {
  const variables = allowPlaceholders && stack.variable?.['allow_placeholder_stage'] !== undefined ? 'variables {\n  allow_placeholder_stage = true\n}\n\n' : '';
  return `# Written by infra/terraform-check.ts: plan the stack offline, the AWS provider mocked.\nmock_provider "aws" {}\n\n${variables}run "plan" {\n  command = plan\n}\n`;
}

/**
 * init (-backend=false), validate, then `terraform test` (plan with the mocked provider). Stops at the
 * first failing step. `allowPlaceholders`: plan a stage with placeholder values (the guard's variable).
 */
export function checkStack(workDir: string, env: TerraformEnvironment, options: { allowPlaceholders: boolean }): StepResult[] {
  const results: StepResult[] = [];
  const init = terraform(['init', '-backend=false', '-input=false'], workDir, env);
  results.push({ step: 'init', ok: init.ok, output: init.output });
  if (!init.ok) return results;
  const validate = terraform(['validate'], workDir, env);
  results.push({ step: 'validate', ok: validate.ok, output: validate.output });
  if (!validate.ok) return results;
  results.push(planTest(workDir, env, options));
  return results;
}

/** `terraform test` alone (the plan with the mocked provider) in an initialised working copy. */
export function planTest(workDir: string, env: TerraformEnvironment, options: { allowPlaceholders: boolean }): StepResult {
  mkdirSync(join(workDir, 'tests'), { recursive: true });
  writeFileSync(join(workDir, 'tests', 'plan.tftest.hcl'), planTestFile(readStack(workDir), options.allowPlaceholders));
  const test = terraform(['test'], workDir, env);
  return { step: 'test', ok: test.ok, output: test.output };
}

/**
 * Rename check: a state holding the stack's stream under another name, the real AWS provider
 * configured offline (fake credentials, no account lookup; override file), `terraform plan
 * -refresh=false` of the stream. The name forces replacement; a protected stream must make the plan
 * fail ("Instance cannot be destroyed"), an unprotected one plans "must be replaced".
 */
export function renameCheck(stackDir: string, workDir: string, env: TerraformEnvironment, providerVersion: string): StepResult & { replaced: boolean; refused: boolean } {
  prepareWorkDir(stackDir, workDir, providerVersion);
  const stack = readStack(workDir);
  const [id, stream] = Object.entries(stack.resource['aws_kinesis_stream'] ?? {})[0] ?? [];
  if (id === undefined || stream === undefined) throw new Error(`${stackDir}: no aws_kinesis_stream`);
  writeFileSync(
    join(workDir, 'offline_override.tf.json'),
    JSON.stringify({
      terraform: { backend: { local: { path: 'terraform.tfstate' } } },
      provider: {
        aws: {
          access_key: 'offline',
          secret_key: 'offline',
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
          allowed_account_ids: null,
        },
      },
    }),
  );
  const oldName = `${String(stream['name'])}-before-rename`;
  const arn = `arn:aws:kinesis:eu-west-1:000000000000:stream/${oldName}`;
  writeFileSync(
    join(workDir, 'terraform.tfstate'),
    JSON.stringify({
      version: 4,
      terraform_version: env.terraformVersion,
      serial: 1,
      lineage: '00000000-0000-4000-8000-000000000000',
      outputs: {},
      resources: [
        {
          mode: 'managed',
          type: 'aws_kinesis_stream',
          name: id,
          provider: `provider["${AWS_PROVIDER}"]`,
          instances: [
            {
              schema_version: 1,
              attributes: {
                id: arn,
                arn,
                name: oldName,
                retention_period: stream['retention_period'],
                shard_count: stream['shard_count'] ?? null,
                encryption_type: 'KMS',
                kms_key_id: 'alias/aws/kinesis',
                enforce_consumer_deletion: false,
                shard_level_metrics: [],
                stream_mode_details: [{ stream_mode: 'PROVISIONED' }],
                tags: {},
                tags_all: {},
              },
            },
          ],
        },
      ],
    }),
  );
  const init = terraform(['init', '-input=false'], workDir, env);
  if (!init.ok) return { step: 'rename', ok: false, output: init.output, replaced: false, refused: false };
  const variables = stack.variable?.['allow_placeholder_stage'] !== undefined ? ['-var', 'allow_placeholder_stage=true'] : [];
  const plan = terraform(['plan', '-refresh=false', '-lock=false', '-input=false', ...variables, `-target=aws_kinesis_stream.${id}`], workDir, env);
  const refused = !plan.ok && plan.full.includes('Instance cannot be destroyed');
  const replaced = plan.ok && /must be replaced/.test(plan.full) && /forces replacement/.test(plan.full);
  return { step: 'rename', ok: refused || replaced, output: plan.output, replaced, refused };
}
