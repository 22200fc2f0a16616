/**
 * A PublishLedger (see publish-ledger.ts) in a DynamoDB table: durable and shared by every container of
 * the function. One item per window key: {ledgerKey, status, claimToken, leaseUntil, claimedAt,
 * completedAt?, expiresAt}. Conditional writes on one item are serialised (DynamoDB Developer Guide,
 * "Condition expressions"), so of concurrent claims or take-overs exactly one succeeds.
 *
 * - claim: PutItem of an IN_PROGRESS item with the condition
 *   `attribute_not_exists(ledgerKey) OR claimToken = :token OR (status = :inProgress AND leaseUntil < :now)`
 *   (no claim yet; this claim's own earlier attempt, see below; or an in-progress claim whose lease
 *   expired, i.e. whose holder died). On ConditionalCheckFailedException a consistent GetItem tells
 *   "already published" (COMPLETED) from "held by someone else" (IN_PROGRESS, lease valid).
 *   `status` is a DynamoDB reserved word: every attribute goes through ExpressionAttributeNames.
 * - The token clause keeps a claim idempotent: the SDK retries a request whose response was lost (a
 *   timeout, a reset connection); if the first attempt was written, the retry would otherwise fail its
 *   own condition and report the window as held although nobody else holds it.
 * - complete: PutItem of the COMPLETED item on condition `claimToken = :token` (idempotent under SDK
 *   retries for the same reason; fails with ClaimLostError when the lease was taken over).
 * - complete may keep the ids of the events the window counted (publish-ledger.ts) in `eventIds`, one
 *   String of comma-separated ids (order kept, oldest first): at most 4096 UUIDs, ~150 KB, well inside
 *   DynamoDB's 400 KB item limit. completedEventIds reads them with one consistent GetItem.
 * - release: DeleteItem on condition `claimToken = :token AND status = :inProgress`; a failed condition
 *   (already deleted by a lost-response retry, or taken over) is not an error.
 * - leaseUntil is epoch milliseconds (a Number); the conditions compare it with the caller's clock.
 * - Every item expires by TTL (`expiresAt`, epoch seconds), written again on every PutItem. The default
 *   retention outlives the period in which PutMetricData still accepts the window's timestamp (two
 *   weeks), plus a day: for as long as a publish is possible at all, the record exists. DynamoDB deletes
 *   expired items later, never earlier.
 * - Items of the earlier format (no `status`: a claim that was never released) count as published.
 * - Any other error (throttling after the SDK's retries, access denied, a missing table) propagates:
 *   the publish fails, the invoke fails and Lambda retries it.
 * - The DynamoDB client loads when a window first closes, not at cold start (runtime/on-first-use.ts).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { onFirstUse } from '../runtime/on-first-use';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import { CLOUDWATCH_MAX_PAST_MS } from './business-metrics';
import {
  ClaimLostError,
  DEFAULT_LEASE_MS,
  checkLeaseMs,
  newClaim,
  type Claim,
  type ClaimOptions,
  type ClaimResult,
  type CompletedWindow,
  type PublishLedger,
} from './publish-ledger';

const dynamoDbSdk = onFirstUse(() => import('../runtime/dynamodb-sdk'));

/** Attribute holding the claim's token (see above). */
export const CLAIM_TOKEN_ATTRIBUTE = 'claimToken';
/** Attribute holding when the key was claimed (ISO-8601), for operators reading the table. */
export const CLAIMED_AT_ATTRIBUTE = 'claimedAt';
/** Attribute holding when the claim was completed (ISO-8601). */
export const COMPLETED_AT_ATTRIBUTE = 'completedAt';
/** `IN_PROGRESS` or `COMPLETED`. */
export const STATUS_ATTRIBUTE = 'status';
/** End of an in-progress claim's lease, epoch milliseconds (Number). */
export const LEASE_UNTIL_ATTRIBUTE = 'leaseUntil';
/** Ids of the events a completed window counted, comma-separated (String). */
export const EVENT_IDS_ATTRIBUTE = 'eventIds';

export const IN_PROGRESS = 'IN_PROGRESS';
export const COMPLETED = 'COMPLETED';

/** PutMetricData's two weeks plus a day of margin. */
export const DEFAULT_LEDGER_RETENTION_SECONDS = CLOUDWATCH_MAX_PAST_MS / 1000 + 24 * 3600;

/** Claim attempts when the item changes between the conditional put and the read that classifies it. */
const MAX_CLAIM_ATTEMPTS = 3;

export interface DynamoDbPublishLedgerOptions {
  /** Default: `new DynamoDBClient({})` (the default credential chain), created on first use. */
  client?: DynamoDBClient;
  /** Table name or ARN; partition key `ledgerKey` (String), TTL on `expiresAt`. */
  tableName: string;
  /** How long a record is kept (TTL from its last write). Default: DEFAULT_LEDGER_RETENTION_SECONDS. */
  retentionSeconds?: number;
  /** Default lease of a claim (ms). Default: DEFAULT_LEASE_MS. */
  leaseMs?: number;
  clock?: () => Date;
}

const NAMES = {
  '#key': LEDGER_KEY_ATTRIBUTE,
  '#token': CLAIM_TOKEN_ATTRIBUTE,
  '#status': STATUS_ATTRIBUTE,
  '#lease': LEASE_UNTIL_ATTRIBUTE,
};

