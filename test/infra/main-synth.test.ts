/**
 * `main.ts` end to end (what `npm run synth` and `cdktf synth` run after bundling): every stage file
 * becomes a stack folder in the CDKTF output directory, offline, with the zipped bundles.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../pipeline';
import { allViolations } from '../../infra/policy-checks';
import { fakeBundleDir } from './synth-helpers';

const projectRoot = resolve(import.meta.dirname, '../..');

describe('main.ts', () => {
  it('synthesizes orders-dev, orders-staging and orders-prod into the output directory', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: projectRoot,
      env: { ...process.env, CDKTF_OUTDIR: outdir, LAMBDA_BUNDLE_DIR: fakeBundleDir(pipeline) },
    });
    // It says where it wrote each stack (a silent synth leaves a newcomer guessing).
    expect(stdout).toContain('synthesized 3 stacks into');
    for (const stack of ['orders-dev', 'orders-prod', 'orders-staging']) expect(stdout).toContain(join(outdir, 'stacks', stack, 'cdk.tf.json'));
    expect(readdirSync(join(outdir, 'stacks')).sort()).toEqual(['orders-dev', 'orders-prod', 'orders-staging']);
    for (const stack of ['orders-dev', 'orders-prod', 'orders-staging']) {
      const tf = JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, { filename?: string }>> };
      const functions = Object.values(tf.resource['aws_lambda_function']!);
      expect(functions).toHaveLength(3);
      for (const fn of functions) expect(existsSync(join(outdir, 'stacks', stack, fn.filename!))).toBe(true);
      expect(allViolations(tf)).toEqual([]);
    }
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(['orders-dev', 'orders-prod', 'orders-staging']);
  });

  it('fails with the fix when bundles are missing', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: projectRoot,
      env: { ...process.env, CDKTF_OUTDIR: outdir, LAMBDA_BUNDLE_DIR: mkdtempSync(join(tmpdir(), 'empty-')) },
    });
    await expect(run).rejects.toThrow(/run `npm run build:lambdas` first/);
  });
});
