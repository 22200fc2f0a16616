/**
 * Expected effects (ground-truth.ts) against what the run produced (observed-effects.ts): every
 * difference, named for what it means to the business.
 *
 * Windows (order-metrics), per figure (each count, revenue per currency), in time order:
 * - a window holding less than expected: effects MISSING, unless a LATER window holds the same amount
 *   more, which is the same effect counted in a later window (MOVED: a record re-put by
 *   `ops redrive --mode reput` arrives again, and Lambda windows records by arrival time);
 * - a window holding more than expected that no earlier shortfall explains: DOUBLE-counted.
 * Review requests (order-review -> review-intake), per source event id: none for an expected one is
 * MISSING, more than one is DOUBLE, one for an event that needs no review is UNEXPECTED.
 * Published windows and the state of still-open windows (checkpoint files) count together: a
 * figure folded into open state is counted and will be published when its window closes.
 */
import { WINDOW_COUNT_METRICS, emptyWindowFigures, type ExpectedEffects, type WindowFigures } from './ground-truth';
import type { ObservedReviewRequests, ObservedWindows } from './observed-effects';

export type DifferenceKind = 'missing' | 'double' | 'unexpected' | 'moved';

export interface EffectDifference {
  readonly consumer: string;
  readonly kind: DifferenceKind;
  /** e.g. `window 2026-01-01T10:01:00Z placed`, `review request for event <id>` */
  readonly subject: string;
  readonly expected: number;
  readonly actual: number;
  /** Effects concerned (events for counts, minor units for revenue, requests). */
  readonly amount: number;
  readonly detail?: string;
}

export interface ConsumerVerdict {
  readonly consumer: string;
  /** What was compared: "windows" (order-metrics) or "review requests" (order-review). */
  readonly effect: string;
  /** Expected effects: events counted (windows) or requests. */
  readonly expected: number;
  /** Produced effects (the same unit). */
  readonly actual: number;
  readonly missing: number;
  readonly double: number;
  readonly unexpected: number;
  readonly moved: number;
  readonly ok: boolean;
}

export interface WindowComparisonInput {
  readonly consumer: string;
  readonly expected: ExpectedEffects['windows'];
  readonly observed: ObservedWindows;
}

const isoMinute = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

function sumFigures(a: WindowFigures | undefined, b: WindowFigures | undefined): WindowFigures {
  const out = emptyWindowFigures();
  for (const f of [a, b]) {
    if (f === undefined) continue;
    for (const m of WINDOW_COUNT_METRICS) out[m] += f[m];
    for (const [c, v] of Object.entries(f.revenueMinor)) out.revenueMinor[c] = (out.revenueMinor[c] ?? 0) + v;
  }
  return out;
}

