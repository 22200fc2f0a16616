/**
 * Ctrl-C through the real entry point, `npm start`, as a terminal delivers it: SIGINT to the whole
 * foreground process group. npm forwards the SIGINT it received to the runner as well, so the runner
 * sees two signals for one key press; one Ctrl-C must always drain (never "stopping at once"), and
 * only a deliberate second Ctrl-C, a second or more after the first, forces (local/stop-signals.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/pipeline-runner';
import { FORCE_AFTER_MS, StopSignalPolicy } from '../../local/stop-signals';
import { startHoldingProxy } from '../local-esm/holding-proxy';
import { startKinesalite } from '../support/emulators';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves once a stats line shows produced records on the stream (the pipeline is up and busy). */
  busy: Promise<void>;
  exited: Promise<number | null>;
}

/** `npm start -- <args>` in its own process group, JSON lines collected. */
function npmStart(args: readonly string[]): Run {
  const child = spawn('npm', ['start', '--', '--no-ui', '--interval', '0.5', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const busy = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.startsWith('{')) continue;
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        const streams = (line['streams'] as { records: number }[] | undefined) ?? [];
        if (line['type'] === 'stats' && line['state'] === 'running' && streams.some((s) => s.records > 0)) resolve();
      }
    });
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before running:\n${stderr}`)));
  });
  busy.catch(() => undefined);
  return { child, lines, stderr: () => stderr, busy, exited };
}

const ctrlC = (run: Run) => process.kill(-run.child.pid!, 'SIGINT');

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('stop signal policy', () => {
  it('drains on the first signal, treats echoes within FORCE_AFTER_MS as the same request, forces on a later one', () => {
    let now = 0;
    const policy = new StopSignalPolicy(() => now, 1000);
    expect(policy.decide()).toBe('drain');
    now = 5; // npm's forwarded copy of the same Ctrl-C
    expect(policy.decide()).toBe('same-request');
    now = 999; // a wrapper relaying late (tsx relays after 30 ms without an answer)
    expect(policy.decide()).toBe('same-request');
    now = 1000;
    expect(policy.decide()).toBe('force');
  });
});

describe('Ctrl-C on npm start', () => {
  // Repeated: the double delivery happens on every run, a wrapper's late relay only on some.
  const TRIALS = 3;
  it(`drains and exits 0 with a summary on one Ctrl-C, ${TRIALS} runs out of ${TRIALS}`, async () => {
    for (let trial = 1; trial <= TRIALS; trial += 1) {
      const dataDir = await mkdtemp(join(tmpdir(), 'ctrl-c-'));
      dirs.push(dataDir);
      // No --seed: the time-based seed must be recorded so the run can be replayed.
      const run = npmStart(['--rate', '20', '--data-dir', dataDir]);
      await run.busy;
      ctrlC(run);
      const code = await run.exited;
      const context = `trial ${trial}:\n${run.stderr()}`;
      expect(run.stderr(), context).not.toContain('stopping at once');
      expect(run.stderr().match(/SIGINT: draining/g)?.length, context).toBe(1);
      expect(code, context).toBe(0);
      const summary = run.lines.find((line) => line['type'] === 'summary');
      expect(summary?.['accounted'], context).toBe(true);
      const runner = JSON.parse(await readFile(join(dataDir, 'runner.json'), 'utf8')) as { state: string; seed: number };
      expect(runner.state, context).toBe('stopped');
      // The seed: in the first JSON line, in runner.json and in the summary, the same number.
      expect(run.lines[0]?.['type']).toBe('starting');
      const seed = run.lines[0]?.['seed'];
      expect(Number.isInteger(seed), context).toBe(true);
      expect(runner.seed).toBe(seed);
      expect(summary?.['seed']).toBe(seed);
      // Draining lines keep the --interval pace: none printed twice at the same moment.
      const times = run.lines.filter((line) => line['type'] === 'stats' && line['state'] === 'draining').map((line) => Date.parse(line['at'] as string));
      expect(times.length, context).toBeGreaterThan(0);
      for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!, context).toBeGreaterThanOrEqual(200);
    }
  }, 240_000);

  it('stops at once, without draining, on a second Ctrl-C a second or more after the first', async () => {
    const kinesis = await startKinesalite();
    // GetRecords never answers: the consumers cannot catch up, so the drain cannot finish by itself.
    const proxy = await startHoldingProxy(kinesis.endpoint, 'GetRecords');
    const dataDir = await mkdtemp(join(tmpdir(), 'ctrl-c-force-'));
    dirs.push(dataDir);
    try {
      const run = npmStart(['--rate', '20', '--endpoint', proxy.endpoint, '--data-dir', dataDir]);
      await run.busy;
      ctrlC(run);
      await until(() => run.stderr().includes('SIGINT: draining'));
      const acknowledged = performance.now();
      await new Promise((resolve) => setTimeout(resolve, FORCE_AFTER_MS + 100));
      expect(performance.now() - acknowledged).toBeGreaterThanOrEqual(FORCE_AFTER_MS);
      ctrlC(run);
      const code = await run.exited;
      expect(code, run.stderr()).toBe(130);
      expect(run.stderr()).toContain('SIGINT again: stopping at once, without draining');
      expect(run.lines.some((line) => line['type'] === 'summary')).toBe(false);
    } finally {
      await proxy.stop();
      await kinesis.stop();
    }
  }, 120_000);
});
