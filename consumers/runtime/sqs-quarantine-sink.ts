/**
 * Quarantine into an Amazon SQS queue with SendMessageBatch.
 *
 * Limits (Amazon SQS API Reference, SendMessageBatch; SQS developer guide, "Amazon SQS message quotas"):
 * - at most 10 entries per SendMessageBatch call;
 * - a message body, and the sum of all bodies in one batch, at most 1 MiB (1,048,576 bytes) since
 *   August 2025 (256 KiB = 262,144 bytes before); a queue's own MaximumMessageSize attribute
 *   (1,024..1,048,576 bytes) can be lower. The defaults here stay at 262,144 bytes, which every queue
 *   accepts; raise `maxMessageBytes` / `maxBatchBytes` to the queue's MaximumMessageSize.
 * - bodies may contain only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
 *   (handled by serializeQuarantineRecord: the body is JSON with those escaped).
 * - a batch can partly fail: check `Failed` even on HTTP 200. Entries failing with SenderFault=false
 *   are retried once; the rest are reported as not written (the record is then redelivered).
 *
 * A record whose message would exceed `maxMessageBytes` is quarantined by reference (stream, shard,
 * sequence number, reason, `dataOmitted: "too-large"`), never truncated silently.
 *
 * The SQS client loads on the first quarantined record, not at cold start (see on-first-use.ts).
 */
