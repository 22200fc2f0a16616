/**
 * Rules 1-3 on the hot path: base64 -> (KPL deaggregation) -> UTF-8 -> JSON -> envelope + contract,
 * each failure classified as permanent with a readable reason. Runs once per record, allocates one
 * RecordItem per user record and nothing else on success.
 */
import { isUtf8 } from 'node:buffer';
import type { KinesisStreamRecord } from 'aws-lambda';
import { KplDecodeError, decodeAggregate, isAggregate } from '../../kinesis/kpl';
import type { ParseResult } from '../../schemas/registry';
import type { Logger } from '../../telemetry/logger';
import { RuntimeInvariantError } from './errors';
import { ItemStatus, RecordItem, type PermanentFailure } from './record-item';
import { describeJsonError, inspectJson } from './safe-json';
import type { AnyEvent } from './types';

/** The part of an EventRegistry the runtime needs. */
export interface EventValidator<E extends AnyEvent> {
  safeParse(input: unknown): ParseResult<E>;
}

export interface DecodeSettings {
  readonly registry: EventValidator<AnyEvent>;
  readonly maxHops: number;
  readonly maxJsonDepth: number;
}

export interface DecodedBatch {
  readonly items: RecordItem[];
  /** Oldest approximateArrivalTimestamp of the batch in Unix ms (Infinity for an empty batch). */
  readonly oldestArrivalMs: number;
}

/**
 * Kinesis delivers standard padded base64. Buffer.from(..., 'base64') silently skips characters
 * outside the alphabet and stops at stray padding, so a malformed string shows up as a decoded
 * length that does not match its character count.
 */
function isWellFormedBase64(text: string, decodedBytes: number): boolean {
  const len = text.length;
  if ((len & 3) !== 0) return false;
  let pad = 0;
  if (len > 0 && text.charCodeAt(len - 1) === 61) pad = text.charCodeAt(len - 2) === 61 ? 2 : 1;
  return decodedBytes === (len >>> 2) * 3 - pad;
}

/** `shardId-000000000006:4959...` -> `shardId-000000000006` (Lambda's eventID format). */
export function shardIdOf(eventID: string | undefined): string {
  if (typeof eventID !== 'string') return 'unknown';
  const colon = eventID.indexOf(':');
  return colon > 0 ? eventID.slice(0, colon) : eventID;
}

export class RecordDecoder {
  // Reused by every inspectJson call (the walk's explicit stack), so inspection does not allocate.
  private readonly stack: unknown[] = [];
  private readonly depths: number[] = [];

  constructor(private readonly settings: DecodeSettings) {}

  decode(records: readonly KinesisStreamRecord[], fallbackShardId: string, log: Logger): DecodedBatch {
    const items: RecordItem[] = [];
    let oldest = Infinity;
    let shardId = fallbackShardId;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const k = record?.kinesis;
      if (
        k === undefined ||
        typeof k.data !== 'string' ||
        typeof k.sequenceNumber !== 'string' ||
        k.sequenceNumber.length === 0 ||
        typeof k.partitionKey !== 'string' ||
        typeof k.approximateArrivalTimestamp !== 'number'
      ) {
        // Not something Lambda sends: fail the invocation so retries/bisect handle it (rule 12).
        throw new RuntimeInvariantError(`Records[${i}] is not a Kinesis stream record (kinesis.data/sequenceNumber/partitionKey/approximateArrivalTimestamp missing)`);
      }
      const eventID = record.eventID;
      if (typeof eventID === 'string' && !(eventID.startsWith(shardId) && eventID.charCodeAt(shardId.length) === 58)) {
        shardId = shardIdOf(eventID);
      }
      const arrival = k.approximateArrivalTimestamp;
      if (arrival * 1000 < oldest) oldest = arrival * 1000;
      const streamArn = record.eventSourceARN;
      const b64 = k.data;
      const bytes = Buffer.from(b64, 'base64');
      if (!isWellFormedBase64(b64, bytes.length)) {
        const item = new RecordItem(record, i, k.sequenceNumber, undefined, k.partitionKey, undefined, shardId, streamArn, arrival, undefined, log);
        this.fail(item, { kind: 'invalid-base64', message: `data is not valid base64 (${b64.length} characters)` }, undefined);
        items.push(item);
        continue;
      }
      if (isAggregate(bytes)) {
        let users;
        try {
          users = decodeAggregate(bytes);
        } catch (error) {
          if (!(error instanceof KplDecodeError)) throw error;
          const item = new RecordItem(record, i, k.sequenceNumber, undefined, k.partitionKey, undefined, shardId, streamArn, arrival, undefined, log);
          this.fail(item, { kind: 'corrupt-aggregate', message: `KPL aggregate is corrupt: ${error.message}` }, undefined);
          items.push(item);
          continue;
        }
        for (const user of users) {
          const item = new RecordItem(
            record,
            i,
            k.sequenceNumber,
            user.subSequenceNumber,
            user.partitionKey,
            user.explicitHashKey,
            shardId,
            streamArn,
            arrival,
            user.data,
            log,
          );
          this.validate(item, user.data as Buffer);
          items.push(item);
        }
        continue;
      }
      const item = new RecordItem(record, i, k.sequenceNumber, undefined, k.partitionKey, undefined, shardId, streamArn, arrival, undefined, log);
      this.validate(item, bytes);
      items.push(item);
    }
    return { items, oldestArrivalMs: oldest };
  }

  private validate(item: RecordItem, bytes: Buffer): void {
    if (!isUtf8(bytes)) {
      this.fail(item, { kind: 'invalid-utf8', message: 'data is not valid UTF-8 (JSON text must be UTF-8)' }, undefined);
      return;
    }
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.fail(item, describeJsonError(error, text), undefined);
      return;
    }
    const { maxJsonDepth, maxHops, registry } = this.settings;
    const problem = inspectJson(value, maxJsonDepth, this.stack, this.depths);
    if (problem !== undefined) {
      this.fail(item, problem, value);
      return;
    }
    const result = registry.safeParse(value);
    if (!result.ok) {
      const { error } = result;
      this.fail(item, { kind: error.kind, message: error.message, ...(error.issues.length > 0 ? { issues: error.issues } : {}) }, value);
      return;
    }
    const event = result.event;
    // Loop guard: a consumer that re-emits events increments `hops`; refuse runaway re-emission.
    if (event.hops > maxHops) {
      this.fail(
        item,
        { kind: 'hops-exceeded', message: `hops ${event.hops} exceeds the limit of ${maxHops} (loop guard: the event was re-emitted too often)` },
        value,
      );
      return;
    }
    item.event = event;
  }

  private fail(item: RecordItem, failure: PermanentFailure, value: unknown): void {
    item.permanent = failure;
    item.status = ItemStatus.ToQuarantine;
    item.rawValue = value;
  }
}
