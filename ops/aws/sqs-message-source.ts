/**
 * An SQS queue as a redrive source (SQS API reference: ReceiveMessage, DeleteMessage,
 * ChangeMessageVisibilityBatch). Received messages stay invisible for `visibilityTimeoutSeconds`, so one
 * pass never sees a message twice; a message is deleted only after its work succeeded; the rest are
 * made visible again when the pass ends (visibility timeout 0), ready for the next attempt.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MessageSource, SourceItem } from '../redrive/message-source';

export interface SqsMessageSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Seconds received messages stay hidden while being worked on (default 300; SQS max 43200). */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait per ReceiveMessage (default 1 s: long polling asks every SQS server, so empty means empty). */
  readonly waitTimeSeconds?: number;
  /** Stop after this many messages (default: until the queue is empty). */
  readonly maxMessages?: number;
}

interface SqsItem extends SourceItem {
  readonly receiptHandle: string;
}

/** SQS ReceiveMessage MaxNumberOfMessages and ChangeMessageVisibilityBatch entries: at most 10. */
const SQS_BATCH_MAX = 10;

export class SqsMessageSource implements MessageSource {
  readonly description: string;
  private readonly pending = new Map<string, SqsItem>();
  private received = 0;

  constructor(private readonly options: SqsMessageSourceOptions) {
    this.description = options.queueUrl;
  }

  async next(): Promise<readonly SourceItem[]> {
    const max = this.options.maxMessages;
    const want = max === undefined ? SQS_BATCH_MAX : Math.min(SQS_BATCH_MAX, max - this.received);
    if (want <= 0) return [];
    const out = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: want,
        WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
        VisibilityTimeout: this.options.visibilityTimeoutSeconds ?? 300,
      }),
    );
    const items: SqsItem[] = [];
    for (const message of out.Messages ?? []) {
      if (message.ReceiptHandle === undefined) continue;
      const item: SqsItem = { id: message.MessageId ?? message.ReceiptHandle, body: message.Body ?? '', receiptHandle: message.ReceiptHandle };
      this.pending.set(item.id, item);
      items.push(item);
    }
    this.received += items.length;
    return items;
  }

  async ack(item: SourceItem): Promise<void> {
    const pending = this.pending.get(item.id);
    if (!pending) throw new Error(`message ${item.id} was not received from ${this.options.queueUrl}`);
    await this.options.sqs.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: pending.receiptHandle }));
    this.pending.delete(item.id);
  }

  async close(): Promise<void> {
    const rest = [...this.pending.values()];
    this.pending.clear();
    for (let i = 0; i < rest.length; i += SQS_BATCH_MAX) {
      const chunk = rest.slice(i, i + SQS_BATCH_MAX);
      await this.options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: chunk.map((item, index) => ({ Id: String(index), ReceiptHandle: item.receiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}
