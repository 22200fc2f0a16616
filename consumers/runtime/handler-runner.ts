/**
 * Runs one validated record through idempotency (rule 8) and its handler, classifying what the
 * handler throws (rule 3). Synchronous all the way when the handler and the first-level store are and
 * no durable store is configured: a promise is created only when one of them returns one.
 *
 * Idempotency, in order:
 * 1. the first level (in-memory LRU, or the store passed as `idempotency`): a known id is a duplicate;
 * 2. an execution of the same event id still running in this container (another partition key, or an
 *    earlier invocation cut short by the timeout guard): wait for it to end, then decide again, so an
 *    id in flight is never started twice;
 * 3. the durable store, when configured and the event has an effect (options.hasEffect): claim the id
 *    IN_PROGRESS with a lease (conditional write); COMPLETED means a duplicate, a claim held elsewhere
 *    means "report for redelivery"; after the handler, COMPLETED on success, released on failure.
 */
import type { Logger } from '../../telemetry/logger';
import type { DurableRecordStore, EventClaim } from './durable-store';
import { isPermanentError } from './errors';
import type { IdempotencyStore } from './idempotency';
import { ItemStatus, type RecordItem } from './record-item';
import type { RecordStarter } from './runtime';
import type { AnyEvent } from './types';

/** What a runner calls per event: a handler or a window reducer step. Returns a promise only when async. */
export type EventStep = (event: AnyEvent, item: RecordItem) => unknown;

/** A step returns this (synchronously) when the event was already in effect: the record is a skipped duplicate. */
export const DUPLICATE_SKIPPED: unique symbol = Symbol('duplicate-skipped');

/** The durable store used for claims, set by the runtime once it is resolved (per container). */
export interface ClaimStoreHolder {
  store: DurableRecordStore | undefined;
}

/** Lease of a claim made without a Lambda context: the Lambda maximum timeout, which no invocation outlives. */
export const DEFAULT_CLAIM_LEASE_MS = 15 * 60_000;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

