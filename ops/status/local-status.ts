/**
 * `ops status --local`: the same table from the local runner's runner.json (mapping state and
 * statistics, rewritten by the runner every refresh) and its data files (on-failure and quarantine
 * lines waiting). Errors are the mapping's failed invocations; throttles do not exist locally.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { consumerIteratorAgeThresholdMs } from '../../infra/thresholds';
import { resolveConsumer, type OpsContext } from '../context';
import { onFailureFile, quarantineFile, runnerAlive, type RunnerInfo } from '../local/runner-info';
import type { ConsumerStatus } from './consumer-status';

export interface LocalStatus {
  readonly rows: ConsumerStatus[];
  readonly runnerAlive: boolean;
  readonly runnerState: string | undefined;
  readonly updatedAt: string | undefined;
}

export async function collectLocalStatus(ctx: OpsContext, consumers: readonly string[]): Promise<LocalStatus> {
  const runner = ctx.runner as RunnerInfo;
  // A stopped runner says so in runner.json; its pid may since belong to another process.
  const alive = runnerAlive(runner) && runner['state'] !== 'stopped';
  const rows = await Promise.all(
    consumers.map(async (name): Promise<ConsumerStatus> => {
      const t = resolveConsumer(ctx, name);
      const info = runner.consumers[name] as Record<string, unknown> | undefined;
      const stats = record(info?.['stats']);
      const mapping = record(stats?.['mapping']);
      const state = str(mapping?.['state']) ?? str(stats?.['state']);
      return {
        consumer: name,
        functionName: t.functionName,
        mappingState: info === undefined ? undefined : alive ? state ?? 'running' : 'runner stopped',
        lastResult: undefined,
        iteratorAgeMs: num(stats?.['iteratorAgeMs']) ?? num(mapping?.['iteratorAgeMs']),
        iteratorAgeThresholdMs: consumerIteratorAgeThresholdMs(t.definition, ctx.definition.streams[t.definition.stream]!),
        errors: num(stats?.['invocationErrors']) ?? num(mapping?.['invocationErrors']),
        throttles: undefined,
        onFailureDepth: await countLines(onFailureFile(ctx.dataDir, name)),
        ...(await quarantine(quarantineFile(ctx.dataDir, name), stats)),
        alarms: [],
      };
    }),
  );
  return { rows, runnerAlive: alive, runnerState: str(runner['state']), updatedAt: str(runner['updatedAt']) };
}

/**
 * Quarantine depth and how much of it is expected. Of the lines the runner has read this run, those
 * of its deliberately invalid synthetic events are expected (quarantined minus the valid ones, which
 * never are); any other line it read (a valid event, foreign input, a repeat) is not. Lines earlier runs
 * left, or written since its last refresh, are reported but not judged. Without these figures in
 * runner.json every line counts, as on AWS.
 */
async function quarantine(path: string, stats: Record<string, unknown> | undefined): Promise<{ quarantineDepth: number; expectedQuarantine?: number }> {
  const depth = await countLines(path);
  const read = num(stats?.['quarantineLinesRead']);
  const quarantined = num(stats?.['quarantined']);
  const valid = num(stats?.['validQuarantined']);
  if (read === undefined || quarantined === undefined || valid === undefined) return { quarantineDepth: depth };
  const unexpected = Math.max(0, read - (quarantined - valid));
  return { quarantineDepth: depth, expectedQuarantine: Math.max(0, depth - unexpected) };
}

/** Non-blank lines of an NDJSON file plus those of redrive claims in progress (0 when absent). */
export async function countLines(path: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const base = basename(path);
  let count = 0;
  for (const name of names) {
    if (name !== base && !name.startsWith(`${base}.redrive-`)) continue;
    const text = await readFile(join(dirname(path), name), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line.trim() !== '') count += 1;
  }
  return count;
}

const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