export class DynamoDbPublishLedger implements PublishLedger {
  private client: DynamoDBClient | undefined;
  private readonly tableName: string;
  private readonly retentionSeconds: number;
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(options: DynamoDbPublishLedgerOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_LEDGER_RETENTION_SECONDS;
    if (!Number.isInteger(this.retentionSeconds) || this.retentionSeconds <= 0) throw new RangeError('retentionSeconds must be a positive integer');
    this.leaseMs = checkLeaseMs(options.leaseMs ?? DEFAULT_LEASE_MS);
    this.clock = options.clock ?? (() => new Date());
  }

  async claim(windowKey: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    for (let attempt = 1; ; attempt++) {
      const now = this.clock();
      const claim = newClaim(windowKey, now, options.leaseMs ?? this.leaseMs);
      const won = await this.conditionalPut(
        {
          ...this.itemOf(claim, now),
          [STATUS_ATTRIBUTE]: { S: IN_PROGRESS },
          [LEASE_UNTIL_ATTRIBUTE]: { N: String(claim.leaseUntil.getTime()) },
        },
        'attribute_not_exists(#key) OR #token = :token OR (#status = :inProgress AND #lease < :now)',
        { ':token': { S: claim.token }, ':inProgress': { S: IN_PROGRESS }, ':now': { N: String(now.getTime()) } },
      );
      if (won) return { outcome: 'claimed', claim };
      const item = await this.read(windowKey);
      if (item === undefined) {
        // Released between the put and the read: try again.
        if (attempt < MAX_CLAIM_ATTEMPTS) continue;
        return { outcome: 'held-by-other', leaseUntil: now };
      }
      const status = item[STATUS_ATTRIBUTE]?.S;
      if (status !== IN_PROGRESS) return { outcome: 'already-published' }; // COMPLETED, or the earlier format
      const leaseUntil = Number(item[LEASE_UNTIL_ATTRIBUTE]?.N ?? 0);
      // A lease that expired between the put and the read: try again (the put may now take it over).
      if (leaseUntil < this.clock().getTime() && attempt < MAX_CLAIM_ATTEMPTS) continue;
      return { outcome: 'held-by-other', leaseUntil: new Date(leaseUntil) };
    }
  }

  async complete(claim: Claim, completed: CompletedWindow = {}): Promise<void> {
    const now = this.clock();
    // An empty String is legal in a non-key attribute, but an absent one says "kept none" more plainly.
    const ids: Record<string, AttributeValue> = completed.eventIds !== undefined && completed.eventIds.length > 0 ? { [EVENT_IDS_ATTRIBUTE]: { S: completed.eventIds.join(',') } } : {};
    const won = await this.conditionalPut(
      { ...this.itemOf(claim, now), [STATUS_ATTRIBUTE]: { S: COMPLETED }, [COMPLETED_AT_ATTRIBUTE]: { S: now.toISOString() }, ...ids },
      '#token = :token',
      { ':token': { S: claim.token } },
    );
    if (!won) throw new ClaimLostError(claim.windowKey);
  }

  async completedEventIds(windowKey: string): Promise<readonly string[] | undefined> {
    const item = await this.read(windowKey);
    if (item?.[STATUS_ATTRIBUTE]?.S !== COMPLETED) return undefined;
    const ids = item[EVENT_IDS_ATTRIBUTE]?.S;
    return ids === undefined ? undefined : ids.split(',');
  }

  async release(claim: Claim): Promise<void> {
    const { sdk: { DeleteItemCommand }, client } = await this.sdk();
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_KEY_ATTRIBUTE]: { S: claim.windowKey } },
          ConditionExpression: '#token = :token AND #status = :inProgress',
          ExpressionAttributeNames: { '#token': CLAIM_TOKEN_ATTRIBUTE, '#status': STATUS_ATTRIBUTE },
          ExpressionAttributeValues: { ':token': { S: claim.token }, ':inProgress': { S: IN_PROGRESS } },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  private async sdk(): Promise<{ sdk: typeof import('../runtime/dynamodb-sdk'); client: DynamoDBClient }> {
    const sdk = await dynamoDbSdk();
    return { sdk, client: (this.client ??= new sdk.DynamoDBClient({})) };
  }

  private itemOf(claim: Claim, now: Date): Record<string, AttributeValue> {
    return {
      [LEDGER_KEY_ATTRIBUTE]: { S: claim.windowKey },
      // TTL: a Number of epoch seconds ("Time to Live": other types or units are ignored).
      [LEDGER_EXPIRY_ATTRIBUTE]: { N: String(Math.ceil(now.getTime() / 1000) + this.retentionSeconds) },
      [CLAIMED_AT_ATTRIBUTE]: { S: claim.claimedAt.toISOString() },
      [CLAIM_TOKEN_ATTRIBUTE]: { S: claim.token },
    };
  }

  /** PutItem under a condition: false when the condition failed. */
  private async conditionalPut(item: Record<string, AttributeValue>, condition: string, values: Record<string, AttributeValue>): Promise<boolean> {
    // Only the names the condition uses: DynamoDB rejects unused ExpressionAttributeNames.
    const names = Object.fromEntries(Object.entries(NAMES).filter(([placeholder]) => condition.includes(placeholder)));
    const { sdk: { PutItemCommand }, client } = await this.sdk();
    try {
      await client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  private async read(windowKey: string): Promise<Record<string, AttributeValue> | undefined> {
    const { sdk: { GetItemCommand }, client } = await this.sdk();
    const { Item } = await client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: windowKey } }, ConsistentRead: true }),
    );
    return Item;
  }
}

/** The SDK names a service exception after its error code (ConditionalCheckFailedException for a failed condition). */
function isConditionalCheckFailure(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'ConditionalCheckFailedException';
}
