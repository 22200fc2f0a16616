/**
 * order-metrics: order counts and captured revenue per 60 s tumbling window and shard, published as
 * CloudWatch business metrics when the window closes (see publish-window.ts for the exact guarantee).
 *
 * Environment: BUSINESS_METRICS_NAMESPACE (required), BUSINESS_METRICS_DIMENSIONS (JSON object),
 * LOCAL_DATA_DIR (publish to a local NDJSON file instead of CloudWatch; also the local quarantine),
 * PUBLISH_LEDGER_TABLE (DynamoDB table of the durable publish ledger; set by the stack),
 * PUBLISH_LEDGER_LEASE_SECONDS (lease of a window's publish claim; default: see `claimLeaseMs`),
 * CONSUMER_NAME (default "order-metrics"), and the runtime's variables (QUARANTINE_QUEUE_URL,
 * METRICS_NAMESPACE, LOG_LEVEL, MAX_HOPS, TIMEOUT_MARGIN_MS).
 */
import type { Context } from 'aws-lambda';
import { registry, type OrderEvent } from '../../schemas';
import { createKinesisWindowHandler, type ConsumerRuntimeOptions, type KinesisWindowBatchHandler, type WindowInfo } from '../runtime';
import type { Logger } from '../../telemetry/logger';
import type { BusinessMetricsPublisher } from './business-metrics-publisher';
import { CloudWatchBusinessMetricsPublisher } from './cloudwatch-publisher';
import { readOrderMetricsConfig, type OrderMetricsConfig } from './config';
import { DynamoDbPublishLedger } from './dynamodb-publish-ledger';
import { FileBusinessMetricsPublisher } from './file-publisher';
import { claimLeaseMs } from './claim-lease';
import { closeWindow } from './publish-window';
import { seededWindowState } from './window-seed';
import { WindowAccumulator, readWindowState, type WindowState } from './window-state';

export const CONSUMER_NAME = 'order-metrics';

/**
 * The NDJSON file of the team contract (marker-file ledger) when LOCAL_DATA_DIR is set; else CloudWatch,
 * with the DynamoDB ledger when PUBLISH_LEDGER_TABLE names one (deployed stacks), in memory otherwise.
 */
export function publisherFromConfig(config: OrderMetricsConfig): BusinessMetricsPublisher {
  if (config.localDataDir !== undefined) return new FileBusinessMetricsPublisher({ dataDir: config.localDataDir, namespace: config.namespace });
  const ledger =
    config.publishLedgerTable !== undefined
      ? new DynamoDbPublishLedger({ tableName: config.publishLedgerTable })
      : undefined;
  // Both SDK clients are created when the first window closes, not at cold start (runtime/on-first-use.ts).
  return new CloudWatchBusinessMetricsPublisher({ namespace: config.namespace, ...(ledger ? { ledger } : {}) });
}

export interface OrderMetricsDependencies {
  readonly config: OrderMetricsConfig;
  readonly publisher: BusinessMetricsPublisher;
  /** Runtime options to override (tests: quarantine sink, logger, metrics writer). */
  readonly runtime?: Partial<ConsumerRuntimeOptions<OrderEvent>>;
  readonly now?: () => Date;
}

export function createOrderMetricsHandler(deps: OrderMetricsDependencies): KinesisWindowBatchHandler {
  const { config, publisher } = deps;
  // One accumulator per state object: the state Lambda passes in is validated once per invocation,
  // then each record is an O(1) fold. It folds into that very object (the validated fields written
  // back onto it), so the object the runtime holds is always the state it returns, also when a batch
  // only skips duplicates and the reducer never runs.
  const accumulators = new WeakMap<object, WindowAccumulator>();
  // The last pair: skipDuplicate and reduce ask for the same state on every record.
  let last: WindowAccumulator | undefined;
  const accumulatorFor = (state: object): WindowAccumulator => {
    if (last?.state === state) return last;
    let acc = accumulators.get(state);
    if (acc === undefined) {
      acc = new WindowAccumulator(Object.assign(state, readWindowState(state)));
      accumulators.set(state, acc);
    }
    return (last = acc);
  };

  const onWindowEnd = async (state: WindowState, window: WindowInfo, log: Logger, context: Context): Promise<void> => {
    const acc = accumulatorFor(state);
    const leaseMs = claimLeaseMs(config, context);
    const { outcome } = await closeWindow({
      state: acc.state,
      window,
      eventSourceArn: window.streamArn ?? 'unknown-stream',
      shardId: window.shardId,
      dimensions: config.dimensions,
      publisher,
      ...(leaseMs !== undefined ? { leaseMs } : {}),
      ...(deps.now ? { now: deps.now() } : {}),
    });
    const s = acc.state;
    const figures = { placed: s.placed, paid: s.paid, shipped: s.shipped, cancelled: s.cancelled, revenueMinor: s.revenueMinor, duplicatesSkipped: s.duplicatesSkipped };
    const fields = { window: { start: window.start, end: window.end, terminatedEarly: window.terminatedEarly }, outcome, ...figures };
    if (outcome === 'outside-cloudwatch-time-range') log.warn(fields, 'window too old or too far ahead for PutMetricData: figures logged, not published');
    else log.info(fields, 'window closed');
  };

  return createKinesisWindowHandler<OrderEvent, WindowState>({
    registry,
    consumerName: process.env['CONSUMER_NAME'] || CONSUMER_NAME,
    // The window state rolls back when an invocation fails (Lambda retries with the previous state), but
    // an in-memory idempotency store does not: it would skip the retried records and lose them from the
    // window. Redeliveries are skipped by the ids kept in the state instead (window-state.ts).
    idempotency: false,
    ...deps.runtime,
    // A window starts empty, its duplicate check seeded with the previous window's ids (window-seed.ts).
    initialState: (window, log) => seededWindowState(publisher, window, log),
    // Copies already counted (this window, or the previous one) are skipped and counted as DuplicatesSkipped.
    skipDuplicate: (state, event) => accumulatorFor(state).skipIfSeen(event.id),
    reduce: (state, event) => {
      const acc = accumulatorFor(state);
      acc.fold(event);
      return acc.state;
    },
    onWindowEnd,
  });
}

// Once per container: configuration (a bad setting fails the cold start, naming the variable) and clients.
const config = readOrderMetricsConfig();
export const handler: KinesisWindowBatchHandler = createOrderMetricsHandler({ config, publisher: publisherFromConfig(config) });
