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

/**
 * Runs `redrive` on every item of `source`, in order, until it has no more. An item whose redrive
 * throws gets `failed`'s report and is kept (never acked); the others go on. Each report is passed
 * to `onItem` as it is made. The source is closed at the end, giving back every item not acked.
 */
export async function redriveEach<R>(
  source: MessageSource,
  redrive: (item: SourceItem) => Promise<R>,
  failed: (item: SourceItem, detail: string) => R,
  onItem?: (report: R) => void,
): Promise<R[]> {
  const reports: R[] = [];
  try {
    for (;;) {
      const batch = await source.next();
      if (batch.length === 0) break;
      for (const item of batch) {
        const report = await redrive(item).catch((error: unknown) => failed(item, `kept: ${(error as Error).name}: ${(error as Error).message}`));
        reports.push(report);
        onItem?.(report);
      }
    }
  } finally {
    await source.close();
  }
  return reports;
}
