/**
 * Runs one validated record through idempotency (rule 8) and its handler, classifying what the
 * handler throws (rule 3). Synchronous all the way when the handler and the store are: a promise is
 * created only when one of them returns one.
 */
import type { Logger } from '../../telemetry/logger';
import { isPermanentError } from './errors';
import type { IdempotencyStore } from './idempotency';
import { ItemStatus, type RecordItem } from './record-item';
import type { RecordStarter } from './runtime';
import type { AnyEvent } from './types';

/** What a runner calls per event: a handler or a window reducer step. Returns a promise only when async. */
export type EventStep = (event: AnyEvent, item: RecordItem) => unknown;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

export class HandlerRunner implements RecordStarter {
  constructor(
    /** Step for an event type, or undefined when the consumer has none (the record is acknowledged). */
    private readonly stepFor: (type: string) => EventStep | undefined,
    private readonly idempotency: IdempotencyStore | undefined,
    private readonly log: Logger,
  ) {}

  start(item: RecordItem): Promise<void> | undefined {
    const idempotency = this.idempotency;
    if (idempotency !== undefined) {
      let seen: boolean | Promise<boolean>;
      try {
        seen = idempotency.has(item.event!.id);
      } catch (error) {
        this.transient(item, error);
        return undefined;
      }
      if (seen === true) {
        item.status = ItemStatus.Duplicate;
        item.event = undefined;
        return undefined;
      }
      if (seen !== false) {
        item.status = ItemStatus.Running;
        return Promise.resolve(seen).then(
          (already) => {
            if (!already) return this.invoke(item);
            item.status = ItemStatus.Duplicate;
            item.event = undefined;
            return undefined;
          },
          (error: unknown) => this.transient(item, error),
        );
      }
    }
    return this.invoke(item);
  }

  private invoke(item: RecordItem): Promise<void> | undefined {
    const event = item.event!;
    const step = this.stepFor(event.type);
    if (step === undefined) {
      item.status = ItemStatus.Done;
      item.event = undefined;
      return undefined;
    }
    let result: unknown;
    try {
      result = step(event, item);
    } catch (error) {
      this.failed(item, error);
      return undefined;
    }
    if (isPromiseLike(result)) {
      item.status = ItemStatus.Running;
      return Promise.resolve(result).then(
        () => this.succeeded(item),
        (error: unknown) => this.failed(item, error),
      );
    }
    return this.succeeded(item);
  }

  private succeeded(item: RecordItem): Promise<void> | undefined {
    item.event = undefined;
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

  /** The handler threw: PermanentError quarantines, anything else retries (rule 3). */
  private failed(item: RecordItem, error: unknown): void {
    item.event = undefined;
    if (isPermanentError(error)) {
      item.permanent = { kind: 'handler-permanent', message: error.message };
      item.status = ItemStatus.ToQuarantine;
    } else {
      item.status = ItemStatus.Retry;
      item.transient = 'handler-error';
      item.transientError = error;
    }
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
