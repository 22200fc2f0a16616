/**
 * One invocation, start to finish: decode and validate (rules 1-3), schedule (5, 7), quarantine (4),
 * build the partial batch response (6), log (10) and emit metrics (11). Built once per container by
 * the handler factories; `invoke` runs per batch.
 */
import type { Context, KinesisStreamBatchItemFailure, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { Logger } from '../../telemetry/logger';
import { CLAIM_LEASE_MARGIN_MS, NO_CONTEXT_LEASE_MS } from './claim-lease';
import { RecordDecoder, shardIdOf } from './decode';
import { Dispatcher, type DispatchHooks, type Unsettled } from './dispatcher';
import { MemoryDurableStore, type DurableRecordStore } from './durable-store';
import type { ClaimStoreHolder } from './handler-runner';
import { isolatePoisonRecords } from './poison';
import { RuntimeConfigError, RuntimeInvariantError } from './errors';
import { onFirstUse } from './on-first-use';
import { RuntimeMetrics, type InvocationCounts } from './metrics';
import { resolveSettings, type ConsumerRuntimeOptions, type ResolvedSettings } from './options';
import { flushQuarantine } from './quarantine';
import { ItemStatus, type BatchInfo, type RecordItem } from './record-item';
import { compareSequenceNumbers } from './sequence-number';
import type { AnyEvent } from './types';

/** Runs one record (handler or window reducer); see DispatchHooks.start. */
export interface RecordStarter {
  start(item: RecordItem): Promise<void> | undefined;
}

export interface InvocationResult {
  readonly batchItemFailures: KinesisStreamBatchItemFailure[];
  readonly counts: InvocationCounts;
  /** The timeout guard fired while records were still running. */
  readonly deadlineReached: boolean;
  readonly log: Logger;
}

const QUARANTINE_TIMEOUT = Symbol('quarantine-timeout');

/** Per-invocation tally: successes are counted and dropped; only failures are kept. */
class Outcome {
  processed = 0;
  /** Of `processed`: records the consumer's record filter left out (./record-filter.ts). */
  filtered = 0;
  duplicates = 0;
  /** Quarantined while the dispatch ran (window mode writes each one before reducing further). */
  quarantinedEarly = 0;
  readonly toQuarantine: RecordItem[] = [];
  readonly retry: RecordItem[] = [];
  private readonly debug: boolean;

  constructor(private readonly log: Logger) {
    this.debug = log.isLevelEnabled('debug');
  }

  settle(item: RecordItem): void {
    switch (item.status) {
      case ItemStatus.Done:
        this.processed += 1;
        if (this.debug) this.log.debug({ sequenceNumber: item.sequenceNumber, subSequenceNumber: item.subSequenceNumber, eventId: item.eventId, eventType: item.eventType }, 'record processed');
        break;
      case ItemStatus.Filtered:
        // Counted as processed, as Lambda counts a record its FilterCriteria dropped.
        this.processed += 1;
        this.filtered += 1;
        break;
      case ItemStatus.Duplicate:
        this.duplicates += 1;
        if (this.debug) this.log.debug({ sequenceNumber: item.sequenceNumber, eventId: item.eventId }, 'duplicate skipped');
        break;
      case ItemStatus.ToQuarantine:
        this.toQuarantine.push(item);
        break;
      case ItemStatus.Retry:
        this.retry.push(item);
        break;
      case ItemStatus.Quarantined:
        this.quarantinedEarly += 1;
        break;
      default:
        throw new RuntimeInvariantError(`record ${item.sequenceNumber} settled in state ${item.status}`);
    }
  }
}

/**
 * The dispatcher's hooks for one invocation. A class (not closures) so the dispatcher's optimised
 * code sees the same call targets on every invocation instead of deoptimising per batch.
 */
class InvocationHooks implements DispatchHooks {
  constructor(
    private readonly records: readonly KinesisStreamRecord[],
    private readonly batch: BatchInfo,
    private readonly decoder: RecordDecoder,
    private readonly starter: RecordStarter,
    private readonly outcome: Outcome,
    private readonly context: Context,
    /** Timeout margin in ms, or -1 when the context cannot tell the remaining time. */
    private readonly margin: number,
    /** Keys whose execution from an earlier invocation is still running in this container (rule 5). */
    private readonly busyKeys: ReadonlyMap<string, Promise<void>>,
    /** Window mode (rule 9): write a permanent failure to quarantine before reducing any later record. */
    private readonly quarantineNow: ((item: RecordItem) => Promise<void>) | undefined,
  ) {}

  expand(index: number): RecordItem | RecordItem[] {
    return this.decoder.expand(this.records[index]!, this.batch);
  }

  /**
   * Rule 5 across invocations: a key still running from an earlier invocation (cut short by the timeout
   * guard) starts again only after that execution ended; if this invocation answered meanwhile, the
   * record is not started at all (it was reported for redelivery).
   */
  start(item: RecordItem): Promise<void> | undefined {
    const busy = this.busyKeys.size > 0 ? this.busyKeys.get(item.partitionKey) : undefined;
    if (busy === undefined) return this.begin(item);
    item.status = ItemStatus.Running;
    return busy.then(() => {
      if (this.batch.closed) {
        item.status = ItemStatus.Retry;
        item.transient = 'not-started';
        return undefined;
      }
      item.status = ItemStatus.Pending;
      return this.begin(item);
    });
  }

  /** Rules 1-3 run when the record starts: a permanent failure is queued for quarantine. */
  private begin(item: RecordItem): Promise<void> | undefined {
    const run = this.decoder.load(item) ? this.starter.start(item) : undefined;
    const quarantineNow = this.quarantineNow;
    if (quarantineNow === undefined) return run;
    if (run === undefined) return item.status === ItemStatus.ToQuarantine ? quarantineNow(item) : undefined;
    return run.then(() => (item.status === ItemStatus.ToQuarantine ? quarantineNow(item) : undefined));
  }

  shouldStop(): boolean {
    return this.margin >= 0 && this.context.getRemainingTimeInMillis() < this.margin;
  }

  settle(item: RecordItem): void {
    this.outcome.settle(item);
  }
}

// pino (~60 KiB, ~15 ms to load and build a logger) loads with the first invocation, not at init.
const loggerModule = onFirstUse(() => import('../../telemetry/logger'));

/** pino's levels (its `levels.values`), spelled out so a bad LOG_LEVEL fails the cold start, before pino is built. */
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function logLevelFromEnv(env: NodeJS.ProcessEnv): string {
  const level = env['LOG_LEVEL'];
  if (level === undefined || level === '') return 'info';
  if (!LOG_LEVELS.has(level)) {
    throw new RuntimeConfigError(`LOG_LEVEL="${level}" must be one of ${[...LOG_LEVELS].join(', ')}`);
  }
  return level;
}

export class ConsumerRuntime {
  readonly settings: ResolvedSettings;
  private logger: Logger | undefined;
  private readonly createLog: () => Promise<Logger>;
  private readonly decoder: RecordDecoder;
  private readonly metrics: RuntimeMetrics | undefined;
  /** The durable store for event claims, once resolved (shared with the handler runner). */
  readonly claims: ClaimStoreHolder = { store: undefined };
  /** Where rule 13 counts failed deliveries: the durable store, else this container's memory. */
  private attempts: DurableRecordStore | undefined;
  private durableReady: Promise<void> | undefined;
  /** Partition keys with an execution still running after its invocation answered (timeout guard). */
  private readonly busyKeys = new Map<string, Promise<void>>();

  constructor(options: ConsumerRuntimeOptions<AnyEvent>) {
    this.settings = resolveSettings(options);
    const { consumerName } = this.settings;
    this.logger = options.logger;
    // Configuration is read (and a bad LOG_LEVEL refused) here, at init; only pino's construction waits.
    const level = options.logger === undefined ? logLevelFromEnv(process.env) : undefined;
    this.createLog = async () =>
      (await loggerModule()).createLogger({
        name: consumerName,
        ...(level !== undefined ? { level } : {}),
        ...(options.redact !== undefined ? { redact: options.redact } : {}),
        ...(options.logDestination !== undefined ? { destination: options.logDestination } : {}),
      });
    this.decoder = new RecordDecoder(this.settings);
    this.metrics = this.settings.metrics ? new RuntimeMetrics(consumerName, this.settings.metrics) : undefined;
  }

  /**
   * Loads pino and builds the consumer's root logger with the first invocation, not at init (loading
   * pino and building a logger with its redaction is ~15-20 ms of a cold start, BENCHMARKS.md; the
   * configuration, LOG_LEVEL included, is checked at init). Later calls: one settled await.
   */
  async ready(): Promise<void> {
    if (this.logger === undefined) {
      const logger = await this.createLog();
      this.logger ??= logger;
    }
  }

  /** The root logger: available once `ready()` resolved (every handler factory awaits it first). */
  get log(): Logger {
    if (this.logger === undefined) throw new RuntimeInvariantError('the consumer runtime has no logger before ready() (the first invocation builds it)');
    return this.logger;
  }

  /** The root logger if it is built, else undefined (error paths that must not throw). */
  get builtLog(): Logger | undefined {
    return this.logger;
  }

  /** Creates the durable store on the first invocation (a dynamic import for DynamoDB); retried after a failure. */
  private resolveDurable(): Promise<void> {
    this.durableReady ??= (async () => {
      const configured = this.settings.durableStore;
      const store = typeof configured === 'function' ? await configured() : configured;
      this.claims.store = store;
      this.attempts = store ?? new MemoryDurableStore();
    })().catch((error: unknown) => {
      this.durableReady = undefined;
      throw error;
    });
    return this.durableReady;
  }

  /** Remember that `key` runs on after this invocation answered, until `execution` settles. */
  private keepKeyBusy(key: string, execution: Promise<void>): void {
    const done = execution.then(
      () => undefined,
      () => undefined,
    );
    this.busyKeys.set(key, done);
    void done.then(() => {
      if (this.busyKeys.get(key) === done) this.busyKeys.delete(key);
    });
  }

  async invoke(
    event: KinesisStreamEvent,
    context: Context,
    starter: RecordStarter,
    mode: { readonly concurrency: number; readonly stopAllOnFailure: boolean; readonly quarantineAtOnce?: boolean },
  ): Promise<InvocationResult> {
    const { settings, decoder } = this;
    if (this.logger === undefined) await this.ready();
    if (this.attempts === undefined) await this.resolveDurable();
    const startedAt = settings.now();
    if (event === null || typeof event !== 'object' || !Array.isArray(event.Records)) {
      throw new RuntimeInvariantError('event.Records is not an array: this is not a Kinesis event');
    }
    const records = event.Records;
    const topShardId = (event as { shardId?: unknown }).shardId;
    const shardId = typeof topShardId === 'string' ? topShardId : shardIdOf(records[0]?.eventID);
    // With X-Ray tracing the Lambda runtime sets _X_AMZN_TRACE_ID per invocation: every line of the
    // invocation carries it, beside the records' envelope traceId, so a trace and its records meet.
    const xrayTraceId = process.env['_X_AMZN_TRACE_ID'];
    const log = this.log.child({ requestId: context?.awsRequestId, functionName: context?.functionName, shardId, ...(xrayTraceId ? { xrayTraceId } : {}) });
    const oldestArrivalMs = decoder.check(records);
    const outcome = new Outcome(log);

    // Rule 7, timeout guard ("Lambda with Kinesis": a timed-out invocation is retried whole).
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const remainingAtStart = remaining ? remaining() : Infinity;
    const margin = Math.min(settings.timeoutMarginMs, remainingAtStart / 2);
    let timer: NodeJS.Timeout | undefined;
    let deadlineReached = false;
    const deadline = Number.isFinite(remainingAtStart)
      ? new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            deadlineReached = true;
            resolve();
          }, Math.max(0, remainingAtStart - margin));
        })
      : undefined;

    const batch: BatchInfo = {
      shardId,
      log,
      closed: false,
      // Rule 8: a claim's lease ends when this invocation is over for certain (plus a margin for clock skew).
      leaseMs: Number.isFinite(remainingAtStart) ? Math.ceil(remainingAtStart) + CLAIM_LEASE_MARGIN_MS : NO_CONTEXT_LEASE_MS,
      handlerSuccesses: 0,
    };
    const quarantineNow = mode.quarantineAtOnce ? (item: RecordItem) => this.quarantineOne(item, log) : undefined;
    const hooks = new InvocationHooks(records, batch, decoder, starter, outcome, context, remaining !== undefined ? margin : -1, this.busyKeys, quarantineNow);
    const dispatcher = new Dispatcher(records.length, mode.concurrency, mode.stopAllOnFailure, hooks);
    let unsettled: Unsettled;
    let quarantined = 0;
    try {
      const run = dispatcher.run();
      if (deadline) {
        await Promise.race([run, deadline]);
        if (deadlineReached) {
          batch.closed = true;
          dispatcher.stop();
          run.catch(() => undefined); // still-running handlers finish in the background; their records are redelivered
        }
      } else {
        await run;
      }
      unsettled = dispatcher.unsettled();
      if (deadlineReached) {
        // Rule 5: the next invocation in this container does not start these keys before their executions end.
        for (const item of unsettled.items) if (item.pending !== undefined && item.status === ItemStatus.Running) this.keepKeyBusy(item.partitionKey, item.pending);
        for (const item of outcome.toQuarantine) outcome.retry.push(item); // no time left to write them
        outcome.toQuarantine.length = 0;
      } else {
        if (settings.poisonAttempts > 0 && outcome.retry.length > 0) {
          await isolatePoisonRecords(outcome, batch.handlerSuccesses ?? 0, this.attempts!, settings.poisonAttempts, log);
        }
        quarantined = await this.quarantine(outcome, unsettled, records, log, deadline);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return this.finish(outcome, unsettled, dispatcher.itemsSeen, records, quarantined + outcome.quarantinedEarly, oldestArrivalMs, startedAt, deadlineReached, log, context?.awsRequestId);
  }

  /**
   * Window mode (rule 9): one permanent failure written before the fold goes on, so a failed write
   * stops the fold there and the returned state holds nothing at or after the reported record.
   */
  private async quarantineOne(item: RecordItem, log: Logger): Promise<void> {
    const error = await flushQuarantine([item], this.settings.quarantine, this.settings.consumerName, new Date(this.settings.now()));
    if (item.status === ItemStatus.Quarantined) {
      const failure = item.permanent!;
      log.warn({ ...this.recordFields(item), kind: failure.kind, reason: failure.message, ...(failure.issues ? { issues: failure.issues } : {}) }, 'record quarantined');
    } else {
      log.error({ ...(error !== undefined ? { err: error } : {}), ...this.recordFields(item) }, 'quarantine write failed; the record and everything after it will be redelivered');
    }
  }

  /** The lowest sequence number Lambda must redeliver from, if any. */
  private lowest(outcome: Outcome, unsettled: Unsettled, records: readonly KinesisStreamRecord[]): string | undefined {
    let lowest: string | undefined =
      unsettled.firstUnexpandedRecord !== undefined ? records[unsettled.firstUnexpandedRecord]!.kinesis.sequenceNumber : undefined;
    for (const list of [outcome.retry, unsettled.items]) {
      for (const item of list) {
        if (lowest === undefined || compareSequenceNumbers(item.sequenceNumber, lowest) < 0) lowest = item.sequenceNumber;
      }
    }
    return lowest;
  }

  /**
   * Quarantine the permanent failures before the first record that will be redelivered anyway
   * (later ones come back with the retry and are quarantined then, so the queue gets no duplicates).
   * Returns how many were written.
   */
  private async quarantine(
    outcome: Outcome,
    unsettled: Unsettled,
    records: readonly KinesisStreamRecord[],
    log: Logger,
    deadline: Promise<void> | undefined,
  ): Promise<number> {
    if (outcome.toQuarantine.length === 0) return 0;
    const firstRetry = this.lowest(outcome, unsettled, records);
    const batch: RecordItem[] = [];
    for (const item of outcome.toQuarantine) {
      if (firstRetry !== undefined && compareSequenceNumbers(item.sequenceNumber, firstRetry) >= 0) {
        item.status = ItemStatus.Retry;
        item.transient = 'blocked-by-earlier-failure';
        outcome.retry.push(item);
      } else {
        batch.push(item);
      }
    }
    outcome.toQuarantine.length = 0;
    if (batch.length === 0) return 0;
    const flush = flushQuarantine(batch, this.settings.quarantine, this.settings.consumerName, new Date(this.settings.now()));
    const result = deadline ? await Promise.race([flush, deadline.then(() => QUARANTINE_TIMEOUT)]) : await flush;
    if (result === QUARANTINE_TIMEOUT) {
      log.error({ records: batch.length }, 'quarantine write did not finish before the timeout guard; records will be redelivered');
    } else if (result !== undefined) {
      log.error({ err: result, records: batch.length }, 'quarantine write failed; records will be redelivered');
    }
    let written = 0;
    for (const item of batch) {
      if (item.status === ItemStatus.Quarantined) {
        written += 1;
        const failure = item.permanent!;
        log.warn(
          { ...this.recordFields(item), kind: failure.kind, reason: failure.message, ...(failure.issues ? { issues: failure.issues } : {}) },
          'record quarantined',
        );
      } else {
        if (item.status !== ItemStatus.Retry) {
          item.status = ItemStatus.Retry;
          item.transient = 'quarantine-failed';
        }
        outcome.retry.push(item);
      }
    }
    return written;
  }

  private finish(
    outcome: Outcome,
    unsettled: Unsettled,
    itemsSeen: number,
    records: readonly KinesisStreamRecord[],
    quarantined: number,
    oldestArrivalMs: number,
    startedAt: number,
    deadlineReached: boolean,
    log: Logger,
    requestId: string | undefined,
  ): InvocationResult {
    const debug = log.isLevelEnabled('debug');
    let handlerErrors = 0;
    for (const item of outcome.retry) {
      if (item.transient === 'handler-error' || item.transient === 'idempotency-error') {
        handlerErrors += 1;
        log.error({ ...this.recordFields(item), kind: item.transient, err: item.transientError }, 'record failed; it will be redelivered');
      } else if (debug) {
        log.debug({ ...this.recordFields(item), kind: item.transient }, 'record will be redelivered');
      }
    }
    for (const item of unsettled.items) {
      item.transient = 'unfinished';
      if (debug) log.debug({ ...this.recordFields(item), kind: item.transient }, 'record will be redelivered');
    }
    const unexpanded = unsettled.firstUnexpandedRecord !== undefined ? records.length - unsettled.firstUnexpandedRecord : 0;
    // Rule 6 ("Configuring partial batch response with Kinesis Data Streams and Lambda"): the response is
    // {batchItemFailures: [{itemIdentifier: <sequence number>}]}; Lambda checkpoints at the lowest reported
    // sequence number and retries from there, so exactly that one identifier is reported (empty list = success).
    const lowest = this.lowest(outcome, unsettled, records);
    const batchItemFailures: KinesisStreamBatchItemFailure[] = lowest !== undefined ? [{ itemIdentifier: lowest }] : [];
    const finishedAt = this.settings.now();
    const retried = outcome.retry.length + unsettled.items.length + unexpanded;
    const counts: InvocationCounts = {
      // A KPL aggregate never reached (timeout guard) counts as one record.
      received: itemsSeen + unexpanded,
      processed: outcome.processed,
      filtered: outcome.filtered,
      quarantined,
      retried,
      duplicates: outcome.duplicates,
      durationMs: finishedAt - startedAt,
      maxRecordAgeMs: Number.isFinite(oldestArrivalMs) ? Math.max(0, Math.round(finishedAt - oldestArrivalMs)) : 0,
    };
    const { filtered, ...logged } = counts;
    const summary = {
      ...logged,
      ...(filtered > 0 ? { filtered } : {}),
      ...(lowest !== undefined ? { retryFromSequenceNumber: lowest } : {}),
      ...(deadlineReached ? { timeoutGuard: true } : {}),
    };
    if (retried > 0) log.warn({ ...summary, handlerErrors }, 'batch partly failed');
    else log.info(summary, 'batch processed');
    this.metrics?.emit(counts, finishedAt, requestId);
    return { batchItemFailures, counts, deadlineReached, log };
  }

  private recordFields(item: RecordItem): Record<string, unknown> {
    const fields: Record<string, unknown> = { sequenceNumber: item.sequenceNumber };
    if (item.subSequenceNumber !== undefined) fields['subSequenceNumber'] = item.subSequenceNumber;
    if (item.eventId !== undefined) {
      fields['eventId'] = item.eventId;
      fields['eventType'] = item.eventType;
    }
    if (item.traceId !== undefined) fields['traceId'] = item.traceId;
    return fields;
  }
}
