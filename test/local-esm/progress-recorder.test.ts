/**
 * ProgressRecorder (local/esm/progress-recorder.ts) on fake timers: coalesced checkpoint writes after
 * `delayMs`, `flush()` on stop, and the failed-write path (counted, logged, retried after
 * `retryDelayMs` even when nothing changes, `unsavedSince` until a write succeeds again). Faults are
 * scripted per write: the n-th save fails when the script says so.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointStore, MappingIdentity, MappingProgress } from '../../local/esm';
import { ProgressRecorder } from '../../local/esm/progress-recorder';
import type { Logger } from '../../telemetry/logger';
import { IDENTITY } from './sample-identity';

const START = Date.parse('2024-05-01T10:00:00.000Z');
const iso = (offsetMs: number) => new Date(START + offsetMs).toISOString();


interface SaveCall {
  /** ms since START when the save started / ended. */
  at: number;
  end: number;
  checkpoint: string | undefined;
  ok: boolean;
}

/** A store whose n-th save fails when `outcomes[n]` is an Error; each save takes `durationMs` (fake time). */
function scriptedStore(outcomes: Array<'ok' | Error>, durationMs = 0) {
  const saves: SaveCall[] = [];
  const identities: MappingIdentity[] = [];
  const store: CheckpointStore = {
    load: async () => undefined,
    async save(identity, progress) {
      const at = Date.now() - START;
      identities.push(identity);
      if (durationMs > 0) await new Promise((resolve) => setTimeout(resolve, durationMs));
      const outcome = outcomes.shift() ?? 'ok';
      saves.push({ at, end: Date.now() - START, checkpoint: progress.shards['shardId-000000000000']?.checkpoint, ok: outcome === 'ok' });
      if (outcome !== 'ok') throw outcome;
    },
  };
  return { store, saves, identities };
}

function stubLogger() {
  const info = vi.fn();
  const warn = vi.fn();
  return { logger: { info, warn } as unknown as Logger, info, warn };
}

/** Progress as the mapping would report it: the checkpoint is whatever `state.checkpoint` is now. */
function progressSource() {
  const state = { checkpoint: '0' };
  const snapshot = (): MappingProgress => ({
    firstStartedAt: iso(0),
    shards: { 'shardId-000000000000': { checkpoint: state.checkpoint } },
  });
  return { state, snapshot };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** Advance to `ms` since START. */
const advanceTo = (ms: number) => vi.advanceTimersByTimeAsync(ms - (Date.now() - START));

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('ProgressRecorder: coalesced writes', () => {
  it('writes a burst of changes once, delayMs after the first change, with the progress as of the write', async () => {
    const { store, saves, identities } = scriptedStore([]);
    const { logger, info, warn } = stubLogger();
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, logger);

    expect(recorder.health()).toEqual({ writes: 0, failedWrites: 0 });
    state.checkpoint = '11';
    recorder.changed();
    await advance(100);
    state.checkpoint = '12';
    recorder.changed();
    await advanceTo(199);
    expect(saves).toEqual([]);
    await advanceTo(200);
    expect(saves).toEqual([{ at: 200, end: 200, checkpoint: '12', ok: true }]);
    expect(identities).toEqual([IDENTITY]);
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 0 });
    // A healthy write logs nothing.
    expect(info).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    await advanceTo(5000);
    expect(saves).toHaveLength(1);
  });

  it('a change after a write is written delayMs after that change (not earlier, not never)', async () => {
    const { store, saves } = scriptedStore([]);
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, stubLogger().logger);

    state.checkpoint = '1';
    recorder.changed();
    await advance(100);
    state.checkpoint = '2';
    recorder.changed(); // inside the pending delay: no second timer
    await advanceTo(250);
    expect(saves.map((s) => s.at)).toEqual([200]);
    state.checkpoint = '3';
    recorder.changed();
    await advanceTo(449);
    expect(saves.map((s) => s.at)).toEqual([200]);
    await advanceTo(450);
    expect(saves.map((s) => [s.at, s.checkpoint])).toEqual([
      [200, '2'],
      [450, '3'],
    ]);
    expect(recorder.health()).toEqual({ writes: 2, failedWrites: 0 });
  });

  it('flush with nothing changed writes nothing, before or after a write', async () => {
    const { store, saves } = scriptedStore([]);
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, stubLogger().logger);

    await recorder.flush();
    expect(saves).toEqual([]);
    state.checkpoint = '5';
    recorder.changed();
    await advanceTo(200);
    expect(saves).toHaveLength(1);
    await recorder.flush();
    await advanceTo(3000);
    expect(saves).toHaveLength(1);
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 0 });
  });

  it('flush writes pending progress at once and cancels the delayed write; later changes get a fresh delay', async () => {
    const { store, saves } = scriptedStore([]);
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, stubLogger().logger);

    state.checkpoint = '7';
    recorder.changed();
    await advanceTo(50);
    await recorder.flush();
    expect(saves.map((s) => [s.at, s.checkpoint])).toEqual([[50, '7']]);
    await advanceTo(100);
    state.checkpoint = '8';
    recorder.changed();
    // The write cancelled by the flush (due at 200) must not fire and take this change early.
    await advanceTo(299);
    expect(saves.map((s) => s.at)).toEqual([50]);
    await advanceTo(300);
    expect(saves.map((s) => [s.at, s.checkpoint])).toEqual([
      [50, '7'],
      [300, '8'],
    ]);
  });

  it('writes never overlap: a flush during a slow write starts its write when the first one ends', async () => {
    const { store, saves } = scriptedStore([], 100);
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, stubLogger().logger);

    state.checkpoint = '1';
    recorder.changed();
    await advanceTo(250); // the first write runs from 200 to 300
    state.checkpoint = '2';
    recorder.changed();
    let flushed = false;
    const flushing = recorder.flush().then(() => (flushed = true));
    await advanceTo(399);
    expect(flushed).toBe(false);
    await advanceTo(400);
    await flushing;
    expect(saves.map((s) => [s.at, s.end, s.checkpoint])).toEqual([
      [200, 300, '1'],
      [300, 400, '2'],
    ]);
  });
});

