/**
 * Rules 1-3 on the hot path: base64 -> (KPL deaggregation) -> UTF-8 -> JSON -> envelope + contract,
 * each failure classified as permanent with a readable reason. Runs once per record, allocates one
 * RecordItem per user record and nothing else on success.
 */
import { isUtf8 } from 'node:buffer';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { ZodType } from 'zod';
import { KplDecodeError, decodeAggregate, isAggregate } from '../../kinesis/kpl';
import type { EventDefinition } from '../../schemas/define-event';
import type { ParseResult } from '../../schemas/registry';
import { isClosedSchema } from './closed-schema';
import type { Logger } from '../../telemetry/logger';
import { RuntimeInvariantError } from './errors';
import { ItemStatus, RecordItem, type BatchInfo, type PermanentFailure } from './record-item';
import type { RecordFilter } from './record-filter';
import { describeJsonError, inspectJson } from './safe-json';
import type { AnyEvent } from './types';

/** The part of an EventRegistry the runtime needs. */
export interface EventValidator<E extends AnyEvent> {
  safeParse(input: unknown): ParseResult<E>;
  /** The contracts (EventRegistry has them): lets the runtime validate a well-formed event with one zod call. */
  readonly definitions?: readonly EventDefinition[];
  /**
   * The schema to validate a contract with (EventRegistry: its `z.compile`d parser, built once per
   * contract). Without it the runtime uses `definition.schema`.
   */
  validator?(definition: EventDefinition): { readonly schema: EventDefinition['schema'] | ZodType };
}

/** A contract as the hot path uses it: its definition and the schema it validates with (resolved on first use). */
interface Contract {
  readonly definition: EventDefinition;
  schema: ZodType | undefined;
}

/** What the decoder needs: the contracts and the two guards. */
export interface DecodeSettings {
  readonly registry: EventValidator<AnyEvent>;
  readonly maxHops: number;
  readonly maxJsonDepth: number;
  /** After-deaggregation filter (./record-filter.ts); absent = no filtering. */
  readonly recordFilter?: RecordFilter | undefined;
}

/** All items of a batch (RecordDecoder.decode). */
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

/**
 * Records whose decoded data fits are decoded into one reused buffer; larger ones (rare: Kinesis
 * allows up to 1 MiB) get their own, so a container never keeps more than this much scratch memory.
 */
const SCRATCH_LIMIT = 256 * 1024;

/** `shardId-000000000006:4959...` -> `shardId-000000000006` (Lambda's eventID format). */
export function shardIdOf(eventID: string | undefined): string {
  if (typeof eventID !== 'string') return 'unknown';
  const colon = eventID.indexOf(':');
  return colon > 0 ? eventID.slice(0, colon) : eventID;
}

/**
 * Rules 1-3 for one record at a time: `check` the batch, `expand` a Kinesis record into items (KPL
 * deaggregation), `load` (decode + validate) an item. Also used by the ops CLI to judge records exactly
 * as a consumer does.
 */
export class RecordDecoder {
  /** Reused by every `load` to decode base64 into (grown on demand, up to SCRATCH_LIMIT). */
  private scratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
  // Reused by every inspectJson call (the walk's explicit stack), so inspection does not allocate.
  private readonly stack: unknown[] = [];
  private readonly depths: number[] = [];

  private readonly closed = new Map<object, boolean>();
  /** type -> version -> contract, when the validator exposes its definitions. */
  private readonly contracts = new Map<string, Map<number, Contract>>();

  constructor(private readonly settings: DecodeSettings) {
    for (const def of settings.registry.definitions ?? []) {
      let versions = this.contracts.get(def.type);
      if (versions === undefined) this.contracts.set(def.type, (versions = new Map()));
      versions.set(def.version, { definition: def, schema: undefined });
    }
  }

  /**
   * Hot path: the contract's schema (the registry's compiled parser) on a well-formed event (exactly
   * what the registry would run for it), leaving the result in quickEvent/quickDefinition (no result object per record). False
   * when the registry must explain a failure (malformed envelope, unknown type/version, violation):
   * the record then goes through registry.safeParse once more for its typed error.
   */
  private quickParse(value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const { type, version } = value as { type?: unknown; version?: unknown };
    if (typeof type !== 'string' || typeof version !== 'number') return false;
    const contract = this.contracts.get(type)?.get(version);
    if (contract === undefined) return false;
    const schema = contract.schema ?? this.resolveSchema(contract);
    const result = schema.safeParse(value);
    if (!result.success) return false;
    this.quickEvent = result.data as AnyEvent;
    this.quickDefinition = contract.definition;
    return true;
  }
  private quickEvent: AnyEvent | undefined;

