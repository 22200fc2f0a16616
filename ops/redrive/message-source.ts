/**
 * Where redrive reads its work from: an SQS queue on AWS, an NDJSON file of the local data folder.
 * Both hand out text items and forget an item only when told it succeeded (`ack`); `close` gives
 * every other item back (visible again in the queue, kept in the file).
 */
export interface SourceItem {
  /** Message id or `file:line`, for reports. */
  readonly id: string;
  /** The message body / line text. */
  readonly body: string;
}

export interface MessageSource {
  /** What is being read, e.g. the queue URL or the file path. */
  readonly description: string;
  /** The next items; an empty array when nothing more is available. */
  next(): Promise<readonly SourceItem[]>;
  /** The item's work succeeded: delete it. */
  ack(item: SourceItem): Promise<void>;
  /** Return every item not acknowledged. */
  close(): Promise<void>;
}