describe('ProgressRecorder: failed writes', () => {
  it('a failed write is counted, logged and retried after retryDelayMs without any further change', async () => {
    const diskFull = new Error('ENOSPC: no space left on device (scripted)');
    const { store, saves } = scriptedStore([diskFull, 'ok']);
    const { logger, info, warn } = stubLogger();
    const { state, snapshot } = progressSource();
    // delayMs 200: the default retry delay is max(1000, 5 × 200) = 1000.
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, logger);

    state.checkpoint = '42';
    recorder.changed();
    await advanceTo(200);
    expect(saves).toEqual([{ at: 200, end: 200, checkpoint: '42', ok: false }]);
    expect(recorder.health()).toEqual({ writes: 0, failedWrites: 1, lastError: diskFull.message, unsavedSince: iso(200) });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { err: diskFull },
      'writing the checkpoints failed; retrying (a restart now would process again what was checkpointed since the last write)',
    );
    expect(info).not.toHaveBeenCalled();

    state.checkpoint = '43'; // progress moves on without changed(): the retry takes a fresh snapshot
    await advanceTo(1199);
    expect(saves).toHaveLength(1);
    await advanceTo(1200);
    expect(saves.map((s) => [s.at, s.checkpoint, s.ok])).toEqual([
      [200, '42', false],
      [1200, '43', true],
    ]);
    // Written again: no unsaved progress any more; the last error stays (it happened).
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 1, lastError: diskFull.message });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith({ since: iso(200) }, 'checkpoints written again');
    await advanceTo(10_000);
    expect(saves).toHaveLength(2);
  });

  it('unsavedSince is the first failure of the streak; each retry failing schedules the next one', async () => {
    const first = new Error('EIO: first');
    const second = new Error('EIO: second');
    const { store, saves } = scriptedStore([first, second, 'ok']);
    const { logger, info, warn } = stubLogger();
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, logger);

    state.checkpoint = '1';
    recorder.changed();
    await advanceTo(1200);
    expect(saves.map((s) => [s.at, s.ok])).toEqual([
      [200, false],
      [1200, false],
    ]);
    expect(recorder.health()).toEqual({ writes: 0, failedWrites: 2, lastError: second.message, unsavedSince: iso(200) });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenLastCalledWith({ err: second }, expect.stringContaining('writing the checkpoints failed'));
    await advanceTo(2199);
    expect(saves).toHaveLength(2);
    await advanceTo(2200);
    expect(saves.map((s) => [s.at, s.ok])).toEqual([
      [200, false],
      [1200, false],
      [2200, true],
    ]);
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 2, lastError: second.message });
    expect(info).toHaveBeenCalledWith({ since: iso(200) }, 'checkpoints written again');

    // A new failure later starts a new streak: unsavedSince is its own time.
    const third = new Error('EIO: third');
    const { store: store2, saves: saves2 } = scriptedStore(['ok', third, 'ok']);
    const recorder2 = new ProgressRecorder(store2, IDENTITY, snapshot, 200, stubLogger().logger);
    recorder2.changed();
    await advanceTo(2400); // ok
    recorder2.changed();
    await advanceTo(2600); // fails
    expect(saves2.map((s) => [s.at, s.ok])).toEqual([
      [2400, true],
      [2600, false],
    ]);
    expect(recorder2.health()).toEqual({ writes: 1, failedWrites: 1, lastError: third.message, unsavedSince: iso(2600) });
  });

  it('the default retry delay is max(1000 ms, 5 × delayMs)', async () => {
    // delayMs 10: 5 × 10 = 50 < 1000, so 1000.
    const short = scriptedStore([new Error('x'), 'ok']);
    const shortRecorder = new ProgressRecorder(short.store, IDENTITY, progressSource().snapshot, 10, stubLogger().logger);
    shortRecorder.changed();
    await advanceTo(10);
    expect(short.saves.map((s) => s.at)).toEqual([10]);
    await advanceTo(1009);
    expect(short.saves.map((s) => s.at)).toEqual([10]);
    await advanceTo(1010);
    expect(short.saves.map((s) => s.at)).toEqual([10, 1010]);

    // delayMs 400: 5 × 400 = 2000 > 1000, so 2000.
    const long = scriptedStore([new Error('x'), 'ok']);
    const longRecorder = new ProgressRecorder(long.store, IDENTITY, progressSource().snapshot, 400, stubLogger().logger);
    longRecorder.changed();
    await advanceTo(1010 + 400);
    expect(long.saves.map((s) => s.at)).toEqual([1410]);
    await advanceTo(1410 + 1999);
    expect(long.saves.map((s) => s.at)).toEqual([1410]);
    await advanceTo(1410 + 2000);
    expect(long.saves.map((s) => s.at)).toEqual([1410, 3410]);
  });

  it('an explicit retryDelayMs is used as given', async () => {
    const { store, saves } = scriptedStore([new Error('x'), 'ok']);
    const recorder = new ProgressRecorder(store, IDENTITY, progressSource().snapshot, 200, stubLogger().logger, 300);
    recorder.changed();
    await advanceTo(499);
    expect(saves.map((s) => s.at)).toEqual([200]);
    await advanceTo(500);
    expect(saves.map((s) => s.at)).toEqual([200, 500]);
  });

  it('a write failing while a retry is pending does not schedule a second retry', async () => {
    const { store, saves } = scriptedStore([new Error('a'), new Error('b'), new Error('c'), 'ok']);
    const { state, snapshot } = progressSource();
    const recorder = new ProgressRecorder(store, IDENTITY, snapshot, 200, stubLogger().logger);

    recorder.changed();
    await advanceTo(300); // failed at 200: retry due at 1200
    state.checkpoint = '9';
    recorder.changed(); // written at 500, fails: the retry stays the one due at 1200
    await advanceTo(5000);
    expect(saves.map((s) => [s.at, s.ok])).toEqual([
      [200, false],
      [500, false],
      [1200, false],
      [2200, true],
    ]);
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 3, lastError: 'c' });
  });

  it('flush (on stop) cancels the pending retry; a failing flush schedules its own retry', async () => {
    const { store, saves } = scriptedStore([new Error('a'), new Error('b'), 'ok']);
    const recorder = new ProgressRecorder(store, IDENTITY, progressSource().snapshot, 200, stubLogger().logger);

    recorder.changed();
    await advanceTo(500); // failed at 200: retry due at 1200
    await recorder.flush(); // fails at 500: the next retry is due at 1500
    expect(recorder.health()).toEqual({ writes: 0, failedWrites: 2, lastError: 'b', unsavedSince: iso(200) });
    await advanceTo(1499);
    expect(saves.map((s) => s.at)).toEqual([200, 500]);
    await advanceTo(1500);
    expect(saves.map((s) => [s.at, s.ok])).toEqual([
      [200, false],
      [500, false],
      [1500, true],
    ]);
  });

  it('a successful flush after a failure ends the streak; nothing is written again later', async () => {
    const { store, saves } = scriptedStore([new Error('a'), 'ok']);
    const { logger, info } = stubLogger();
    const recorder = new ProgressRecorder(store, IDENTITY, progressSource().snapshot, 200, logger);

    recorder.changed();
    await advanceTo(500);
    await recorder.flush();
    expect(recorder.health()).toEqual({ writes: 1, failedWrites: 1, lastError: 'a' });
    expect(info).toHaveBeenCalledWith({ since: iso(200) }, 'checkpoints written again');
    await advanceTo(10_000);
    expect(saves.map((s) => s.at)).toEqual([200, 500]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the retry timer does not keep the process alive', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const { store } = scriptedStore([new Error('a'), 'ok']);
    const recorder = new ProgressRecorder(store, IDENTITY, progressSource().snapshot, 200, stubLogger().logger, 7000);
    recorder.changed();
    await advanceTo(200);
    const retryIndex = setTimeoutSpy.mock.calls.findIndex((call) => call[1] === 7000);
    expect(retryIndex).toBeGreaterThanOrEqual(0);
    const retryTimer = setTimeoutSpy.mock.results[retryIndex]!.value as NodeJS.Timeout;
    expect(retryTimer.hasRef()).toBe(false);
    await recorder.flush();
  });
});