  /** Once per contract: the registry's (compiled) schema for it, else the contract's own. */
  private resolveSchema(contract: Contract): ZodType {
    const { registry } = this.settings;
    const schema = registry.validator !== undefined ? registry.validator(contract.definition).schema : contract.definition.schema;
    contract.schema = schema as ZodType;
    return contract.schema;
  }
  private quickDefinition: EventDefinition | undefined;

  /** Whether a contract is closed (computed once per definition). */
  private isClosed(definition: EventDefinition): boolean {
    let closed = this.closed.get(definition);
    if (closed === undefined) {
      closed = isClosedSchema(definition.schema);
      this.closed.set(definition, closed);
    }
    return closed;
  }

  /**
   * Checks that every record has Lambda's Kinesis shape (throws RuntimeInvariantError otherwise, rule
   * 12) and returns the oldest arrival time in Unix ms. No allocation.
   */
  check(records: readonly KinesisStreamRecord[]): number {
    let oldest = Infinity;
    for (let i = 0; i < records.length; i++) {
      const k = records[i]?.kinesis;
      if (
        k === undefined ||
        typeof k.data !== 'string' ||
        typeof k.sequenceNumber !== 'string' ||
        k.sequenceNumber.length === 0 ||
        typeof k.partitionKey !== 'string' ||
        typeof k.approximateArrivalTimestamp !== 'number'
      ) {
        // Not something Lambda sends: fail the invocation so retries/bisect handle it (rule 12).
        throw new RuntimeInvariantError(
          `Records[${i}] is not a Kinesis stream record (kinesis.data/sequenceNumber/partitionKey/approximateArrivalTimestamp missing)`,
        );
      }
      const arrival = k.approximateArrivalTimestamp * 1000;
      if (arrival < oldest) oldest = arrival;
    }
    return oldest;
  }

  /**
   * The items of one (checked) Kinesis record: a single item for a plain record (decoded later, by
   * `load`, when it starts), the user records of a KPL aggregate, or one failed item for a corrupt aggregate.
   */
  expand(record: KinesisStreamRecord, batch: BatchInfo): RecordItem | RecordItem[] {
    const k = record.kinesis;
    const eventID = record.eventID;
    const info =
      typeof eventID === 'string' && !(eventID.startsWith(batch.shardId) && eventID.charCodeAt(batch.shardId.length) === 58)
        ? { shardId: shardIdOf(eventID), log: batch.log }
        : batch;
    const b64 = k.data;
    // KPL magic F3 89 9A C2 always base64-encodes to a leading "84maw": only such records are
    // decoded here (their user records and keys are needed for scheduling); plain records are
    // decoded when they start, and nothing of a finished record is kept, so the batch costs no more
    // memory than one record at a time.
    if (b64.charCodeAt(0) === 56 && b64.startsWith('84maw')) {
      const bytes = Buffer.from(b64, 'base64');
      if (isWellFormedBase64(b64, bytes.length) && isAggregate(bytes)) {
        let users;
        try {
          users = decodeAggregate(bytes);
        } catch (error) {
          if (!(error instanceof KplDecodeError)) throw error;
          const item = new RecordItem(record, k.sequenceNumber, k.partitionKey, info, undefined);
          this.fail(item, { kind: 'corrupt-aggregate', message: `KPL aggregate is corrupt: ${error.message}` }, undefined);
          return item;
        }
        return users.map(
          (user) =>
            new RecordItem(record, k.sequenceNumber, user.partitionKey, info, {
              subSequenceNumber: user.subSequenceNumber,
              explicitHashKey: user.explicitHashKey,
              data: user.data,
            }),
        );
      }
    }
    return new RecordItem(record, k.sequenceNumber, k.partitionKey, info, undefined);
  }

  /** All items of a batch at once (check + expand), e.g. for inspection tools; the runtime expands lazily. */
  decode(records: readonly KinesisStreamRecord[], batchShardId: string, log: Logger): DecodedBatch {
    const oldestArrivalMs = this.check(records);
    const items: RecordItem[] = [];
    const batch: BatchInfo = { shardId: batchShardId, log };
    for (let i = 0; i < records.length; i++) {
      const expanded = this.expand(records[i]!, batch);
      if (Array.isArray(expanded)) items.push(...expanded);
      else items.push(expanded);
    }
    return { items, oldestArrivalMs };
  }

