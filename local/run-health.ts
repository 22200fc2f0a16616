/**
 * What went wrong in a local run besides record accounting, for the summary and the exit code:
 * function crashes, timeouts and sandboxes that died while idle (each one an execution environment
 * lost mid-invocation or between invocations), and checkpoint writes that failed (while they fail, a
 * restart processes again everything checkpointed since the last stored write).
 */
import type { EsmStats } from './esm/types';
import type { FunctionStats } from './lambda/local-function';
import type { CheckpointWriteHealth } from './esm/progress-recorder';

export interface FunctionHealth {
  name: string;
  invocations: number;
  errors: number;
  timeouts: number;
  crashes: number;
  /** Warm sandboxes that died between invocations (charged to no invocation). */
  idleDeaths: number;
}

export interface CheckpointHealth extends CheckpointWriteHealth {
  consumer: string;
}

export interface RunHealth {
  functions: FunctionHealth[];
  /** Consumers whose mapping keeps checkpoints in a store (--persist-stream, --endpoint). */
  checkpoints: CheckpointHealth[];
  /** Conditions that make the run fail (exit 1) even when every record is accounted for. */
  problems: string[];
  /** Worth knowing, not a failure: the run recovered (e.g. crashed sandboxes were replaced and their batches retried). */
  warnings: string[];
}

export interface FileFindings {
  /** Torn last lines found at start and moved aside (local/torn-tail-repair.ts). */
  readonly repairs?: readonly { file: string; bytes: number; movedTo: string }[];
  /** Tumbling windows open at stop that were neither stored nor published. */
  readonly droppedWindows?: readonly { consumer: string; shardId: string; window: { start: string; end: string } }[];
  /** Lines of followed files that are not JSON: file -> count. */
  readonly unreadable?: ReadonlyMap<string, number>;
}

export function assessRunHealth(functions: Record<string, FunctionStats>, mappings: Record<string, EsmStats>, files: FileFindings = {}): RunHealth {
  const fnHealth = Object.entries(functions).map(([name, s]) => ({
    name,
    invocations: s.invocations,
    errors: s.errors,
    timeouts: s.timeouts,
    crashes: s.crashes,
    idleDeaths: s.idleDeaths,
  }));
  const checkpoints: CheckpointHealth[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const f of fnHealth) {
    const parts = [
      f.crashes > 0 ? `${f.crashes} crashed` : '',
      f.timeouts > 0 ? `${f.timeouts} timed out` : '',
      f.idleDeaths > 0 ? `${f.idleDeaths} idle sandboxes died` : '',
    ].filter(Boolean);
    if (parts.length > 0) warnings.push(`${f.name}: ${parts.join(', ')} (see logs/${f.name}.log)`);
  }
  for (const [consumer, stats] of Object.entries(mappings)) {
    const writes = stats.checkpointWrites;
    if (writes === undefined) continue;
    checkpoints.push({ consumer, ...writes });
    if (writes.unsavedSince !== undefined) {
      problems.push(
        `${consumer}: checkpoints NOT stored since ${writes.unsavedSince} (${writes.failedWrites} failed writes, last: ${writes.lastError ?? 'unknown'}); a restart will process those records again`,
      );
    } else if (writes.failedWrites > 0) {
      warnings.push(`${consumer}: ${writes.failedWrites} checkpoint writes failed (last: ${writes.lastError ?? 'unknown'}); stored again since`);
    }
  }
  for (const d of files.droppedWindows ?? []) {
    problems.push(`${d.consumer}: the open window ${d.window.start}..${d.window.end} of ${d.shardId} was dropped at stop (its final invoke failed): its figures were not published`);
  }
  for (const r of files.repairs ?? []) warnings.push(`torn last line of ${r.file} (${r.bytes} bytes) found at start: moved to ${r.movedTo}`);
  for (const [file, count] of files.unreadable ?? []) {
    if (count > 0) problems.push(`${count} unreadable (torn or foreign) lines in ${file}: their records cannot be accounted for`);
  }
  return { functions: fnHealth, checkpoints, problems, warnings };
}
