/**
 * What the summary and the exit code say beyond record accounting: checkpoint writes that fail
 * (a restart would replay), function crashes and timeouts, torn or unreadable effect-file lines.
 */
import { describe, expect, it } from 'vitest';
import type { CheckpointStore, MappingIdentity, MappingProgress } from '../../local/esm/checkpoint-store';
import { ProgressRecorder } from '../../local/esm/progress-recorder';
import type { EsmStats } from '../../local/esm/types';
import type { FunctionStats } from '../../local/lambda/local-function';
import { assessRunHealth } from '../../local/run-health';
import { createLogger } from '../../telemetry/logger';

const identity: MappingIdentity = { consumerName: 'c', functionArn: 'arn:f', streamName: 's', streamArn: 'arn:s', streamCreatedAt: '2026-01-01T00:00:00.000Z' };
const progress: MappingProgress = { firstStartedAt: '2026-01-01T00:00:00.000Z', shards: { 'shardId-0': { checkpoint: '5' } } };

/** Fails the saves whose (1-based) numbers are listed: a scheduled fault. */
class ScriptedStore implements CheckpointStore {
  saves = 0;
  stored: MappingProgress | undefined;
  constructor(private readonly failing: ReadonlySet<number>) {}
  async load() {
    return this.stored;
  }
  async save(_identity: MappingIdentity, p: MappingProgress) {
    this.saves += 1;
    if (this.failing.has(this.saves)) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    this.stored = p;
  }
}

const silent = createLogger({ name: 't', level: 'silent' });

describe('checkpoint write failures', () => {
  it('are counted, show progress unsaved since the first failure, and clear once a write succeeds', async () => {
    const store = new ScriptedStore(new Set([1, 2]));
    const recorder = new ProgressRecorder(store, identity, () => progress, 10, silent, 60_000);
    recorder.changed();
    await recorder.flush();
    expect(recorder.health()).toMatchObject({ writes: 0, failedWrites: 1, lastError: expect.stringContaining('ENOSPC') });
    expect(recorder.health().unsavedSince).toBeTypeOf('string');
    await recorder.flush();
    expect(recorder.health()).toMatchObject({ failedWrites: 2 });
    await recorder.flush();
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 2, lastError: expect.stringContaining('ENOSPC') });
    expect(store.stored).toEqual(progress);
  });

  it('are retried without waiting for another checkpoint (an idle mapping still gets its progress stored)', async () => {
    const store = new ScriptedStore(new Set([1]));
    const recorder = new ProgressRecorder(store, identity, () => progress, 5, silent, 20);
    recorder.changed();
    for (let i = 0; i < 500 && store.stored === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect(store.saves).toBe(2);
    expect(recorder.health().unsavedSince).toBeUndefined();
    await recorder.flush();
  });
});

const fn = (partial: Partial<FunctionStats>): FunctionStats => ({
  invocations: 10, succeeded: 10, errors: 0, timeouts: 0, crashes: 0, throttles: 0, inFlight: 0, queued: 0, sandboxes: 1, sandboxesStarted: 1, sandboxesReplaced: 0, idleDeaths: 0, metrics: {}, ...partial,
});
const esm = (checkpointWrites?: EsmStats['checkpointWrites']): EsmStats =>
  ({ state: 'stopped', shards: {}, recordsPending: 0, millisBehindLatest: 0, ...(checkpointWrites ? { checkpointWrites } : {}) }) as EsmStats;

describe('run health (summary and exit code)', () => {
  it('fails the run when checkpoints are not stored at stop, naming the consumer and the error', () => {
    const health = assessRunHealth({ c: fn({}) }, { c: esm({ writes: 3, failedWrites: 4, lastError: 'ENOSPC', unsavedSince: '2026-01-01T10:00:00.000Z' }) });
    expect(health.problems).toEqual([expect.stringMatching(/^c: checkpoints NOT stored since 2026-01-01T10:00:00.000Z \(4 failed writes, last: ENOSPC\); a restart will process those records again$/)]);
  });

  it('warns about checkpoint failures the run recovered from, without failing it', () => {
    const health = assessRunHealth({}, { c: esm({ writes: 5, failedWrites: 2, lastError: 'EROFS' }) });
    expect(health.problems).toEqual([]);
    expect(health.warnings).toEqual(['c: 2 checkpoint writes failed (last: EROFS); stored again since']);
  });

  it('lists every function with its crashes, timeouts and idle deaths', () => {
    const health = assessRunHealth({ a: fn({ crashes: 2, timeouts: 1, errors: 3 }), b: fn({ idleDeaths: 1 }), ok: fn({}) }, {});
    expect(health.functions).toEqual([
      { name: 'a', invocations: 10, errors: 3, timeouts: 1, crashes: 2, idleDeaths: 0 },
      { name: 'b', invocations: 10, errors: 0, timeouts: 0, crashes: 0, idleDeaths: 1 },
      { name: 'ok', invocations: 10, errors: 0, timeouts: 0, crashes: 0, idleDeaths: 0 },
    ]);
    expect(health.warnings).toEqual(['a: 2 crashed, 1 timed out (see logs/a.log)', 'b: 1 idle sandboxes died (see logs/b.log)']);
    expect(health.problems).toEqual([]);
  });

  it('fails the run on unreadable lines in a followed effect file and reports torn tails repaired at start', () => {
    const health = assessRunHealth({}, {}, { unreadable: new Map([['q.ndjson', 2]]), repairs: [{ file: 'q.ndjson', bytes: 7, movedTo: 'q.ndjson.torn' }] });
    expect(health.problems).toEqual(['2 unreadable (torn or foreign) lines in q.ndjson: their records cannot be accounted for']);
    expect(health.warnings).toEqual(['torn last line of q.ndjson (7 bytes) found at start: moved to q.ndjson.torn']);
  });
});