  /**
   * Decode and validate one record just before it runs. Returns false when it failed permanently
   * (then its status is ToQuarantine and its reason is set).
   */
  load(item: RecordItem): boolean {
    const user = item.userData;
    if (user !== undefined) return this.validate(item, user as Buffer, user.length);
    const b64 = item.source.kinesis.data;
    // Decode into the reused scratch buffer (no Buffer per record): nothing keeps the bytes, the
    // record's text is copied out by toString below and the quarantine keeps the base64 as received.
    const capacity = (b64.length >>> 2) * 3 + 3;
    let bytes: Buffer;
    let length: number;
    if (capacity <= SCRATCH_LIMIT) {
      if (capacity > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_LIMIT, Math.max(capacity, this.scratch.length * 2)));
      bytes = this.scratch;
      length = bytes.write(b64, 0, 'base64');
    } else {
      bytes = Buffer.from(b64, 'base64');
      length = bytes.length;
    }
    if (!isWellFormedBase64(b64, length)) {
      this.fail(item, { kind: 'invalid-base64', message: `data is not valid base64 (${b64.length} characters)` }, undefined);
      return false;
    }
    return this.validate(item, bytes, length);
  }

  /** Rules 2-3 on the first `length` bytes of `bytes`. */
  private validate(item: RecordItem, bytes: Buffer, length: number): boolean {
    if (!isUtf8(length === bytes.length ? bytes : bytes.subarray(0, length))) {
      this.fail(item, { kind: 'invalid-utf8', message: 'data is not valid UTF-8 (JSON text must be UTF-8)' }, undefined);
      return false;
    }
    const text = bytes.toString('utf8', 0, length);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.fail(item, describeJsonError(error, text), undefined);
      return false;
    }
    const { maxJsonDepth, maxHops, registry, recordFilter } = this.settings;
    // Filtered after deaggregation and JSON parsing, before validation: as Lambda's filter, which a
    // record's contract does not concern (./record-filter.ts).
    if (recordFilter !== undefined && !recordFilter(value)) {
      item.status = ItemStatus.Filtered;
      return false;
    }
    let event: AnyEvent;
    let definition: EventDefinition;
    try {
      if (this.quickParse(value)) {
        event = this.quickEvent!;
        definition = this.quickDefinition!;
        this.quickEvent = undefined;
      } else {
        const result = registry.safeParse(value);
        if (!result.ok) {
          // Explain unsafe JSON first: it is the more specific reason.
          const problem = inspectJson(value, maxJsonDepth, this.stack, this.depths);
          const { error } = result;
          this.fail(item, problem ?? { kind: error.kind, message: error.message, ...(error.issues.length > 0 ? { issues: error.issues } : {}) }, value);
          return false;
        }
        event = result.event;
        definition = result.definition;
      }
    } catch (error) {
      // A recursive (open) contract can overflow the stack on deeply nested input.
      if (!(error instanceof RangeError)) throw error;
      this.fail(item, inspectJson(value, maxJsonDepth, this.stack, this.depths) ?? { kind: 'too-deep', message: 'JSON nesting is too deep to validate' }, value);
      return false;
    }
    // A closed contract's output cannot carry forbidden keys or unbounded nesting: skip the walk.
    if (!this.isClosed(definition)) {
      const problem = inspectJson(value, maxJsonDepth, this.stack, this.depths);
      if (problem !== undefined) {
        this.fail(item, problem, value);
        return false;
      }
    }
    // Loop guard: a consumer that re-emits events increments `hops`; refuse runaway re-emission.
    if (event.hops > maxHops) {
      this.fail(
        item,
        { kind: 'hops-exceeded', message: `hops ${event.hops} exceeds the limit of ${maxHops} (loop guard: the event was re-emitted too often)` },
        value,
      );
      return false;
    }
    item.event = event;
    item.eventId = event.id;
    item.eventType = event.type;
    item.eventVersion = event.version;
    item.traceId = event.traceId;
    return true;
  }

  private fail(item: RecordItem, failure: PermanentFailure, value: unknown): void {
    item.permanent = failure;
    item.status = ItemStatus.ToQuarantine;
    item.rawValue = value;
  }
}
