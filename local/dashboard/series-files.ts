/**
 * The dashboard's files in the data folder, so a run's series outlive it (the HTML report reads them):
 *
 *   dashboard/run.json      the stage's widgets and alarms, the time scale, when the run started
 *   dashboard/ticks.ndjson  one line per collector tick: its time and every metric value read
 *
 * Each run starts both afresh.
 */
import { mkdir, appendFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DeployedDefinitions } from './deployed-definitions';
import type { MetricSample } from './metric-store';

export interface DashboardRunFile {
  pipeline: string;
  startedAt: number;
  timeScale: number;
  tickMs: number;
  definitions: DeployedDefinitions;
}

/** One tick: `[namespace, metricName, dimensions, value]` per sample. */
export interface TickLine {
  t: number;
  samples: [string, string, Record<string, string>, number][];
}

export function dashboardDir(dataDir: string): string {
  return join(dataDir, 'dashboard');
}

export class SeriesFiles {
  private readonly runFile: string;
  private readonly ticksFile: string;
  private pending: string[] = [];

  constructor(dataDir: string) {
    this.runFile = join(dashboardDir(dataDir), 'run.json');
    this.ticksFile = join(dashboardDir(dataDir), 'ticks.ndjson');
  }

  async begin(run: DashboardRunFile): Promise<void> {
    await mkdir(dirname(this.runFile), { recursive: true });
    await writeFile(this.runFile, `${JSON.stringify(run, null, 1)}\n`);
    await writeFile(this.ticksFile, '');
  }

  addTick(t: number, samples: readonly MetricSample[]): void {
    const line: TickLine = { t, samples: samples.map((s) => [s.namespace, s.metricName, s.dimensions, s.v]) };
    this.pending.push(JSON.stringify(line));
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    await appendFile(this.ticksFile, text);
  }
}

export class NoDashboardDataError extends Error {
  override readonly name = 'NoDashboardDataError';
}

/** Reads a run's dashboard files back (for the report). */
export async function readSeriesFiles(dataDir: string): Promise<{ run: DashboardRunFile; ticks: { t: number; samples: MetricSample[] }[] }> {
  const dir = dashboardDir(dataDir);
  let runText: string;
  try {
    runText = await readFile(join(dir, 'run.json'), 'utf8');
  } catch {
    throw new NoDashboardDataError(`no dashboard series in ${dir}: run \`npm start\` (without --no-dashboard) first, or pass --data-dir`);
  }
  const run = JSON.parse(runText) as DashboardRunFile;
  const ticksText = await readFile(join(dir, 'ticks.ndjson'), 'utf8').catch(() => '');
  const ticks: { t: number; samples: MetricSample[] }[] = [];
  for (const raw of ticksText.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const line = JSON.parse(raw) as TickLine;
      ticks.push({ t: line.t, samples: line.samples.map(([namespace, metricName, dimensions, v]) => ({ t: line.t, namespace, metricName, dimensions, v })) });
    } catch {
      // A line cut by a crash: the rest is still a report.
    }
  }
  return { run, ticks };
}
