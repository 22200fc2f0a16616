/**
 * The ground-truth check's arithmetic (pure): expected effects from unique valid events, and the
 * comparison naming missing, double-counted, unexpected and moved effects.
 */
import { describe, expect, it } from 'vitest';
import { compareReviewRequests, compareWindows } from '../../ops/verify/compare-effects';
import { emptyWindowFigures, expectedEffects, type GroundTruthEvent, type WindowFigures } from '../../ops/verify/ground-truth';
import type { ObservedReviewRequests, ObservedWindows } from '../../ops/verify/observed-effects';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
let sequence = 100n;

function at(event: OrderEvent, arrivalMs: number, shardId = 'shardId-000000000000'): GroundTruthEvent {
  sequence += 1n;
  return { shardId, sequenceNumber: String(sequence), subSequenceNumber: undefined, partitionKey: 'k', arrivalTime: new Date(arrivalMs), valid: true, id: event.id, type: event.type, event };
}

const rules = { amountThresholdMinor: { default: 1000, byCurrency: {} }, maxUnitsPerSku: 20, maxLines: 30 };

function figures(partial: Partial<WindowFigures>): WindowFigures {
  return { ...emptyWindowFigures(), ...partial };
}

function observed(published: [number, WindowFigures][], open: [number, WindowFigures][] = []): ObservedWindows {
  return { published: new Map(published), open: new Map(open), unreadable: [] };
}

describe('expected effects (ground truth)', () => {
  const fx = createFixtures({ seed: 3 });
  const placed = fx.orderPlaced();
  const paid = fx.orderPaid({ orderId: placed.data.orderId, amountMinor: 500, currency: 'EUR' });

  it('counts an event id once, in the window of its first record, however often it is on the stream', () => {
    const expected = expectedEffects([at(placed, T0 + 5_000), at(paid, T0 + 6_000), at(placed, T0 + MINUTE + 1), at(paid, T0 + 7_000)], { windowSeconds: 60 });
    expect(expected.counts).toMatchObject({ events: 4, valid: 4, duplicateIds: 2, uniqueValid: 2 });
    expect([...expected.windows]).toEqual([[T0, figures({ placed: 1, paid: 1, revenueMinor: { EUR: 500 } })]]);
  });

  it('gives invalid events no effect', () => {
    const invalid: GroundTruthEvent = { ...at(placed, T0), valid: false, event: undefined };
    const expected = expectedEffects([invalid], { windowSeconds: 60, review: { rules } });
    expect(expected.counts).toMatchObject({ invalid: 1, uniqueValid: 0 });
    expect(expected.windows.size).toBe(0);
    expect(expected.reviewRequests.size).toBe(0);
  });

  it('expects one review request per qualifying order.placed, none for the others', () => {
    const big = { ...fx.orderPlaced(), id: 'big' } as OrderEvent;
    (big as { data: { totalMinor: number } }).data.totalMinor = 5_000;
    const small = { ...fx.orderPlaced(), id: 'small' } as OrderEvent;
    (small as { data: { totalMinor: number; lines: unknown[] } }).data.totalMinor = 10;
    const expected = expectedEffects([at(big, T0), at(small, T0), at(big, T0 + 1)], { review: { rules } });
    expect([...expected.reviewRequests.keys()]).toEqual(['big']);
    expect(expected.reviewRequests.get('big')!.reasons).toContain('amount-above-threshold');
  });
});