export function compareWindows(input: WindowComparisonInput): { verdict: ConsumerVerdict; differences: EffectDifference[] } {
  const starts = [...new Set([...input.expected.keys(), ...input.observed.published.keys(), ...input.observed.open.keys()])].sort((a, b) => a - b);
  const actualAt = new Map(starts.map((s) => [s, sumFigures(input.observed.published.get(s), input.observed.open.get(s))]));
  const expectedAt = new Map(starts.map((s) => [s, sumFigures(input.expected.get(s), undefined)]));
  const figureNames = new Set<string>(WINDOW_COUNT_METRICS);
  for (const f of [...actualAt.values(), ...expectedAt.values()]) for (const c of Object.keys(f.revenueMinor)) figureNames.add(`revenue ${c}`);
  const valueOf = (f: WindowFigures, name: string) =>
    name.startsWith('revenue ') ? (f.revenueMinor[name.slice('revenue '.length)] ?? 0) : f[name as (typeof WINDOW_COUNT_METRICS)[number]];

  const differences: EffectDifference[] = [];
  let missing = 0;
  let double = 0;
  let moved = 0;
  for (const name of figureNames) {
    const isCount = !name.startsWith('revenue ');
    // Shortfalls of earlier windows, oldest first: [window start, amount still unexplained].
    const shortfalls: [number, number][] = [];
    const windowDiffs: { start: number; expected: number; actual: number }[] = [];
    for (const start of starts) {
      const expected = valueOf(expectedAt.get(start)!, name);
      const actual = valueOf(actualAt.get(start)!, name);
      if (expected === actual) continue;
      windowDiffs.push({ start, expected, actual });
      if (actual < expected) {
        shortfalls.push([start, expected - actual]);
        continue;
      }
      let excess = actual - expected;
      while (excess > 0 && shortfalls.length > 0) {
        const head = shortfalls[0]!;
        const take = Math.min(head[1], excess);
        differences.push({
          consumer: input.consumer,
          kind: 'moved',
          subject: `${name}: window ${isoMinute(head[0])} -> ${isoMinute(start)}`,
          expected: 0,
          actual: 0,
          amount: take,
          detail: 'counted once, in a later window than its first record (a re-put record arrives again)',
        });
        if (isCount) moved += take;
        head[1] -= take;
        excess -= take;
        if (head[1] === 0) shortfalls.shift();
      }
      if (excess > 0) {
        const w = windowDiffs[windowDiffs.length - 1]!;
        differences.push({ consumer: input.consumer, kind: 'double', subject: `window ${isoMinute(start)} ${name}`, expected: w.expected, actual: w.actual, amount: excess });
        if (isCount) double += excess;
      }
    }
    for (const [start, amount] of shortfalls) {
      const w = windowDiffs.find((d) => d.start === start)!;
      const open = input.observed.open.has(start) ? ' (window still open: state from the checkpoint)' : '';
      differences.push({
        consumer: input.consumer,
        kind: 'missing',
        subject: `window ${isoMinute(start)} ${name}`,
        expected: w.expected,
        actual: w.actual,
        amount,
        ...(open ? { detail: open.trim() } : {}),
      });
      if (isCount) missing += amount;
    }
  }
  const count = (m: Map<number, WindowFigures>) => [...m.values()].reduce((t, f) => t + WINDOW_COUNT_METRICS.reduce((s, k) => s + f[k], 0), 0);
  const expectedEvents = count(expectedAt);
  const actualEvents = count(actualAt);
  const bad = differences.some((d) => d.kind !== 'moved');
  return {
    verdict: { consumer: input.consumer, effect: 'events counted in windows', expected: expectedEvents, actual: actualEvents, missing, double, unexpected: 0, moved, ok: !bad },
    differences,
  };
}

export function compareReviewRequests(input: {
  consumer: string;
  expected: ExpectedEffects['reviewRequests'];
  observed: ObservedReviewRequests;
}): { verdict: ConsumerVerdict; differences: EffectDifference[] } {
  const differences: EffectDifference[] = [];
  let missing = 0;
  let double = 0;
  let unexpected = 0;
  let actual = 0;
  for (const [id, request] of input.expected) {
    const got = input.observed.bySourceEvent.get(id)?.count ?? 0;
    if (got === 0) {
      missing += 1;
      differences.push({
        consumer: input.consumer,
        kind: 'missing',
        subject: `review request for event ${id} (order ${request.orderId})`,
        expected: 1,
        actual: 0,
        amount: 1,
        detail: `record ${request.shardId}/${request.sequenceNumber}; reasons ${request.reasons.join(', ')}`,
      });
    } else if (got > 1) {
      double += got - 1;
      differences.push({ consumer: input.consumer, kind: 'double', subject: `review request for event ${id} (order ${request.orderId})`, expected: 1, actual: got, amount: got - 1 });
    }
  }
  for (const [id, { count, orderId }] of input.observed.bySourceEvent) {
    actual += count;
    if (input.expected.has(id)) continue;
    unexpected += count;
    differences.push({
      consumer: input.consumer,
      kind: 'unexpected',
      subject: `review request for event ${id} (order ${orderId})`,
      expected: 0,
      actual: count,
      amount: count,
      detail: 'no unique valid order.placed on the stream needs this review',
    });
  }
  return {
    verdict: { consumer: input.consumer, effect: 'review requests', expected: input.expected.size, actual, missing, double, unexpected, moved: 0, ok: differences.length === 0 },
    differences,
  };
}
