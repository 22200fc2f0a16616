/**
 * `npm start` as a user runs it (local/main.ts with the project's pipeline and consumers), stopped
 * the way a terminal's Ctrl-C does it: SIGINT to the whole process group. The runner must drain,
 * print a summary line saying every produced event is accounted for, exit 0, and leave runner.json
 * in the stopped state. The function sandboxes receive the same SIGINT and must survive it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/pipeline-runner';

let dataRoot: string | undefined;

afterAll(async () => {
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
});

interface Line {
  type: string;
  [key: string]: unknown;
}

describe('npm start', () => {
  it('runs the pipeline, drains on Ctrl-C (SIGINT to the process group) and exits 0 with everything accounted for', async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'npm-start-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--no-ui', '--interval', '1', '--rate', '80', '--invalid-fraction', '0.05', '--data-dir', dataRoot], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the test can signal the group like a terminal does.
      detached: true,
    });
    const lines: Line[] = [];
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const sawEnough = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const part of parts) {
          if (!part.startsWith('{')) continue;
          const line = JSON.parse(part) as Line;
          lines.push(line);
          const consumers = (line['consumers'] as { processed: number }[] | undefined) ?? [];
          if (line.type === 'stats' && consumers.length > 0 && consumers.every((c) => c.processed >= 50)) resolve();
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await Promise.race([sawEnough, exited.then(() => Promise.reject(new Error(`npm start exited early:\n${stderr}`)))]);
    // The dashboard: its address printed and in runner.json, the page and its shipped chart library served.
    const dashboard = lines.find((line) => line.type === 'dashboard');
    expect(dashboard?.['url'], stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const running = JSON.parse(await readFile(join(dataRoot, 'runner.json'), 'utf8')) as { dashboard?: { url: string } };
    expect(running.dashboard?.url).toBe(dashboard!['url']);
    const page = await fetch(dashboard!['url'] as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/assets/uPlot.iife.min.js">');
    const uplot = await fetch(new URL('/assets/uPlot.iife.min.js', dashboard!['url'] as string));
    expect(uplot.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await uplot.text()).toContain('uPlot');
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(0);
    const summary = lines.find((line) => line.type === 'summary');
    expect(summary, stderr).toBeDefined();
    expect(summary!['accounted']).toBe(true);
    expect(summary!['produced'] as number).toBeGreaterThan(0);
    const consumers = summary!['consumers'] as { consumer: string; missing: number; processed: number; reportedProcessed: number }[];
    expect(consumers.map((c) => c.consumer).sort()).toEqual(['order-metrics', 'order-review']);
    for (const c of consumers) {
      expect(c.missing, c.consumer).toBe(0);
      // The consumer's own count (EMF RecordsProcessed) equals the distinct records it processed: none twice.
      expect(c.reportedProcessed, c.consumer).toBe(c.processed);
    }
    // The stage's alarms over the run, and the summary's alarm section on stderr.
    const alarms = lines.find((line) => line.type === 'alarms');
    expect(alarms?.['stage']).toBe('dev');
    expect((alarms?.['alarms'] as { alarmName: string }[]).map((a) => a.alarmName)).toContain('orders-dev-order-review-iterator-age');
    expect(stderr).toContain('Alarms of stage dev over this run (periods as deployed)');
    const runner = JSON.parse(await readFile(join(dataRoot, 'runner.json'), 'utf8')) as { state: string; functions: Record<string, { stats: { crashes: number } }> };
    expect(runner.state).toBe('stopped');
    // Ctrl-C reached the sandboxes too; none of them died of it.
    for (const [name, fn] of Object.entries(runner.functions)) expect(fn.stats.crashes, name).toBe(0);
  }, 240_000); // a safety net, not a measure: npm start also builds the stage stack for its dashboard (cdktf, seconds on a busy machine)
});
