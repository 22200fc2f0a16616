/**
 * `main.ts` end to end (what `npm run synth` and `cdktf synth` run after bundling): every stage file
 * becomes a stack folder in the CDKTF output directory, offline, with the zipped bundles.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { allViolations } from '../../infra/policy-checks';
import { deployedBundles } from '../support/deployed-bundles';

const projectRoot = resolve(import.meta.dirname, '../..');

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** name -> SHA-256 of each entry, read by an independent ZIP implementation (Python's zipfile, CRCs verified). */
function zipDigests(zip: string): Record<string, string> {
  const script =
    'import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n' +
    'print(json.dumps({n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if not n.endswith(\"/\")}))';
  return JSON.parse(execFileSync('python3', ['-c', script, zip], { encoding: 'utf8' })) as Record<string, string>;
}

describe('main.ts', () => {
  it('synthesizes orders-dev, orders-staging and orders-prod into the output directory', { timeout: 240_000 }, async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
    const bundles = (await deployedBundles()).dir;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: projectRoot,
      env: { ...process.env, CDKTF_OUTDIR: outdir, LAMBDA_BUNDLE_DIR: bundles },
    });
    // It says where it wrote each stack (a silent synth leaves a newcomer guessing).
    expect(stdout).toContain('synthesized 3 stacks into');
    for (const stack of ['orders-dev', 'orders-prod', 'orders-staging']) expect(stdout).toContain(join(outdir, 'stacks', stack, 'cdk.tf.json'));
    expect(readdirSync(join(outdir, 'stacks')).sort()).toEqual(['orders-dev', 'orders-prod', 'orders-staging']);
    for (const stack of ['orders-dev', 'orders-prod', 'orders-staging']) {
      const tf = JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, { filename?: string; function_name?: string }>> };
      const functions = Object.values(tf.resource['aws_lambda_function']!);
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        const zip = join(outdir, 'stacks', stack, fn.filename!);
        expect(existsSync(zip)).toBe(true);
        // What uploads is the bundle folder `npm run build:lambdas` wrote, file for file.
        const bundleFolder = join(bundles, fn.function_name!.slice(`${stack}-`.length));
        const files = readdirSync(bundleFolder, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(bundleFolder, f)).isFile());
        const expected = Object.fromEntries(files.map((f) => [f.split(sep).join('/'), sha256(readFileSync(join(bundleFolder, f)))]));
        expect(zipDigests(zip)).toEqual(expected);
      }
      expect(allViolations(tf)).toEqual([]);
    }
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(['orders-dev', 'orders-prod', 'orders-staging']);
  }); // timeout 240 s: bundling, three synths and a zip read in child processes: slow on a busy two-core machine (a hang bound, not a timing claim)

  it('fails with the fix when bundles are missing', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: projectRoot,
      env: { ...process.env, CDKTF_OUTDIR: outdir, LAMBDA_BUNDLE_DIR: mkdtempSync(join(tmpdir(), 'empty-')) },
    });
    await expect(run).rejects.toThrow(/run `npm run build:lambdas` first/);
  });
});
