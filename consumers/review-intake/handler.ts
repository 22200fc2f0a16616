/**
 * review-intake: the minimal downstream of order-review (teams replace it with their case-management
 * integration). Invoked asynchronously (Lambda Invoke, InvocationType "Event") with a review request:
 * validates it, logs it without personal data, counts it (EMF), and locally appends it to
 * `<LOCAL_DATA_DIR>/invocations/review-intake.ndjson`.
 *
 * Each request is accepted once per `sourceEventId` (accept-once.ts): a copy of a request already
 * accepted (Lambda's duplicate asynchronous delivery, order-review sending again after a retried or
 * redriven batch) is answered without a second effect and counted as ReviewRequestsDuplicate. The
 * claims live in the function's idempotency table (IDEMPOTENCY_TABLE, pipeline option
 * `idempotencyTable`; the DynamoDB client loads with the first request, not at init); without one,
 * in this sandbox's memory.
 *
 * An invalid request throws: for an asynchronous invocation Lambda then retries twice and hands the
 * event to the function's failure destination or dead-letter queue, if configured ("Lambda
 * asynchronous invocation": error handling).
 *
 * Environment: LOCAL_DATA_DIR (optional), METRICS_NAMESPACE (default "KinesisPipeline/Consumers"),
 * MAX_HOPS (default 5), IDEMPOTENCY_TABLE and IDEMPOTENCY_RETENTION_SECONDS (optional), LOG_LEVEL.
 */
import type { Context } from 'aws-lambda';
import { DEFAULT_MAX_HOPS } from '../../schemas/envelope';
import { formatEmf, stdoutEmfWriter, type EmfWriter } from '../../telemetry/emf';
import { createLogger, type Logger } from '../../telemetry/logger';
import { MemoryDurableStore, type DurableRecordStore } from '../runtime/durable-store';
import { createDynamoDbDurableStore, durableTableFromEnv } from '../runtime/durable-store-from-env';
import { onFirstUse } from '../runtime/on-first-use';
import { acceptLeaseMs, acceptOnce } from './accept-once';
import { InvalidReviewRequestError, ReviewRequestFileLog, parseReviewRequest, reviewIntakeLogPath } from './intake';

export const FUNCTION_NAME = 'review-intake';
/** Same default namespace as the consumer runtime's metrics (consumers/runtime/options.ts). */
export const DEFAULT_METRICS_NAMESPACE = 'KinesisPipeline/Consumers';

export interface ReviewIntakeConfig {
  readonly localDataDir: string | undefined;
  readonly metricsNamespace: string;
  readonly maxHops: number;
  /** The idempotency table (IDEMPOTENCY_TABLE), or undefined: claims in this sandbox's memory. */
  readonly idempotencyTable: { readonly tableName: string; readonly retentionSeconds: number | undefined } | undefined;
}

export function readReviewIntakeConfig(env: NodeJS.ProcessEnv = process.env): ReviewIntakeConfig {
  const rawHops = env['MAX_HOPS']?.trim();
  if (rawHops !== undefined && rawHops !== '' && !/^\d+$/.test(rawHops)) {
    throw new Error(`review-intake configuration: MAX_HOPS must be a non-negative integer, got "${rawHops}"`);
  }
  const namespace = env['METRICS_NAMESPACE']?.trim() || DEFAULT_METRICS_NAMESPACE;
  if (namespace.length > 255 || namespace.startsWith(':') || namespace.startsWith('AWS/')) {
    throw new Error('review-intake configuration: METRICS_NAMESPACE must be 1-255 characters, not start with ":" or "AWS/"');
  }
  return {
    localDataDir: env['LOCAL_DATA_DIR']?.trim() || undefined,
    metricsNamespace: namespace,
    maxHops: rawHops ? Number(rawHops) : DEFAULT_MAX_HOPS,
    // Validated here, so a bad table name fails the cold start with the variable's name.
    idempotencyTable: durableTableFromEnv(env),
  };
}

export interface ReviewIntakeResult {
  readonly accepted: true;
  readonly orderId: string;
  readonly sourceEventId: string;
  /** True when this request had been accepted before: nothing was done again. */
  readonly duplicate: boolean;
}

export interface ReviewIntakeDependencies {
  readonly config: ReviewIntakeConfig;
  readonly logger: Logger;
  readonly emf?: EmfWriter;
  /**
   * Where accepted source event ids are claimed. Default: the DynamoDB table of `config` (created with
   * the first request), else a MemoryDurableStore (this sandbox only).
   */
  readonly store?: DurableRecordStore | (() => Promise<DurableRecordStore>);
}

type ReviewIntakeMetric = 'ReviewRequestsAccepted' | 'ReviewRequestsRejected' | 'ReviewRequestsDuplicate';

/** The handler with its dependencies injected (tests); `handler` below is the Lambda entry point. */
export function createReviewIntakeHandler(deps: ReviewIntakeDependencies) {
  const { config, logger } = deps;
  const emf = deps.emf ?? stdoutEmfWriter;
  const fileLog = config.localDataDir === undefined ? undefined : new ReviewRequestFileLog(reviewIntakeLogPath(config.localDataDir));
  const table = config.idempotencyTable;
  const configured = deps.store ?? (table === undefined ? new MemoryDurableStore() : () => createDynamoDbDurableStore(table));
  const store = typeof configured === 'function' ? onFirstUse(configured) : () => Promise.resolve(configured);
  const count = (name: ReviewIntakeMetric, requestId: string) =>
    emf(
      formatEmf({
        namespace: config.metricsNamespace,
        dimensions: { FunctionName: FUNCTION_NAME },
        metrics: [{ name, unit: 'Count', value: 1 }],
        properties: { requestId },
      }),
    );

  return async function reviewIntake(
    event: unknown,
    context: Pick<Context, 'awsRequestId'> & Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<ReviewIntakeResult> {
    let request;
    try {
      request = parseReviewRequest(event, config.maxHops);
    } catch (error) {
      if (error instanceof InvalidReviewRequestError) {
        // The issues name fields and rules, never the rejected values.
        logger.error({ requestId: context.awsRequestId, issues: error.issues }, 'invalid review request');
        count('ReviewRequestsRejected', context.awsRequestId);
      }
      throw error;
    }
    const fields = {
      requestId: context.awsRequestId,
      orderId: request.orderId,
      sourceEventId: request.sourceEventId,
      traceId: request.traceId,
      hops: request.hops,
    };
    const outcome = await acceptOnce(
      await store(),
      request.sourceEventId,
      acceptLeaseMs(context),
      async () => {
        // The effect: teams replace this with their case-management call (see the module comment).
        if (fileLog) await fileLog.append(request);
        logger.info({ ...fields, reasons: request.reasons.map((r) => r.code) }, 'review request accepted');
      },
      logger,
    );
    if (outcome === 'duplicate') {
      logger.info(fields, 'duplicate review request: accepted before, nothing done again');
      count('ReviewRequestsDuplicate', context.awsRequestId);
    } else {
      count('ReviewRequestsAccepted', context.awsRequestId);
    }
    return { accepted: true, orderId: request.orderId, sourceEventId: request.sourceEventId, duplicate: outcome === 'duplicate' };
  };
}

// Once per container: configuration (fails the cold start with a clear message) and the logger.
export const handler = createReviewIntakeHandler({
  config: readReviewIntakeConfig(),
  logger: createLogger({ name: FUNCTION_NAME }),
});
