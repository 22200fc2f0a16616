/**
 * Every command a person runs answers a mistake with a clear message, the fix and an exit code,
 * never with a stack trace unless asked (--debug or DEBUG=1): the real entry files, spawned.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/emulators';

const root = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', entry, ...args],
      { cwd: root, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', DEBUG: '', ...env }, timeout: 90_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A Node stack frame or uncaught-exception dump. */
const STACK = /^\s+at |Node\.js v\d|\^\s*$|problems: \[/m;

describe('an invalid pipeline definition', () => {
  const entry = 'test/cli/fixtures/invalid-pipeline-entry.ts';

  it('prints the field, the rule and the fix, exit 1, no stack trace', async () => {
    const r = await run(entry, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: invalid pipeline definition:\n  consumers.order-metrics.mapping.maximumRecordAgeInSeconds: must be -1 or between 60 and 604800');
    expect(r.stderr).toContain('fix: correct pipeline/pipeline.ts');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('adds the stack trace with --debug, and with DEBUG=1', async () => {
    for (const r of [await run(entry, ['--debug']), await run(entry, [], { DEBUG: '1' })]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: invalid pipeline definition:');
      expect(r.stderr).toMatch(/^\s+at /m);
    }
  });
});

describe('npm start', () => {
  it('--rate -5: the rule, the usage, exit 2', async () => {
    const r = await run('local/main.ts', ['--rate', '-5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --rate must be a number of events per second between 0 and 100000, got "-5"');
    expect(r.stderr).toContain('Usage: npm start -- [options]');
  });

  it('an unreadable kinesalite folder (--persist-stream): says which folder and to delete it, exit 1, no stack', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cli-errors-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'kinesalite'));
    await writeFile(join(dataDir, 'kinesalite', 'CURRENT'), 'not a leveldb manifest\n');
    const r = await run('local/main.ts', ['--persist-stream', '--no-ui', '--rate', '0', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the persisted Kinesis data in ${join(dataDir, 'kinesalite')} cannot be opened`);
    expect(r.stderr).toContain(`fix: delete the folder (rm -rf ${join(dataDir, 'kinesalite')})`);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('npm run localstack:deploy', () => {
  it('without a LocalStack at the endpoint: says so and how to start one, exit 1, no stack', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const r = await run('localstack/cli.ts', ['--endpoint', endpoint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: no LocalStack at ${endpoint}`);
    expect(r.stderr).toContain('fix: start one with Docker');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('--help explains what it deploys, how to start LocalStack and the exit codes', async () => {
    const r = await run('localstack/cli.ts', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: npm run localstack:deploy -- [options]');
    expect(r.stdout).toContain('docker run --rm -p 4566:4566');
    expect(r.stdout).toContain('Exit code:');
  });

  it('an unknown option: the parser message, where the usage is, exit 2', async () => {
    const r = await run('localstack/cli.ts', ['--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: Unknown option '--bogus'");
    expect(r.stderr).toContain('fix: see `npm run localstack:deploy -- --help`');
  });
});

describe('npm run ops', () => {
  it('status --local without a runner: what is missing and how to start it, exit 1', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cli-errors-ops-'));
    dirs.push(dataDir);
    const r = await run('ops/main.ts', ['status', '--local', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no local runner found');
    expect(r.stderr).toContain('npm start');
    expect(r.stderr).not.toMatch(STACK);
  });
});
