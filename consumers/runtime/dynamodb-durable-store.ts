/**
 * The DurableRecordStore (durable-store.ts) in a DynamoDB table: durable and shared by every container
 * of the function. Loaded only through durable-store-from-env.ts (a dynamic import), so the DynamoDB
 * client is not part of the runtime's hot modules.
 *
 * Event claims reuse the publish ledger's DynamoDB implementation unchanged
 * (consumers/order-metrics/dynamodb-publish-ledger.ts): one item per key `event|<event id>` with
 * {status IN_PROGRESS|COMPLETED, claimToken, leaseUntil, expiresAt}; a claim is a conditional PutItem
 * (`attribute_not_exists OR own token OR IN_PROGRESS with an expired lease`), complete a PutItem on
 * condition of the token, release a conditional DeleteItem. Conditional writes on one item are
 * serialised (DynamoDB Developer Guide, "Condition expressions"): of two containers claiming one event
 * id exactly one wins.
 *
 * Attempt counters: one item per record location `attempt|<stream>|<shard>|<sequence>|<sub-sequence>`
 * with {failureSignature, attempts, expiresAt}: an UpdateItem increments `attempts` on condition that
 * the signature is the same (or the item is new); a different signature replaces the item with
 * attempts = 1 (PutItem).
 *
 * Every item carries the TTL attribute `expiresAt` (epoch seconds, DynamoDB Developer Guide "Time to
 * Live"): `retentionSeconds` after its last write. Choose it longer than the stream's retention, so a
 * record read back by a redrive still finds its COMPLETED claim (the pipeline sets retention + 1 day).
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import { COMPLETED, DynamoDbPublishLedger, STATUS_ATTRIBUTE } from '../order-metrics/dynamodb-publish-ledger';
import type { Claim } from '../order-metrics/publish-ledger';
import { locationKey, type DurableRecordStore, type FailureStreak, type EventClaim, type EventClaimResult, type RecordLocation } from './durable-store';

export const FAILURE_SIGNATURE_ATTRIBUTE = 'failureSignature';
export const ATTEMPTS_ATTRIBUTE = 'attempts';
/** True once a failed delivery of the streak was isolated (rule 13). */
export const ISOLATED_ATTRIBUTE = 'isolated';

/** Eight days: longer than Kinesis' extended retention of seven days. */
export const DEFAULT_DURABLE_RETENTION_SECONDS = 8 * 24 * 3600;

export interface DynamoDbDurableStoreOptions {
  client: DynamoDBClient;
  /** Table name or ARN; partition key `ledgerKey` (String), TTL on `expiresAt`. */
  tableName: string;
  /** How long an item is kept after its last write. Default DEFAULT_DURABLE_RETENTION_SECONDS. */
  retentionSeconds?: number;
  clock?: () => Date;
}

interface LedgerEventClaim extends EventClaim {
  readonly ledgerClaim: Claim;
}

export function eventKey(eventId: string): string {
  return `event|${eventId}`;
}

export class DynamoDbDurableStore implements DurableRecordStore {
  private readonly ledger: DynamoDbPublishLedger;
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retentionSeconds: number;
  private readonly clock: () => Date;

  constructor(options: DynamoDbDurableStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_DURABLE_RETENTION_SECONDS;
    this.clock = options.clock ?? (() => new Date());
    this.ledger = new DynamoDbPublishLedger({ ...options, retentionSeconds: this.retentionSeconds, clock: this.clock });
  }

  async claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
    const result = await this.ledger.claim(eventKey(eventId), { leaseMs: Math.max(1, Math.ceil(leaseMs)) });
    if (result.outcome === 'already-published') return { outcome: 'completed' };
    if (result.outcome === 'held-by-other') return { outcome: 'in-progress', leaseUntil: result.leaseUntil };
    const claim: LedgerEventClaim = { eventId, token: result.claim.token, ledgerClaim: result.claim };
    return { outcome: 'claimed', claim };
  }

  async complete(claim: EventClaim): Promise<void> {
    await this.ledger.complete((claim as LedgerEventClaim).ledgerClaim);
  }

  async release(claim: EventClaim): Promise<void> {
    await this.ledger.release((claim as LedgerEventClaim).ledgerClaim);
  }

  async recordFailure(location: RecordLocation, signature: string, isolated: boolean): Promise<FailureStreak> {
    const key = { [LEDGER_KEY_ATTRIBUTE]: { S: `attempt|${locationKey(location)}` } };
    const expiresAt = { N: String(Math.ceil(this.clock().getTime() / 1000) + this.retentionSeconds) };
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          // An isolated delivery sets the flag; otherwise it keeps what earlier deliveries of the streak set.
          UpdateExpression: `SET #sig = :sig, #exp = :exp, #attempts = if_not_exists(#attempts, :zero) + :one, #iso = ${isolated ? ':true' : 'if_not_exists(#iso, :false)'}`,
          ConditionExpression: 'attribute_not_exists(#key) OR #sig = :sig',
          ExpressionAttributeNames: {
            '#key': LEDGER_KEY_ATTRIBUTE,
            '#sig': FAILURE_SIGNATURE_ATTRIBUTE,
            '#exp': LEDGER_EXPIRY_ATTRIBUTE,
            '#attempts': ATTEMPTS_ATTRIBUTE,
            '#iso': ISOLATED_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':sig': { S: signature },
            ':exp': expiresAt,
            ':zero': { N: '0' },
            ':one': { N: '1' },
            ...(isolated ? { ':true': { BOOL: true } } : { ':false': { BOOL: false } }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { attempts: Number(out.Attributes?.[ATTEMPTS_ATTRIBUTE]?.N ?? 1), isolated: out.Attributes?.[ISOLATED_ATTRIBUTE]?.BOOL === true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as { name?: unknown }).name !== 'ConditionalCheckFailedException') throw error;
    }
    // The record failed differently before: its count starts again.
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...key,
          [FAILURE_SIGNATURE_ATTRIBUTE]: { S: signature },
          [ATTEMPTS_ATTRIBUTE]: { N: '1' },
          [ISOLATED_ATTRIBUTE]: { BOOL: isolated },
          [LEDGER_EXPIRY_ATTRIBUTE]: expiresAt,
        },
      }),
    );
    return { attempts: 1, isolated };
  }

  async isCompleted(eventId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: eventKey(eventId) } }, ConsistentRead: true }),
    );
    return Item !== undefined && Item[STATUS_ATTRIBUTE]?.S === COMPLETED;
  }
}
