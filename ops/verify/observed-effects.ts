/**
 * What a local run produced, read from its data folder (the team contract of local/data-dir.ts):
 * - order-metrics' published windows: `metrics/<namespace>.ndjson` (PutMetricData-shaped data points);
 * - order-metrics' open windows: the window state stored with the mapping's checkpoints
 *   (`checkpoints/<pipeline>/<consumer>.<stream>.json`, with `--persist-stream` or `--endpoint`):
 *   counted already, published when the window closes;
 * - review requests: `invocations/review-intake.ndjson`, one accepted request per line.
 * A line that is not JSON (a torn append) is counted and reported: it may hide an effect.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BUSINESS_METRIC_NAMES, CURRENCY_DIMENSION } from '../../consumers/order-metrics/business-metrics';
import { emptyWindowFigures, type WindowFigures } from './ground-truth';

export interface UnreadableLine {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly text: string;
}

export interface ObservedWindows {
  /** Window start (epoch ms) -> figures of the published windows. */
  readonly published: Map<number, WindowFigures>;
  /** Window start (epoch ms) -> figures still in open window state (checkpoint files). */
  readonly open: Map<number, WindowFigures>;
  readonly unreadable: UnreadableLine[];
}

export interface ObservedReviewRequests {
  /** Source event id -> requests received. */
  readonly bySourceEvent: Map<string, { count: number; orderId: string }>;
  readonly unreadable: UnreadableLine[];
}

/** Non-empty lines of an NDJSON file, parsed; missing file = no lines. */
export async function readNdjson(path: string): Promise<{ values: unknown[]; unreadable: UnreadableLine[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { values: [], unreadable: [] };
    throw error;
  }
  const values: unknown[] = [];
  const unreadable: UnreadableLine[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      values.push(JSON.parse(line));
    } catch {
      unreadable.push({ file: path, line: index + 1, text: line.length > 120 ? `${line.slice(0, 120)}...` : line });
    }
  });
  return { values, unreadable };
}

const COUNT_FIELD: Record<string, keyof Omit<WindowFigures, 'revenueMinor'>> = {
  [BUSINESS_METRIC_NAMES.ordersPlaced]: 'placed',
  [BUSINESS_METRIC_NAMES.ordersPaid]: 'paid',
  [BUSINESS_METRIC_NAMES.ordersShipped]: 'shipped',
  [BUSINESS_METRIC_NAMES.ordersCancelled]: 'cancelled',
};

function figuresAt(map: Map<number, WindowFigures>, startMs: number): WindowFigures {
  let figures = map.get(startMs);
  if (figures === undefined) map.set(startMs, (figures = emptyWindowFigures()));
  return figures;
}

export async function readObservedWindows(args: {
  metricsFile: string;
  /** Checkpoint files of the order-metrics mappings (missing files are skipped). */
  checkpointFiles: readonly string[];
}): Promise<ObservedWindows> {
  const published = new Map<number, WindowFigures>();
  const { values, unreadable } = await readNdjson(args.metricsFile);
  for (const value of values) {
    const datum = value as { MetricName?: unknown; Timestamp?: unknown; Value?: unknown; Dimensions?: unknown };
    if (typeof datum.MetricName !== 'string' || typeof datum.Value !== 'number' || typeof datum.Timestamp !== 'string') continue;
    const startMs = Date.parse(datum.Timestamp);
    if (Number.isNaN(startMs)) continue;
    const figures = figuresAt(published, startMs);
    const field = COUNT_FIELD[datum.MetricName];
    if (field !== undefined) figures[field] += datum.Value;
    else if (datum.MetricName === BUSINESS_METRIC_NAMES.revenueMinor && Array.isArray(datum.Dimensions)) {
      const currency = (datum.Dimensions as { Name?: unknown; Value?: unknown }[]).find((d) => d.Name === CURRENCY_DIMENSION)?.Value;
      if (typeof currency === 'string') figures.revenueMinor[currency] = (figures.revenueMinor[currency] ?? 0) + datum.Value;
    }
  }
  const open = new Map<number, WindowFigures>();
  for (const file of args.checkpointFiles) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) continue;
    const parsed = JSON.parse(text) as { progress?: { shards?: Record<string, { window?: { startMs?: number; state?: unknown } }> } };
    for (const shard of Object.values(parsed.progress?.shards ?? {})) {
      const window = shard.window;
      if (window === undefined || typeof window.startMs !== 'number' || typeof window.state !== 'object' || window.state === null) continue;
      const state = window.state as Partial<WindowFigures>;
      const figures = figuresAt(open, window.startMs);
      for (const field of ['placed', 'paid', 'shipped', 'cancelled'] as const) figures[field] += typeof state[field] === 'number' ? state[field] : 0;
      for (const [currency, minor] of Object.entries(state.revenueMinor ?? {})) {
        if (typeof minor === 'number') figures.revenueMinor[currency] = (figures.revenueMinor[currency] ?? 0) + minor;
      }
    }
  }
  return { published, open, unreadable };
}

export async function readObservedReviewRequests(file: string): Promise<ObservedReviewRequests> {
  const { values, unreadable } = await readNdjson(file);
  const bySourceEvent = new Map<string, { count: number; orderId: string }>();
  for (const value of values) {
    const request = value as { sourceEventId?: unknown; orderId?: unknown };
    if (typeof request.sourceEventId !== 'string') continue;
    const entry = bySourceEvent.get(request.sourceEventId);
    if (entry !== undefined) entry.count += 1;
    else bySourceEvent.set(request.sourceEventId, { count: 1, orderId: typeof request.orderId === 'string' ? request.orderId : '' });
  }
  return { bySourceEvent, unreadable };
}

/** Checkpoint files of one consumer in `<checkpointsDir>/<pipeline>/` (one per stream it reads). */
export async function checkpointFilesOf(checkpointsDir: string, pipeline: string, consumer: string): Promise<string[]> {
  const dir = join(checkpointsDir, encodeURIComponent(pipeline));
  const names = await readdir(dir).catch(() => [] as string[]);
  const prefix = `${encodeURIComponent(consumer)}.`;
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.json')).map((n) => join(dir, n));
}
