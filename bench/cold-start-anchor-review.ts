/**
 * The second cold-start anchor of bench/cold-start.bench.ts: order-review's work written the way a team
 * would write it with Powertools, so order-review is also compared with a handler that does what it
 * does (the plain anchor, cold-start-anchor.ts, validates and does nothing else):
 * - `@aws-lambda-powertools/batch` BatchProcessor with its parser integration over the same contracts
 *   (as cold-start-anchor.ts);
 * - per record, order-review's own rules (consumers/order-review/rules.ts, the configuration from the
 *   same environment variables); a matching order builds the same review request;
 * - the request is sent with a Lambda `Invoke` (InvocationType Event), wrapped in
 *   `@aws-lambda-powertools/idempotency` `makeIdempotent` with its DynamoDB persistence layer on a
 *   table of the idempotency table's shape (IDEMPOTENCY_TABLE, one per sample from the bench; key
 *   `ledgerKey`, TTL `expiresAt`), keyed by the source event id: only the effect is made idempotent.
 *   (The project's order-review no longer claims at all: review-intake dedupes on the source event id,
 *   which also covers Lambda's duplicate asynchronous delivery. This anchor keeps the claim-before-
 *   Invoke design order-review had, the usual Powertools way to make the Invoke exactly once.)
 * Bundled by infra/bundle.ts exactly as the consumers are. Not deployed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { readOrderReviewConfig } from '../consumers/order-review/config';
import { buildReviewRequest, type ReviewRequest } from '../consumers/order-review/review-request';
import { evaluateReviewRules } from '../consumers/order-review/rules';
import { EVENT_DEFINITIONS, type OrderEvent } from '../schemas/index';

const [first, second, ...rest] = EVENT_DEFINITIONS.map((d) => d.schema);
const processor = new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: z.union([first, second, ...rest]), transformer: 'base64' });

const config = readOrderReviewConfig();
const lambda = new LambdaClient({});
const encoder = new TextEncoder();
const idempotency = new IdempotencyConfig({ eventKeyJmesPath: 'sourceEventId' });
const sendReview = makeIdempotent(
  async (request: ReviewRequest): Promise<void> => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: config.reviewIntakeFunctionName, InvocationType: 'Event', Payload: encoder.encode(JSON.stringify(request)) }),
    );
    if (response.StatusCode !== 202) throw new Error(`Invoke not accepted: ${response.StatusCode}`);
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: process.env['IDEMPOTENCY_TABLE'] ?? 'idempotency', keyAttr: 'ledgerKey', expiryAttr: 'expiresAt' }),
    config: idempotency,
  },
);

// The parser integration hands the record with its parsed payload in kinesis.data.
const recordHandler = async (record: { kinesis: { data: unknown } }): Promise<void> => {
  const event = record.kinesis.data as OrderEvent;
  if (event.type !== 'order.placed') return;
  const reasons = evaluateReviewRules(event, config.rules);
  if (reasons.length === 0) return;
  await sendReview(buildReviewRequest(event, reasons));
};

export const handler = async (event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> => {
  idempotency.registerLambdaContext(context);
  return processPartialResponse(event, recordHandler, processor, { context });
};
