/**
 * Signal (local/esm/signal.ts), the wake-up the shard workers and shard discovery sleep on:
 * `wait(ms)` ends on the next `notify()` or after `ms`, whichever comes first; `wait()` only on a
 * notify. Fake timers: every resolution is checked at the exact millisecond, and no timer may
 * outlive its wait (a stopped mapping must not keep the process alive).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Signal } from '../../local/esm/signal';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A wait whose settlement can be observed synchronously after the microtasks ran. */
function track(promise: Promise<void>) {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

/** The waiters a Signal holds (private): a poll loop calling wait(ms) every second must not grow it. */
const pendingWaiters = (signal: Signal) => (signal as unknown as { waiters: unknown[] }).waiters.length;

describe('Signal', () => {
  it('wait(ms) ends after exactly ms when nobody notifies', async () => {
    const signal = new Signal();
    const wait = track(signal.wait(100));
    await vi.advanceTimersByTimeAsync(99);
    expect(wait.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(wait.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('notify() ends every pending wait at once and cancels their timers', async () => {
    const signal = new Signal();
    const timed = track(signal.wait(5000));
    const untimed = track(signal.wait());
    await vi.advanceTimersByTimeAsync(10);
    expect([timed.done, untimed.done]).toEqual([false, false]);
    expect(vi.getTimerCount()).toBe(1);
    signal.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect([timed.done, untimed.done]).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
    expect(pendingWaiters(signal)).toBe(0);
  });

  it('wait() without ms never times out', async () => {
    const signal = new Signal();
    const wait = track(signal.wait());
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(wait.done).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    signal.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.done).toBe(true);
  });

  it('a negative ms waits 0 ms, not forever', async () => {
    const signal = new Signal();
    const wait = track(signal.wait(-50));
    await vi.advanceTimersByTimeAsync(1);
    expect(wait.done).toBe(true);
  });

  it('a timed-out wait leaves the others pending, and the next notify still wakes them', async () => {
    const signal = new Signal();
    const short = track(signal.wait(100));
    const untimed = track(signal.wait());
    const long = track(signal.wait(10_000));
    await vi.advanceTimersByTimeAsync(100);
    expect([short.done, untimed.done, long.done]).toEqual([true, false, false]);
    // The timed-out waiter is dropped; the two others stay.
    expect(pendingWaiters(signal)).toBe(2);
    signal.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect([untimed.done, long.done]).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a notify with nobody waiting is not remembered: a later wait still waits; notifying twice is fine', async () => {
    const signal = new Signal();
    signal.notify();
    signal.notify();
    const wait = track(signal.wait(300));
    await vi.advanceTimersByTimeAsync(299);
    expect(wait.done).toBe(false);
    signal.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.done).toBe(true);
    signal.notify();
  });

  it('a poll loop of timed-out waits keeps no waiters behind', async () => {
    const signal = new Signal();
    for (let i = 0; i < 50; i++) {
      const wait = signal.wait(20);
      await vi.advanceTimersByTimeAsync(20);
      await wait;
    }
    expect(pendingWaiters(signal)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
