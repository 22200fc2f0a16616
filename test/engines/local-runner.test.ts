/**
 * Scenario 4: `npm start` (local/main.ts, the project's own pipeline and consumers) as a user runs
 * it, `--kinesis <engine> --duration <s>`, on each engine: it must stop by itself, drain, and account
 * for every produced event in every consumer. The runner starts its own engine (that choice is what
 * is under test), so this file shares no emulator.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { PROJECT_ROOT, type RunSummary } from '../../local/pipeline-runner';
import type { RunnerStateFile } from '../../local/runner-state-file';
import { ALL_ENGINES, EVERY_ENGINE, scenario, type EngineName } from './support';

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

describe.each(ALL_ENGINES.map((name) => ({ name })))('on $name', (engine) => {
  scenario(
    engine,
    'npm start --kinesis <engine> --duration: stops by itself and accounts for every produced event in every consumer',
    EVERY_ENGINE,
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), `engines-runner-${engine.name}-`));
      dataDirs.push(dataDir);
      const args = ['--kinesis', engine.name, '--duration', '3', '--no-ui', '--interval', '1', '--rate', String(RATE[engine.name]), '--invalid-fraction', '0.1', '--seed', '7', '--data-dir', dataDir];
      const { code, lines, stderr } = await runCli(args);
      expect(code, stderr).toBe(0);
      const stats = lines.filter((line) => line.type === 'stats');
      expect(stats.length).toBeGreaterThan(0);
      for (const line of stats) expect(line['kinesisEngine']).toBe(engine.name);

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
    },
    120_000,
  );
});
