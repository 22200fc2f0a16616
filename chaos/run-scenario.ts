/**
 * Runs one chaos scenario end to end and returns its row: the pipeline process under the fault plan,
 * the ground-truth check, a redrive of whatever ended in on-failure, the ground-truth check again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { startKinesalite, type EmbeddedKinesis } from '../kinesis/embedded';
import { runCli } from '../ops/cli';
import type { OpsIo } from '../ops/io';
import { pipeline as projectPipeline } from '../pipeline/pipeline';
import type { RunSummary } from '../local/runner-types';
import type { VerifyReport } from '../ops/verify/verify-run';
import { startKinesisFaultProxy, type KinesisFaultProxy } from './kinesis-fault-proxy';
import type { PipelineChildOptions } from './pipeline-child';
import type { Scenario } from './scenarios';
import { mountSmallFilesystem, type SmallFilesystem } from './small-filesystem';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface ChaosOptions {
  /** How long the upstream produces (the drain comes after), ms. */
  readonly durationMs: number;
  readonly rate: number;
  readonly seed: number;
  readonly invalidFraction: number;
  /** Keep the data folders (their paths are printed). */
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

export interface ChaosRow {
  scenario: string;
  skipped?: string;
  /** Events on the stream (KPL parts counted), and distinct valid ids among them. */
  events: number;
  unique: number;
  processed: number;
  quarantined: number;
  onFailure: number;
  redriven: number;
  /** Effects missing / double-counted after the redrive (ground truth). */
  lost: number;
  double: number;
  /** Consumers that did not drain (records produced, or left by a killed run, never checkpointed). */
  stuck: number;
  drainMs: number;
  /** Run health problems (checkpoints not stored, unreadable lines...). */
  problems: string[];
  notes: string[];
  faults?: Record<string, number>;
  /** Requests through the fault proxy, per operation. */
  proxyRequests?: Record<string, number>;
  dataDir?: string;
  ok: boolean;
}

