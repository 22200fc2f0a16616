/**
 * order-review: sends new orders that match a review rule (rules.ts) to review-intake with an
 * asynchronous Lambda Invoke. The mapping's filter delivers only `order.placed`.
 *
 * Failure semantics: an Invoke that fails (throttling, service or network error, no 202) is transient:
 * the record is reported for redelivery (and, per partition key, nothing after it starts). A review
 * request failing its own schema is a bug in this consumer: PermanentError, the record is quarantined.
 *
 * Exactly-once: a redelivered order (a retried or bisected batch, a redrive) sends its review request
 * again, byte for byte the same; review-intake accepts each `sourceEventId` once
 * (consumers/review-intake/accept-once.ts), which also covers Lambda delivering one asynchronous
 * invocation twice. So this consumer keeps no claims of its own: no DynamoDB request on its batches.
 *
 * Environment: REVIEW_AMOUNT_THRESHOLD_MINOR (required), REVIEW_INTAKE_FUNCTION_NAME (required),
 * REVIEW_MAX_UNITS_PER_SKU (default 20), REVIEW_MAX_LINES (default 30), CONSUMER_NAME (default
 * "order-review"), AWS_ENDPOINT_URL_LAMBDA (local runner), and the runtime's variables.
 */
import { registry, type OrderEvent } from '../../schemas';
import { formatIssue, toValidationIssues } from '../../schemas/errors';
import { PermanentError, createKinesisHandler, type ConsumerRuntimeOptions, type KinesisBatchHandler } from '../runtime';
import { readOrderReviewConfig, type OrderReviewConfig } from './config';
import { LambdaEventInvoker, type Invoker } from './invoker';
import { buildReviewRequest, reviewRequestSchema } from './review-request';
import { evaluateReviewRules } from './rules';

export const CONSUMER_NAME = 'order-review';

export interface OrderReviewDependencies {
  readonly config: OrderReviewConfig;
  readonly invoker: Invoker;
  readonly runtime?: Partial<ConsumerRuntimeOptions<OrderEvent>>;
}

export function createOrderReviewHandler(deps: OrderReviewDependencies): KinesisBatchHandler {
  const { rules } = deps.config;
  const { invoker } = deps;
  return createKinesisHandler<OrderEvent>({
    registry,
    consumerName: process.env['CONSUMER_NAME'] || CONSUMER_NAME,
    ...deps.runtime,
    handlers: {
      'order.placed': async (event, meta) => {
        const reasons = evaluateReviewRules(event, rules);
        if (reasons.length === 0) return;
        const checked = reviewRequestSchema.safeParse(buildReviewRequest(event, reasons));
        if (!checked.success) {
          const issues = toValidationIssues(checked.error.issues).map(formatIssue).join('; ');
          throw new PermanentError(`review request for this event fails its own schema (a bug in order-review): ${issues}`);
        }
        await invoker.invoke(checked.data);
        meta.log.info({ orderId: event.data.orderId, reasons: reasons.map((r) => r.code), hops: checked.data.hops }, 'review requested');
      },
    },
  });
}

// Once per container: configuration (fails the cold start naming the variable) and the invoker, whose
// Lambda client is created with the first review request. Locally AWS_ENDPOINT_URL_LAMBDA points the
// same client at the local runner.
const config = readOrderReviewConfig();
export const handler: KinesisBatchHandler = createOrderReviewHandler({
  config,
  invoker: new LambdaEventInvoker(config.reviewIntakeFunctionName),
});
