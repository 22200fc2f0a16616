/** Reading the data folder's NDJSON files as others append to them, and the business figures from them. */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDatum, emptyFigures } from '../../local/business-figures';
import { NdjsonTail } from '../../local/ndjson-tail';
import { renderView, plain } from '../../local/live-view';
import type { RunnerSnapshot } from '../../local/runner-types';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ndjson-tail-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('NdjsonTail', () => {
  it('skips what the file held before the run and returns only complete new lines', async () => {
    const path = join(dir, 'a.ndjson');
    await writeFile(path, '{"old":1}\n');
    const tail = new NdjsonTail(path);
    await tail.skipExisting();
    await appendFile(path, '{"n":1}\n{"n":');
    expect(await tail.read()).toEqual([{ n: 1 }]);
    await appendFile(path, '2}\n');
    expect(await tail.read()).toEqual([{ n: 2 }]);
    expect(await tail.read()).toEqual([]);
  });

  it('keeps a multi-byte character split across two reads intact', async () => {
    const path = join(dir, 'b.ndjson');
    const tail = new NdjsonTail(path);
    await tail.skipExisting();
    const bytes = Buffer.from('{"city":"Malmö"}\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('ö', 'utf8')) + 1;
    await appendFile(path, bytes.subarray(0, cut));
    expect(await tail.read()).toEqual([]);
    await appendFile(path, bytes.subarray(cut));
    expect(await tail.read()).toEqual([{ city: 'Malmö' }]);
  });

  it('returns nothing for a file that does not exist yet, then its lines once written', async () => {
    const path = join(dir, 'later.ndjson');
    const tail = new NdjsonTail(path);
    await tail.skipExisting();
    expect(await tail.read()).toEqual([]);
    await writeFile(path, '{"x":true}\n');
    expect(await tail.read()).toEqual([{ x: true }]);
  });
});

describe('business figures', () => {
  it('sums counts per metric and revenue per currency from PutMetricData-shaped lines, and shows them', () => {
    const figures = emptyFigures('Orders/Business');
    const at = '2026-01-01T00:00:00.000Z';
    addDatum(figures, { Namespace: 'Orders/Business', MetricName: 'OrdersPlaced', Dimensions: [], Timestamp: at, Value: 3, Unit: 'Count' });
    addDatum(figures, { Namespace: 'Orders/Business', MetricName: 'OrdersPlaced', Dimensions: [], Timestamp: at, Value: 4, Unit: 'Count' });
    addDatum(figures, { Namespace: 'Orders/Business', MetricName: 'RevenueMinor', Dimensions: [{ Name: 'Currency', Value: 'EUR' }], Timestamp: at, Value: 12345, Unit: 'None' });
    addDatum(figures, { MetricName: 'RevenueMinor', Dimensions: [{ Name: 'Currency', Value: 'JPY' }], StatisticValues: { Sum: 500, SampleCount: 1, Minimum: 500, Maximum: 500 } });
    addDatum(figures, { not: 'a datum' });
    expect(figures.totals).toEqual({ OrdersPlaced: 7 });
    expect(figures.byCurrency).toEqual({ RevenueMinor: { EUR: 12345, JPY: 500 } });
    expect(figures.datapoints).toBe(4);

    const snapshot: RunnerSnapshot = {
      at,
      uptimeMs: 61_000,
      state: 'running',
      seed: 7,
      pipeline: 'orders',
      kinesisEngine: 'kinesalite',
      kinesisEndpoint: 'http://127.0.0.1:1',
      lambdaEndpoint: 'http://127.0.0.1:2',
      dataDir: '/data',
      streams: [],
      consumers: [],
      functions: [],
      business: [figures],
    };
    const text = renderView(snapshot).map(plain).join('\n');
    expect(text).toContain('placed 7');
    expect(text).toContain('EUR 123.45');
    expect(text).toContain('JPY 500');
    expect(text).toContain('up 00:01:01');
  });
});
