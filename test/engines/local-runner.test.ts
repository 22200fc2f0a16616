/**
 * Scenario 4: `npm start` (local/main.ts, the project's own pipeline and consumers) as a user runs
 * it, `--kinesis <engine> --duration <s>`, on each engine: it must stop by itself, drain, and account
 * for every produced event in every consumer; and `--endpoint <url>` on an engine someone else
 * started (the way it runs against a LocalStack, whose Kinesis is kinesis-local).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { PROJECT_ROOT, type RunSummary } from '../../local/pipeline-runner';
import type { RunnerStateFile } from '../../local/runner-state-file';
import { EVERY_ENGINE, forEachEngine, readShards, scenario, type EngineName } from './support';

/** Synthetic events per second: kinesis-local writes far fewer records per second than kinesalite. */
const RATE: Readonly<Record<EngineName, number>> = { kinesalite: 80, 'kinesis-local': 30 };

const dataDirs: string[] = [];
afterAll(async () => {
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

interface Line {
  type: string;
  [key: string]: unknown;
}

async function runCli(args: readonly string[]): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
  return { code, lines, stderr };
}

async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

async function expectEverythingAccounted(engineName: string, dataDir: string, run: { code: number | null; lines: Line[]; stderr: string }, kinesisEngine: string): Promise<void> {
  const { code, lines, stderr } = run;
  expect(code, stderr).toBe(0);
  const stats = lines.filter((line) => line.type === 'stats');
  expect(stats.length).toBeGreaterThan(0);
  for (const line of stats) expect(line['kinesisEngine'], engineName).toBe(kinesisEngine);

  const summary = lines.find((line) => line.type === 'summary') as (Line & RunSummary) | undefined;
  expect(summary, stderr).toBeDefined();
  expect(summary!.accounted).toBe(true);
  expect(summary!.produced).toBeGreaterThan(0);
  expect(summary!.producedInvalid).toBeGreaterThan(0);
  expect(summary!.producedValid + summary!.producedInvalid).toBe(summary!.produced);
  expect(summary!.failedPuts).toBe(0);
  expect(summary!.consumers.map((c) => c.consumer).sort()).toEqual(['order-metrics', 'order-review']);
  for (const c of summary!.consumers) {
    expect(c.processed + c.filtered + c.quarantined + c.onFailure, c.consumer).toBe(summary!.produced);
    expect(c).toMatchObject({ missing: 0, validQuarantined: 0, invalidProcessed: 0, foreign: 0 });
    // The ledger's count agrees with what the function's runtime wrote to its quarantine file.
    expect(await lineCount(join(dataDir, 'quarantine', `${c.consumer}.ndjson`)), c.consumer).toBe(c.quarantined);
    expect(await lineCount(join(dataDir, 'on-failure', `${c.consumer}.ndjson`)), c.consumer).toBe(0);
  }
  // order-metrics has no filter: it sees every invalid event and quarantines each one.
  expect(summary!.consumers.find((c) => c.consumer === 'order-metrics')!.quarantined).toBe(summary!.producedInvalid);

  const state = JSON.parse(await readFile(join(dataDir, 'runner.json'), 'utf8')) as RunnerStateFile;
  expect(state.state).toBe('stopped');
  expect(state.kinesisEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
}

async function dataDirFor(engine: EngineName): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `engines-runner-${engine}-`));
  dataDirs.push(dir);
  return dir;
}

function args(engine: EngineName, dataDir: string, kinesis: readonly string[]): string[] {
  return [...kinesis, '--duration', '3', '--no-ui', '--interval', '1', '--rate', String(RATE[engine]), '--invalid-fraction', '0.1', '--seed', '7', '--data-dir', dataDir];
}

forEachEngine((engine) => {
  scenario(
    engine,
    'npm start --kinesis <engine> --duration: starts the engine, stops by itself and accounts for every produced event in every consumer',
    EVERY_ENGINE,
    async () => {
      const dataDir = await dataDirFor(engine.name);
      const run = await runCli(args(engine.name, dataDir, ['--kinesis', engine.name]));
      await expectEverythingAccounted(engine.name, dataDir, run, engine.name);
    },
    120_000,
  );

  scenario(
    engine,
    'npm start --endpoint <running engine> (as with a LocalStack): creates the streams there, accounts for everything, leaves the engine running',
    EVERY_ENGINE,
    async () => {
      const dataDir = await dataDirFor(engine.name);
      const run = await runCli(args(engine.name, dataDir, ['--endpoint', engine.endpoint]));
      await expectEverythingAccounted(engine.name, dataDir, run, 'endpoint');
      // The engine outlives the runner, with the pipeline's stream and the records the run wrote.
      const shards = await readShards(engine.client, 'orders');
      const summary = run.lines.find((line) => line.type === 'summary') as unknown as RunSummary;
      expect(shards.reduce((n, s) => n + s.records.length, 0)).toBe(summary.produced);
    },
    120_000,
  );
});
