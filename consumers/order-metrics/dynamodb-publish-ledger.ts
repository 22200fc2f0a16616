/**
 * A PublishLedger in a DynamoDB table: durable and shared by every container of the function, so a
 * final invoke that Lambda retries on a new container after a successful publish is not published again.
 *
 * - claim: PutItem with `attribute_not_exists(ledgerKey)` (DynamoDB Developer Guide, "Condition
 *   expressions: preventing overwrites of an existing item"). Conditional writes on one item are
 *   serialised, so of two concurrent claims exactly one succeeds; the other gets
 *   ConditionalCheckFailedException, which means "already claimed" (false).
 * - The item carries a token unique to this claim, and the condition also accepts an item holding that
 *   same token. The SDK retries a request whose response was lost (a timeout, a reset connection); if the
 *   first attempt was written, the retry would otherwise fail its own condition and report the window
 *   as published by someone else, although nobody published it.
 * - release: DeleteItem (after a failed publish, so the retry can publish).
 * - Every item expires by TTL (`expiresAt`, epoch seconds). The default retention outlives the
 *   period in which PutMetricData still accepts the window's timestamp (two weeks), plus a day: for as
 *   long as a publish is possible at all, the claim exists. DynamoDB deletes expired items later, never earlier.
 * - Any other error (throttling after the SDK's retries, access denied, a missing table) propagates:
 *   the publish fails before anything is sent, the invoke fails and Lambda retries it.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import { CLOUDWATCH_MAX_PAST_MS } from './business-metrics';
import type { PublishLedger } from './publish-ledger';

/** Attribute holding the claim's token (see above). */
export const CLAIM_TOKEN_ATTRIBUTE = 'claimToken';
/** Attribute holding when the key was claimed (ISO-8601), for operators reading the table. */
export const CLAIMED_AT_ATTRIBUTE = 'claimedAt';

/** PutMetricData's two weeks plus a day of margin. */
export const DEFAULT_LEDGER_RETENTION_SECONDS = CLOUDWATCH_MAX_PAST_MS / 1000 + 24 * 3600;

export interface DynamoDbPublishLedgerOptions {
  client: DynamoDBClient;
  /** Table name or ARN; partition key `ledgerKey` (String), TTL on `expiresAt`. */
  tableName: string;
  /** How long a claim is kept (TTL from the claim time). Default: DEFAULT_LEDGER_RETENTION_SECONDS. */
  retentionSeconds?: number;
  clock?: () => Date;
}

export class DynamoDbPublishLedger implements PublishLedger {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retentionSeconds: number;
  private readonly clock: () => Date;

  constructor(options: DynamoDbPublishLedgerOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_LEDGER_RETENTION_SECONDS;
    if (!Number.isInteger(this.retentionSeconds) || this.retentionSeconds <= 0) throw new RangeError('retentionSeconds must be a positive integer');
    this.clock = options.clock ?? (() => new Date());
  }

  async claim(windowKey: string): Promise<boolean> {
    const now = this.clock();
    const token = randomUUID();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [LEDGER_KEY_ATTRIBUTE]: { S: windowKey },
            // TTL: a Number of epoch seconds ("Time to Live": other types or units are ignored).
            [LEDGER_EXPIRY_ATTRIBUTE]: { N: String(Math.ceil(now.getTime() / 1000) + this.retentionSeconds) },
            [CLAIMED_AT_ATTRIBUTE]: { S: now.toISOString() },
            [CLAIM_TOKEN_ATTRIBUTE]: { S: token },
          },
          ConditionExpression: 'attribute_not_exists(#key) OR #token = :token',
          ExpressionAttributeNames: { '#key': LEDGER_KEY_ATTRIBUTE, '#token': CLAIM_TOKEN_ATTRIBUTE },
          ExpressionAttributeValues: { ':token': { S: token } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async release(windowKey: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: windowKey } } }));
  }
}