import type { SQSClient, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { onFirstUse } from './on-first-use';
import { serializeQuarantineRecord, withoutPayload, type QuarantineSink } from './quarantine';
import type { QuarantineRecord } from './types';

const sqsSdk = onFirstUse(() => import('./sqs-sdk'));

/** SendMessageBatch: at most 10 entries per call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** SQS hard maximum for one message and for one batch's total (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES_LIMIT = 1_048_576;
/** Conservative default: the pre-2025 limit and the MaximumMessageSize of older queues (256 KiB). */
export const SQS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;

/** Options of SqsQuarantineSink. */
export interface SqsQuarantineSinkOptions {
  queueUrl: string;
  /** Injected client (tests pass one mocked with aws-sdk-client-mock); default `new SQSClient({})`, created on first write. */
  client?: SQSClient;
  /** Largest message body in bytes (<= 1,048,576; match the queue's MaximumMessageSize). Default 262,144. */
  maxMessageBytes?: number;
  /** Largest sum of bodies per SendMessageBatch call (<= 1,048,576). Default: maxMessageBytes. */
  maxBatchBytes?: number;
}

interface Entry {
  readonly index: number;
  readonly body: string;
  readonly bytes: number;
  readonly record: QuarantineRecord;
}

/** The AWS quarantine sink: SendMessageBatch to one queue (standard or FIFO). */
export class SqsQuarantineSink implements QuarantineSink {
  readonly queueUrl: string;
  readonly maxMessageBytes: number;
  readonly maxBatchBytes: number;
  private client: SQSClient | undefined;
  private readonly fifo: boolean;

  constructor(options: SqsQuarantineSinkOptions) {
    this.queueUrl = options.queueUrl;
    this.client = options.client;
    this.maxMessageBytes = options.maxMessageBytes ?? SQS_DEFAULT_MAX_MESSAGE_BYTES;
    this.maxBatchBytes = options.maxBatchBytes ?? this.maxMessageBytes;
    this.fifo = this.queueUrl.endsWith('.fifo');
    for (const [name, value] of [
      ['maxMessageBytes', this.maxMessageBytes],
      ['maxBatchBytes', this.maxBatchBytes],
    ] as const) {
      if (!Number.isInteger(value) || value < 1024 || value > SQS_MAX_MESSAGE_BYTES_LIMIT) {
        throw new RangeError(`${name} must be an integer between 1024 and ${SQS_MAX_MESSAGE_BYTES_LIMIT} bytes (SQS limit)`);
      }
    }
    if (this.maxBatchBytes < this.maxMessageBytes) throw new RangeError('maxBatchBytes must be >= maxMessageBytes');
  }

  /** The message body for a record: the full record, or by reference when it is too large. */
  messageBody(record: QuarantineRecord): string {
    const full = serializeQuarantineRecord(record);
    if (this.fits(full)) return full;
    const reference = withoutPayload(record);
    const byReference = serializeQuarantineRecord(reference);
    if (this.fits(byReference)) return byReference;
    // Even without payload (e.g. thousands of validation issues): keep the reason's headline and count.
    // The headline is at most 2000 characters and, when the message limit is small and the text
    // multi-byte (or escaped), cut further until the body fits in maxMessageBytes: SQS refuses a larger
    // message on every delivery.
    const { message } = reference.error;
    const suffix = ` [${reference.error.issues?.length ?? 0} validation issues omitted: message too large]`;
    const bodyWith = (chars: number): string =>
      serializeQuarantineRecord({ ...reference, error: { kind: reference.error.kind, message: `${headline(message, chars)}${suffix}` } });
    const longest = Math.min(2000, message.length);
    const whole = bodyWith(longest);
    if (this.fits(whole)) return whole;
    // The longest headline that fits (binary search: serialising is the only exact measure of escapes).
    let best: string | undefined;
    let lo = 1;
    let hi = longest - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const candidate = bodyWith(mid);
      if (this.fits(candidate)) {
        best = candidate;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best ?? bodyWith(0);
  }

  private fits(body: string): boolean {
    return Buffer.byteLength(body, 'utf8') <= this.maxMessageBytes;
  }

  async write(records: readonly QuarantineRecord[]): Promise<readonly number[]> {
    const entries: Entry[] = records.map((record, index) => {
      const body = this.messageBody(record);
      return { index, body, bytes: Buffer.byteLength(body, 'utf8'), record };
    });
    const batches: Entry[][] = [];
    let current: Entry[] = [];
    let currentBytes = 0;
    for (const entry of entries) {
      if (current.length === SQS_MAX_BATCH_ENTRIES || (current.length > 0 && currentBytes + entry.bytes > this.maxBatchBytes)) {
        batches.push(current);
        current = [];
        currentBytes = 0;
      }
      current.push(entry);
      currentBytes += entry.bytes;
    }
    if (current.length > 0) batches.push(current);

    const results = await Promise.all(batches.map((batch) => this.sendBatch(batch)));
    const failed = results.flat();
    if (failed.length === records.length && records.length > 0) {
      throw new Error(`SQS quarantine: no record could be written to ${this.queueUrl}`);
    }
    return failed;
  }

  /** Sends one batch, retrying entries that failed without sender fault once; returns indexes not written. */
  private async sendBatch(batch: readonly Entry[]): Promise<number[]> {
    const notWritten: number[] = [];
    const { SQSClient, SendMessageBatchCommand } = await sqsSdk();
    const client = (this.client ??= new SQSClient({}));
    let pending: readonly Entry[] = batch;
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      let failed: readonly { Id?: string | undefined; SenderFault?: boolean | undefined }[];
      try {
        const out = await client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending.map((e) => this.entry(e)) }),
        );
        failed = out.Failed ?? [];
      } catch {
        // The SDK already retried transport errors and throttling; report the batch as not written.
        return [...notWritten, ...pending.map((e) => e.index)];
      }
      const byId = new Map(pending.map((e) => [String(e.index), e]));
      const retry: Entry[] = [];
      for (const f of failed) {
        const entry = byId.get(f.Id ?? '');
        if (entry === undefined) continue;
        if (f.SenderFault === true) notWritten.push(entry.index); // the request is wrong: retrying cannot help
        else retry.push(entry);
      }
      pending = retry;
    }
    return [...notWritten, ...pending.map((e) => e.index)];
  }

  private entry(e: Entry): SendMessageBatchRequestEntry {
    const entry: SendMessageBatchRequestEntry = { Id: String(e.index), MessageBody: e.body };
    if (this.fifo) {
      // FIFO queues need a group and a deduplication id (SendMessageBatchRequestEntry).
      entry.MessageGroupId = e.record.record.shardId;
      entry.MessageDeduplicationId = `${e.record.record.sequenceNumber}-${e.record.record.subSequenceNumber ?? 0}`.slice(0, 128);
    }
    return entry;
  }
}

/** The first `chars` UTF-16 units of `text`, without a high surrogate cut from its pair. */
function headline(text: string, chars: number): string {
  const cut = text.slice(0, chars);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
