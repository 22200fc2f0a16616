/**
 * The live view and the summary as a person reads them: the seed that replays the run, a FILT column
 * beside QUAR (why a consumer's QUAR differs from the stream's INVALID), revenue in five currencies on
 * one line within 80 columns.
 */
import { describe, expect, it } from 'vitest';
import { emptyFigures } from '../../local/business-figures';
import { moneyLines, plain, renderSummary, renderView } from '../../local/live-view';
import type { ConsumerView, RunSummary, RunnerSnapshot } from '../../local/pipeline-runner';

const consumer = (name: string, filtered: number, quarantined: number): ConsumerView => ({
  name,
  stream: 'orders',
  state: 'running' as ConsumerView['state'],
  batchesPerSecond: 2,
  recordsPerSecond: 50.7,
  iteratorAgeMs: 1040,
  millisBehindLatest: 0,
  maxIteratorAgeMs: 2000,
  inFlight: 1,
  retries: 0,
  invocationErrors: 0,
  processed: 800,
  filtered,
  quarantined,
  validQuarantined: 0,
  quarantineLinesRead: quarantined,
  onFailure: 0,
  duplicatesSkipped: 0,
  missing: 96,
});

function snapshot(): RunnerSnapshot {
  const business = emptyFigures('Orders/Business');
  business.datapoints = 5;
  business.totals = { OrdersPlaced: 824 };
  // Five currencies with large amounts: the exact form (EUR 1,145,491.77 ...) does not fit 80 columns.
  business.byCurrency = { RevenueMinor: { EUR: 114549177, GBP: 119264459, JPY: 19947236, SEK: 115583225, USD: 123456789 } };
  return {
    at: '2026-12-02T08:00:00.000Z',
    uptimeMs: 60_000,
    state: 'running',
    seed: 1764662400,
    pipeline: 'orders',
    kinesisEngine: 'kinesalite',
    kinesisEndpoint: 'http://127.0.0.1:1',
    lambdaEndpoint: 'http://127.0.0.1:2',
    dataDir: '/data',
    streams: [{ name: 'orders', arn: 'arn', shards: 2, putRate: 50, records: 1000, invalid: 20, failedPuts: 0 }],
    consumers: [consumer('order-metrics', 0, 20), consumer('order-review', 612, 3)],
    functions: [],
    business: [business],
  };
}

describe('live view', () => {
  const lines = renderView(snapshot()).map(plain);

  it('shows the seed of the run', () => {
    expect(lines[0]).toContain('seed 1764662400');
  });

  it('has a FILT column beside QUAR with each consumer\'s filtered count, and explains INVALID vs QUAR', () => {
    const header = lines.find((l) => l.startsWith('CONSUMER'))!;
    const columns = header.replace('AGE ms', 'AGE_ms').split(/\s+/);
    expect(columns.indexOf('FILT')).toBe(columns.indexOf('QUAR') - 1);
    const review = lines.find((l) => l.startsWith('order-review'))!.trim().split(/\s+/);
    expect(review[columns.indexOf('FILT')]).toBe('612');
    expect(review[columns.indexOf('QUAR')]).toBe('3');
    expect(lines.join('\n')).toContain('INVALID events end in QUAR, or FILT if filtered');
  });

  it('keeps five currencies on one revenue line, every line within 80 columns', () => {
    const revenue = lines.filter((l) => l.includes('revenue') || /^\s+[A-Z]{3} /.test(l));
    expect(revenue).toHaveLength(1);
    for (const currency of ['EUR', 'GBP', 'JPY', 'SEK', 'USD']) expect(revenue[0]).toContain(currency);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('shows exact amounts while they fit, and wraps only what no shorter form fits', () => {
    expect(moneyLines('revenue', { EUR: 12345, JPY: 500 })).toEqual(['  revenue  EUR 123.45  JPY 500']);
    const many = Object.fromEntries(['AUD', 'CAD', 'CHF', 'EUR', 'GBP', 'JPY', 'NOK', 'SEK', 'USD'].map((c) => [c, 987654321]));
    const wrapped = moneyLines('revenue', many);
    expect(wrapped.length).toBeGreaterThan(1);
    for (const line of wrapped) expect(line.length).toBeLessThanOrEqual(80);
    expect(wrapped.join(' ').match(/[A-Z]{3} /g)).toHaveLength(9);
  });
});

describe('summary', () => {
  it('names the seed that replays the run', () => {
    const summary = { durationMs: 1000, seed: 99, produced: 0, producedValid: 0, producedInvalid: 0, failedPuts: 0, consumers: [], accounted: true, health: { functions: [], checkpoints: [], problems: [], warnings: [] } } as unknown as RunSummary;
    expect(renderSummary(summary).map(plain).join('\n')).toContain('seed 99');
  });
});
