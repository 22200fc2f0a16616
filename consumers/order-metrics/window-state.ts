/**
 * The tumbling-window state of order-metrics and its pure reducer.
 *
 * Lambda carries this object between the invocations of one window and shard ("Using tumbling
 * windows with Kinesis": the response must return `state`; state is limited to 1 MB per shard, above
 * which Lambda terminates the window early). Its size is bounded by construction:
 * - four counters;
 * - revenue per currency: at most one entry per ISO-4217 code (the contracts reject anything else);
 * - the ids of the most recent events folded in, capped at MAX_RECENT_EVENT_IDS (FIFO), used to skip
 *   redeliveries inside a window even on a new container (Lambda processes window records at least once);
 *   a window starts with the ids of the shard's previous window, so a copy of an event that window
 *   counted is skipped too (window-seed.ts);
 * - the published-window marker.
 * `test/consumers/order-metrics-window.test.ts` checks the worst case stays far below 1 MB.
 */
import * as z from 'zod';
import type { OrderEvent } from '../../schemas';
import { ISO_4217_CODES, type CurrencyCode } from '../../schemas/iso4217';

/** Bounded so the worst-case state (all currencies, a full id list) stays well below AWS's 1 MB. */
export const MAX_RECENT_EVENT_IDS = 4096;
/** AWS: "Your state can be a maximum of 1 MB per shard" (Lambda developer guide, tumbling windows). */
export const AWS_WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

const count = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

export const windowStateSchema = z.strictObject({
  /** State layout version, so a deployment that changes the layout can recognise old state. */
  v: z.literal(1),
  placed: count,
  paid: count,
  shipped: count,
  cancelled: count,
  /** Captured revenue (order.paid amountMinor) per currency, in minor units. */
  revenueMinor: z.partialRecord(z.enum(ISO_4217_CODES), count),
  /** Events folded in and skipped as redeliveries. */
  duplicatesSkipped: count,
  /** Ids of the most recent events folded in (oldest first), at most MAX_RECENT_EVENT_IDS. */
  recentEventIds: z.array(z.string()).max(MAX_RECENT_EVENT_IDS),
  /** Key of the window whose figures this state already published (see publish-window.ts). */
  publishedWindowKey: z.string().optional(),
});

export type WindowState = z.output<typeof windowStateSchema>;

export function emptyWindowState(): WindowState {
  return { v: 1, placed: 0, paid: 0, shipped: 0, cancelled: 0, revenueMinor: {}, duplicatesSkipped: 0, recentEventIds: [] };
}

/** Thrown when Lambda hands back a state this code did not write: a deployment or engine bug, never a record's fault. */
export class InvalidWindowStateError extends Error {
  constructor(detail: string) {
    super(`tumbling-window state is not an order-metrics state: ${detail}`);
    this.name = 'InvalidWindowStateError';
  }
}

/**
 * The state Lambda passed in. The first invocation of a window carries `{}` (or no state): that is an
 * empty window, not an error.
 */
export function readWindowState(state: unknown): WindowState {
  if (state === undefined || state === null) return emptyWindowState();
  if (typeof state === 'object' && !Array.isArray(state) && Object.keys(state).length === 0) return emptyWindowState();
  const parsed = windowStateSchema.safeParse(state);
  if (!parsed.success) {
    throw new InvalidWindowStateError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/**
 * Folds validated events into one window's state. Built once per invocation from the state Lambda
 * passed in (the id lookup is a Set, so each fold is O(1)); `state` is mutated in place because the
 * reducer runs per record on the hot path.
 */
export class WindowAccumulator {
  readonly state: WindowState;
  private readonly seen: Set<string>;

  constructor(state: WindowState = emptyWindowState()) {
    this.state = state;
    this.seen = new Set(state.recentEventIds);
  }

  /**
   * True when the event is already in this window (a redelivery, or a copy the previous window counted:
   * window-seed.ts); the skip is counted in `duplicatesSkipped`.
   */
  skipIfSeen(eventId: string): boolean {
    if (!this.seen.has(eventId)) return false;
    this.state.duplicatesSkipped += 1;
    return true;
  }

  /** Returns false when the event is a redelivery of one already folded into this window. */
  fold(event: OrderEvent): boolean {
    const state = this.state;
    if (this.skipIfSeen(event.id)) return false;
    switch (event.type) {
      case 'order.placed':
        state.placed += 1;
        break;
      case 'order.paid':
        addRevenue(state, event.data.currency, event.data.amountMinor);
        state.paid += 1;
        break;
      case 'order.shipped':
        state.shipped += 1;
        break;
      case 'order.cancelled':
        state.cancelled += 1;
        break;
    }
    this.seen.add(event.id);
    state.recentEventIds.push(event.id);
    if (state.recentEventIds.length > MAX_RECENT_EVENT_IDS) this.seen.delete(state.recentEventIds.shift()!);
    return true;
  }
}

/**
 * Revenue is what was captured (`order.paid`), not what was ordered: a placed order may be cancelled
 * or never paid, and the payment carries the amount actually charged in its own currency.
 */
function addRevenue(state: WindowState, currency: CurrencyCode, amountMinor: number): void {
  const next = (state.revenueMinor[currency] ?? 0) + amountMinor;
  // Contracts cap one amount at 1e11 minor units: overflowing 2^53 would need ~90,000 maximal payments
  // in one shard-minute. Refuse rather than publish a wrong figure.
  if (!Number.isSafeInteger(next)) throw new RangeError(`revenue for ${currency} exceeds 2^53 minor units in one window`);
  state.revenueMinor[currency] = next;
}

/** Serialized size of the state, as Lambda measures what the function returns. */
export function windowStateBytes(state: WindowState): number {
  return Buffer.byteLength(JSON.stringify(state), 'utf8');
}