export class HandlerRunner implements RecordStarter {
  /** Event ids whose execution is running in this container (settles when it ended). */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    /** Step for an event type, or undefined when the consumer has none (the record is acknowledged). */
    private readonly stepFor: (type: string) => EventStep | undefined,
    private readonly idempotency: IdempotencyStore | undefined,
    /** The logger, or a function returning it (the runtime's, created on first use). */
    private readonly logSource: Logger | (() => Logger),
    private readonly claims: ClaimStoreHolder = { store: undefined },
    /** Events that need a durable claim (options.hasEffect); undefined = all. */
    private readonly hasEffect: ((event: AnyEvent) => boolean) | undefined = undefined,
  ) {}

  private get log(): Logger {
    return typeof this.logSource === 'function' ? this.logSource() : this.logSource;
  }

  start(item: RecordItem): Promise<void> | undefined {
    const idempotency = this.idempotency;
    if (idempotency === undefined) return this.invoke(item, undefined);
    if (this.stepFor(item.event!.type) === undefined) {
      // Nothing to run for this type: acknowledged, no idempotency work.
      item.event = undefined;
      item.status = ItemStatus.Done;
      return undefined;
    }
    let seen: boolean | Promise<boolean>;
    try {
      seen = idempotency.has(item.event!.id);
    } catch (error) {
      this.transient(item, error);
      return undefined;
    }
    if (seen === true) {
      this.duplicate(item);
      return undefined;
    }
    if (seen !== false) {
      item.status = ItemStatus.Running;
      return Promise.resolve(seen).then(
        (already) => {
          if (!already) return this.afterFirstLevel(item);
          this.duplicate(item);
          return undefined;
        },
        (error: unknown) => this.transient(item, error),
      );
    }
    return this.afterFirstLevel(item);
  }

  private afterFirstLevel(item: RecordItem): Promise<void> | undefined {
    const id = item.eventId!;
    const running = this.inFlight.size > 0 ? this.inFlight.get(id) : undefined;
    if (running !== undefined) {
      // Rule 8: the same event id is running (another key, or an invocation cut short): wait, then decide again.
      item.status = ItemStatus.Running;
      // Not tracked itself: when it runs, the execution it waited for is gone from `inFlight`.
      return running.then(() => {
        if (item.batch.closed) return this.notStarted(item);
        item.status = ItemStatus.Pending;
        return this.start(item);
      });
    }
    const durable = this.claims.store;
    if (durable !== undefined && this.needsClaim(item.event!)) {
      item.status = ItemStatus.Running;
      const claimed = this.claimAndRun(item, durable);
      this.track(id, claimed);
      return claimed;
    }
    const result = this.invoke(item, undefined);
    if (result !== undefined) this.track(id, result);
    return result;
  }

  /** A predicate that throws cannot tell: claim, the safe side. */
  private needsClaim(event: AnyEvent): boolean {
    if (this.hasEffect === undefined) return true;
    try {
      return this.hasEffect(event);
    } catch (error) {
      this.log.warn({ err: error, eventId: event.id }, 'hasEffect threw; the event is claimed as if it had an effect');
      return true;
    }
  }

  private track(id: string, execution: Promise<void>): void {
    this.inFlight.set(id, execution);
    const forget = () => {
      if (this.inFlight.get(id) === execution) this.inFlight.delete(id);
    };
    execution.then(forget, forget);
  }

  private async claimAndRun(item: RecordItem, durable: DurableRecordStore): Promise<void> {
    const id = item.eventId!;
    let result;
    try {
      result = await durable.claim(id, item.batch.leaseMs ?? DEFAULT_CLAIM_LEASE_MS);
    } catch (error) {
      this.transient(item, error);
      return;
    }
    if (result.outcome === 'completed') {
      this.remember(id);
      this.duplicate(item);
      return;
    }
    if (result.outcome === 'in-progress') {
      item.event = undefined;
      item.status = ItemStatus.Retry;
      item.transient = 'in-progress-elsewhere';
      return;
    }
    if (item.batch.closed) {
      // The invocation answered while the claim was on the wire: the record was reported for redelivery.
      await this.releaseQuietly(durable, result.claim);
      this.notStarted(item);
      return;
    }
    await this.invoke(item, result.claim);
  }

  private invoke(item: RecordItem, claim: EventClaim | undefined): Promise<void> | undefined {
    const event = item.event!;
    const step = this.stepFor(event.type);
    if (step === undefined) {
      item.event = undefined;
      item.status = ItemStatus.Done;
      return undefined;
    }
    let result: unknown;
    try {
      result = step(event, item);
    } catch (error) {
      return this.failed(item, error, claim);
    }
    if (result === DUPLICATE_SKIPPED) {
      this.duplicate(item);
      return undefined;
    }
    if (isPromiseLike(result)) {
      item.status = ItemStatus.Running;
      return Promise.resolve(result).then(
        () => this.succeeded(item, claim),
        (error: unknown) => this.failed(item, error, claim),
      );
    }
    return this.succeeded(item, claim);
  }

  private succeeded(item: RecordItem, claim: EventClaim | undefined): Promise<void> | undefined {
    item.event = undefined;
    item.batch.handlerSuccesses = (item.batch.handlerSuccesses ?? 0) + 1;
    if (claim !== undefined) {
      return this.claims.store!.complete(claim).then(
        () => this.done(item),
        (error: unknown) => {
          // The effect happened; only its COMPLETED mark is missing: a redelivery after the claim's
          // lease runs it again (the documented at-least-once gap).
          this.log.error({ err: error, eventId: item.eventId }, 'idempotency store could not mark a handled event completed; a redelivery after the claim lease will run it again');
          this.done(item);
        },
      );
    }
    return this.done(item);
  }

  private done(item: RecordItem): Promise<void> | undefined {
    const idempotency = this.idempotency;
    if (idempotency !== undefined) {
      let added: void | Promise<void> = undefined;
      try {
        added = idempotency.add(item.eventId!);
      } catch (error) {
        this.storeFailed(error);
      }
      if (isPromiseLike(added)) {
        return Promise.resolve(added).then(
          () => void (item.status = ItemStatus.Done),
          (error: unknown) => {
            this.storeFailed(error);
            item.status = ItemStatus.Done;
          },
        );
      }
    }
    item.status = ItemStatus.Done;
    return undefined;
  }

  /** The handler threw: PermanentError quarantines, anything else retries (rule 3). A claim is released first. */
  private failed(item: RecordItem, error: unknown, claim: EventClaim | undefined): Promise<void> | undefined {
    item.event = undefined;
    if (isPermanentError(error)) {
      item.permanent = { kind: 'handler-permanent', message: error.message };
      item.status = ItemStatus.ToQuarantine;
    } else {
      item.status = ItemStatus.Retry;
      item.transient = 'handler-error';
      item.transientError = error;
    }
    if (claim === undefined) return undefined;
    const status = item.status;
    item.status = ItemStatus.Running;
    return this.releaseQuietly(this.claims.store!, claim).then(() => void (item.status = status));
  }

  private async releaseQuietly(durable: DurableRecordStore, claim: EventClaim): Promise<void> {
    try {
      await durable.release(claim);
    } catch (error) {
      // Not fatal: the claim's lease expires and a redelivery takes it over.
      this.log.warn({ err: error, eventId: claim.eventId }, 'idempotency claim could not be released; a redelivery takes it over after its lease');
    }
  }

  private remember(id: string): void {
    try {
      void this.idempotency?.add(id);
    } catch (error) {
      this.storeFailed(error);
    }
  }

  private duplicate(item: RecordItem): void {
    item.status = ItemStatus.Duplicate;
    item.event = undefined;
  }

  private notStarted(item: RecordItem): undefined {
    item.event = undefined;
    item.status = ItemStatus.Retry;
    item.transient = 'not-started';
    return undefined;
  }

  private transient(item: RecordItem, error: unknown): void {
    item.event = undefined;
    item.status = ItemStatus.Retry;
    item.transient = 'idempotency-error';
    item.transientError = error;
  }

  /** The event was handled; only duplicate detection for it is lost. */
  private storeFailed(error: unknown): void {
    this.log.warn({ err: error }, 'idempotency store could not record a handled event; a redelivery of it will run again');
  }
}