interface ChildRun {
  child: ChildProcess;
  started: Promise<void>;
  summary: Promise<{ summary: RunSummary; drainMs: number } | undefined>;
  exited: Promise<void>;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function startChild(options: PipelineChildOptions, log: (line: string) => void): ChildRun {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(PROJECT_ROOT, 'chaos', 'pipeline-child.ts'), JSON.stringify(options)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let resolveStarted!: () => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => ((resolveStarted = res), (rejectStarted = rej)));
  let summary: { summary: RunSummary; drainMs: number } | undefined;
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('CHAOS_STARTED ')) resolveStarted();
      else if (line.startsWith('CHAOS_SUMMARY ')) summary = JSON.parse(line.slice('CHAOS_SUMMARY '.length)) as typeof summary;
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((res) =>
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) log(`  pipeline process exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      rejectStarted(new Error(`the pipeline process ended before it started (${signal ?? code}): ${stderr.trim().slice(-500)}`));
      res();
    }),
  );
  return { child, started, summary: exited.then(() => summary), exited };
}

/** Worker (sandbox) processes of a pipeline process: its children running the sandbox bootstrap. */
async function workerPids(parent: number): Promise<number[]> {
  const text = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(() => '');
  const pids = text.split(/\s+/).filter(Boolean).map(Number);
  const workers: number[] = [];
  for (const pid of pids) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('sandbox-child')) workers.push(pid);
  }
  return workers.sort((a, b) => a - b);
}

function captureIo(): { io: OpsIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l), interactive: false, confirm: async () => false } };
}

async function verify(dataDir: string, endpoint: string | undefined): Promise<VerifyReport> {
  const { io, out, err } = captureIo();
  await runCli(['verify', '--data-dir', dataDir, '--json', ...(endpoint ? ['--endpoint', endpoint] : [])], { io, definition: projectPipeline });
  if (out.length === 0) throw new Error(`ops verify printed no report: ${err.join(' ')}`);
  return JSON.parse(out.join('\n')) as VerifyReport;
}

async function lineCount(path: string): Promise<number> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '').length;
}

async function onFailureRecords(dataDir: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const name of Object.keys(projectPipeline.consumers)) {
    const text = await readFile(join(dataDir, 'on-failure', `${name}.ndjson`), 'utf8').catch(() => '');
    let records = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records += (JSON.parse(line) as { KinesisBatchInfo?: { batchSize?: number } }).KinesisBatchInfo?.batchSize ?? 1;
      } catch {
        records += 1;
      }
    }
    if (records > 0) counts.set(name, records);
  }
  return counts;
}

export async function runScenario(scenario: Scenario, options: ChaosOptions): Promise<ChaosRow> {
  const root = await mkdtemp(join(tmpdir(), `chaos-${scenario.name}-`));
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  const notes: string[] = [];
  let disk: SmallFilesystem | undefined;
  let kinesalite: EmbeddedKinesis | undefined;
  let proxy: KinesisFaultProxy | undefined;
  const empty = (skipped: string): ChaosRow => ({
    scenario: scenario.name, skipped, events: 0, unique: 0, processed: 0, quarantined: 0, onFailure: 0, redriven: 0, lost: 0, double: 0, stuck: 0, drainMs: 0, problems: [], notes, ok: true,
  });
  try {
    if (scenario.smallDisk) {
      const mounted = await mountSmallFilesystem(join(root, 'small'), 2 * 1024 * 1024);
      if ('unavailable' in mounted) return empty(mounted.unavailable);
      disk = mounted;
      for (const sub of ['quarantine', 'on-failure', 'checkpoints']) {
        await mkdir(join(disk.path, sub), { recursive: true });
        await symlink(join(disk.path, sub), join(dataDir, sub));
      }
    }
    let endpoint: string | undefined;
    if (scenario.proxy) {
      kinesalite = await startKinesalite({ path: join(root, 'kinesalite') });
      proxy = await startKinesisFaultProxy(kinesalite.endpoint);
      endpoint = proxy.endpoint;
    }
    const base: PipelineChildOptions = {
      dataDir,
      ...(endpoint !== undefined ? { endpoint } : { persistStream: true }),
      rate: options.rate,
      seed: options.seed,
      invalidFraction: options.invalidFraction,
      durationMs: options.durationMs,
      // Poison records use up their retries (with bisection) before the drain can end.
      drainTimeoutMs: scenario.poison ? 180_000 : 60_000,
      ...(scenario.poison ? { poison: true } : {}),
    };
    let run = startChild(base, options.log);
    await run.started;
    const t0 = performance.now();
    let killedWorkers: number[] = [];
    await scenario.run(
      {
        elapsedMs: () => performance.now() - t0,
        workerPids: () => workerPids(run.child.pid!),
        killPipeline: () => {
          void workerPids(run.child.pid!).then((pids) => (killedWorkers = pids));
          run.child.kill('SIGKILL');
        },
        setProxyFaults: (plan) => proxy?.setFaults(plan),
        ...(disk ? { disk } : {}),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        note: (text) => notes.push(`${Math.round((performance.now() - t0) / 100) / 10}s ${text}`),
      },
      options.durationMs,
    );
    let result = await run.summary;
    if (scenario.restart && result === undefined) {
      // Its workers lost their parent: end them as a crashed host would (they are ours).
      for (const pid of killedWorkers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      const remaining = Math.max(2000, options.durationMs - (performance.now() - t0));
      run = startChild({ ...base, rate: 0, durationMs: remaining }, options.log);
      await run.started;
      notes.push('restarted on the same data folder (--persist-stream), upstream off');
      result = await run.summary;
      if (result !== undefined) notes.push(`restarted run: ${result.summary.backlogCheckpointed} of ${result.summary.backlogAtStart} records left by the killed run caught up (summed over consumers)`);
    }
    proxy?.setFaults(undefined);
    if (result === undefined) throw new Error('the pipeline process printed no summary');
    const summary = result.summary;
    const quarantined = summary.quarantined;
    const verifyEndpoint = kinesalite?.endpoint;
    const first = await verify(dataDir, verifyEndpoint);
    const onFailure = await onFailureRecords(dataDir);
    let onFailureTotal = 0;
    for (const n of onFailure.values()) onFailureTotal += n;
    let final = first;
    let redriven = 0;
    if (onFailure.size > 0) {
      // Redrive whatever ended in on-failure (a pipeline process serves the consumers; no new events), then verify again.
      const redrive = startChild({ ...base, ...(endpoint !== undefined ? { endpoint: kinesalite!.endpoint } : {}), poison: false, rate: 0, durationMs: 600_000 }, options.log);
      await redrive.started;
      for (const consumer of onFailure.keys()) {
        const windowed = (projectPipeline.consumers[consumer]!.mapping.tumblingWindowInSeconds ?? 0) > 0;
        const { io, out } = captureIo();
        await runCli(['redrive', consumer, '--local', '--data-dir', dataDir, '--mode', windowed ? 'reput' : 'invoke', '--json'], { io, definition: projectPipeline });
        const last = out.at(-1);
        const s = last ? (JSON.parse(last) as { summary?: { recordsRedriven?: number } }).summary : undefined;
        redriven += s?.recordsRedriven ?? 0;
        notes.push(`redrive ${consumer} (${windowed ? 'reput' : 'invoke'}): ${last ?? 'no output'}`.slice(0, 300));
      }
      redrive.child.kill('SIGTERM');
      await redrive.exited;
      final = await verify(dataDir, verifyEndpoint);
    }
    const sum = (pick: (v: VerifyReport['consumers'][number]) => number) => final.consumers.reduce((t, v) => t + pick(v), 0);
    const stream = final.streams[0]!;
    const row: ChaosRow = {
      scenario: scenario.name,
      events: stream.counts.events,
      unique: stream.counts.uniqueValid + stream.counts.invalid,
      // This run's records, and after a restart the ones the killed run left (the restarted run's backlog).
      processed: summary.processed + summary.backlogCheckpointed,
      quarantined,
      onFailure: onFailureTotal,
      redriven,
      lost: sum((v) => v.missing),
      double: sum((v) => v.double + v.unexpected),
      stuck: summary.consumers.filter((c) => c.missing > 0 || c.backlogCheckpointed < c.backlogAtStart).length,
      drainMs: result.drainMs,
      problems: [...summary.health.problems, ...final.unreadable.map((u) => `unreadable ${u.file}:${u.line}`)],
      notes,
      ...(proxy ? { faults: proxy.counts.faults, proxyRequests: proxy.counts.requests } : {}),
      ...(options.keep ? { dataDir } : {}),
      ok: false,
    };
    row.ok = row.lost === 0 && row.double === 0 && row.stuck === 0 && final.unreadable.length === 0;
    return row;
  } finally {
    await proxy?.stop();
    await kinesalite?.stop();
    await disk?.unmount();
    if (!options.keep) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Data folders of earlier runs in tmp (for --keep users). */
export async function leftovers(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('chaos-'));
}