describe('comparing windows', () => {
  const expected = new Map([
    [T0, figures({ placed: 3, paid: 1, revenueMinor: { EUR: 500 } })],
    [T0 + MINUTE, figures({ placed: 2 })],
  ]);

  it('accepts published windows plus open window state equal to the expected figures', () => {
    const result = compareWindows({ consumer: 'm', expected, observed: observed([[T0, figures({ placed: 3, paid: 1, revenueMinor: { EUR: 500 } })]], [[T0 + MINUTE, figures({ placed: 2 })]]) });
    expect(result.differences).toEqual([]);
    expect(result.verdict).toMatchObject({ ok: true, expected: 6, actual: 6, missing: 0, double: 0 });
  });

  it('detects a missing effect', () => {
    const result = compareWindows({ consumer: 'm', expected, observed: observed([[T0, figures({ placed: 3, paid: 1, revenueMinor: { EUR: 500 } })], [T0 + MINUTE, figures({ placed: 1 })]]) });
    expect(result.verdict).toMatchObject({ ok: false, missing: 1, double: 0 });
    expect(result.differences).toEqual([expect.objectContaining({ kind: 'missing', subject: 'window 2026-01-01T10:01:00Z placed', expected: 2, actual: 1, amount: 1 })]);
  });

  it('detects a double-counted effect (a window published twice)', () => {
    const twice = figures({ placed: 6, paid: 2, revenueMinor: { EUR: 1000 } });
    const result = compareWindows({ consumer: 'm', expected, observed: observed([[T0, twice], [T0 + MINUTE, figures({ placed: 2 })]]) });
    expect(result.verdict).toMatchObject({ ok: false, missing: 0, double: 4 });
    expect(result.differences.map((d) => [d.kind, d.subject, d.amount])).toEqual([
      ['double', 'window 2026-01-01T10:00:00Z placed', 3],
      ['double', 'window 2026-01-01T10:00:00Z paid', 1],
      ['double', 'window 2026-01-01T10:00:00Z revenue EUR', 500],
    ]);
  });

  it('calls an effect counted once but in a later window moved, not an error (re-put records arrive again)', () => {
    const result = compareWindows({
      consumer: 'm',
      expected,
      observed: observed([[T0, figures({ placed: 2, paid: 1, revenueMinor: { EUR: 500 } })], [T0 + MINUTE, figures({ placed: 3 })]]),
    });
    expect(result.verdict).toMatchObject({ ok: true, moved: 1, missing: 0, double: 0 });
    expect(result.differences).toEqual([expect.objectContaining({ kind: 'moved', amount: 1 })]);
  });

  it('never explains a surplus by a LATER shortfall: counted early plus lost later is double and missing', () => {
    const result = compareWindows({
      consumer: 'm',
      expected,
      observed: observed([[T0, figures({ placed: 4, paid: 1, revenueMinor: { EUR: 500 } })], [T0 + MINUTE, figures({ placed: 1 })]]),
    });
    expect(result.verdict).toMatchObject({ ok: false, missing: 1, double: 1, moved: 0 });
  });
});

describe('comparing review requests', () => {
  const expected = new Map([
    ['e1', { sourceEventId: 'e1', orderId: 'o1', shardId: 's', sequenceNumber: '1', reasons: ['many-lines'] }],
    ['e2', { sourceEventId: 'e2', orderId: 'o2', shardId: 's', sequenceNumber: '2', reasons: ['many-lines'] }],
  ]);
  const got = (entries: [string, number][]): ObservedReviewRequests => ({ bySourceEvent: new Map(entries.map(([id, count]) => [id, { count, orderId: `o-${id}` }])), unreadable: [] });

  it('accepts exactly one request per expected event', () => {
    expect(compareReviewRequests({ consumer: 'r', expected, observed: got([['e1', 1], ['e2', 1]]) }).verdict).toMatchObject({ ok: true, expected: 2, actual: 2 });
  });

  it('detects a missing request, a double request and an unexpected one', () => {
    const result = compareReviewRequests({ consumer: 'r', expected, observed: got([['e1', 2], ['e9', 1]]) });
    expect(result.verdict).toMatchObject({ ok: false, missing: 1, double: 1, unexpected: 1 });
    expect(result.differences.map((d) => [d.kind, d.subject.split(' ')[4]])).toEqual([
      ['double', 'e1'],
      ['missing', 'e2'],
      ['unexpected', 'e9'],
    ]);
  });
});
