/**
 * `npm run check:terraform [-- --stage <stage>] [--allow-placeholders]`: the offline Terraform checks
 * (infra/terraform-check.ts) on every synthesized stack in cdktf.out/stacks (run `npm run synth`
 * first): init against the provider mirror, validate, and a plan with the AWS provider mocked.
 * Exit 0 when every stack passes, 1 when one fails, 2 when the checks cannot run here.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkStack, chooseProviderVersion, prepareWorkDir, probeTerraform, readStack } from './terraform-check';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
function stop(message: string, code: number): never {
  process.stderr.write(`check:terraform: ${message}\n`);
  process.exit(code);
}

let stage: string | undefined;
let allowPlaceholders = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--stage' && args[i + 1]) stage = args[++i];
  else if (args[i] === '--allow-placeholders') allowPlaceholders = true;
  else stop(`unknown option ${args[i]} (usage: npm run check:terraform [-- --stage <stage>] [--allow-placeholders])`, 2);
}

const stacksDir = join(root, process.env['CDKTF_OUTDIR'] ?? 'cdktf.out', 'stacks');
if (!existsSync(stacksDir)) stop(`${stacksDir} does not exist: run \`npm run synth\` first`, 2);
const stacks = readdirSync(stacksDir).filter((s) => (stage === undefined ? true : s.endsWith(`-${stage}`)));
if (stacks.length === 0) stop(`no synthesized stack${stage ? ` for stage ${stage}` : ''} in ${stacksDir}: run \`npm run synth\``, 2);

const work = mkdtempSync(join(tmpdir(), 'terraform-check-'));
const probe = probeTerraform(work);
if (!probe.ok) stop(probe.reason, 2);
const { env } = probe;
out(`terraform ${env.terraformVersion}; provider mirror ${env.mirror}; CLI configuration ${env.cliConfigFile}`);

let failed = 0;
for (const name of stacks) {
  const pinned = readStack(join(stacksDir, name)).terraform.required_providers.aws.version;
  const { version, note } = chooseProviderVersion(pinned, env.mirroredVersions);
  out(`\n${name}: ${note}`);
  const dir = prepareWorkDir(join(stacksDir, name), join(work, name), version);
  for (const result of checkStack(dir, env, { allowPlaceholders })) {
    out(`  ${result.step.padEnd(8)} ${result.ok ? 'ok' : 'FAILED'}`);
    if (!result.ok) {
      failed += 1;
      out(result.output.replace(/^/gm, '    '));
    }
  }
}
out(failed === 0 ? `\nall ${stacks.length} stacks pass (working copies in ${work})` : `\n${failed} check(s) failed (working copies in ${work})`);
process.exitCode = failed === 0 ? 0 : 1;
