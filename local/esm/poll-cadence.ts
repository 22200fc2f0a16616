/**
 * GetRecords cadence per shard (pure). Page "Using AWS Lambda with Amazon Kinesis": "Lambda polls each
 * shard in your Kinesis stream for records at a base rate of once per second. When more records are
 * available, Lambda keeps processing batches until the function catches up with the stream."
 * Kinesis allows 5 GetRecords calls per second per shard (Kinesis API reference, GetRecords), so the
 * busy cadence defaults to 200 ms.
 */
export function nextPollDelayMs(recordsReturned: number, millisBehindLatest: number | undefined, timing: { pollIntervalMs: number; busyPollIntervalMs: number }): number {
  const caughtUp = recordsReturned === 0 || millisBehindLatest === undefined || millisBehindLatest === 0;
  return caughtUp ? timing.pollIntervalMs : timing.busyPollIntervalMs;
}
