/**
 * What a function response means for the batch (pure).
 *
 * Page "Configuring partial batch response with Kinesis Data Streams and Lambda"
 * (services-kinesis-batchfailurereporting):
 * - the response is only read when ReportBatchItemFailures is on;
 * - complete success: an empty or null `batchItemFailures` list, an empty or null response;
 * - complete failure: an empty-string or null `itemIdentifier`, or an item with a bad key name;
 * - several items: Lambda checkpoints at the lowest sequence number and retries from there.
 * Page "Time windows": with a tumbling window, a response without `state` is a failed invocation.
 *
 * Interpretations (not spelled out by AWS), listed in docs/semantics.md: an identifier that is not a
 * sequence number of the batch, a non-array `batchItemFailures`, and a response that is not a JSON
 * object (a string, a number, an array) fail the whole batch.
 */

export type ResponseVerdict =
  | { kind: 'success'; state?: unknown }
  /** Records before `failedIndex` succeeded; retry from `failedIndex` (lowest reported sequence number). */
  | { kind: 'partial'; failedIndex: number; state?: unknown }
  | { kind: 'failure'; reason: string };

export interface ResponseRules {
  reportBatchItemFailures: boolean;
  tumblingWindow: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `sequenceNumbers` are the batch's, in stream order. */
export function interpretResponse(response: unknown, sequenceNumbers: readonly string[], rules: ResponseRules): ResponseVerdict {
  let state: unknown;
  if (rules.tumblingWindow) {
    if (!isPlainObject(response) || !('state' in response) || response['state'] === undefined) {
      return { kind: 'failure', reason: 'tumbling window: the response has no "state" property' };
    }
    state = response['state'];
  }
  const success: ResponseVerdict = rules.tumblingWindow ? { kind: 'success', state } : { kind: 'success' };
  if (!rules.reportBatchItemFailures) return success;
  if (response === null || response === undefined) return success;
  if (!isPlainObject(response)) return { kind: 'failure', reason: 'partial batch response: the response is not a JSON object' };
  const failures = response['batchItemFailures'];
  if (failures === undefined || failures === null) return success;
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'partial batch response: "batchItemFailures" is not a list' };
  if (failures.length === 0) return success;

  const indexBySequence = new Map<string, number>();
  sequenceNumbers.forEach((sequenceNumber, index) => indexBySequence.set(sequenceNumber, index));
  let lowest = Number.POSITIVE_INFINITY;
  for (const item of failures) {
    if (!isPlainObject(item) || !('itemIdentifier' in item)) {
      return { kind: 'failure', reason: 'partial batch response: an item has no "itemIdentifier" key' };
    }
    const identifier = item['itemIdentifier'];
    if (identifier === null || identifier === undefined) return { kind: 'failure', reason: 'partial batch response: null itemIdentifier' };
    if (identifier === '') return { kind: 'failure', reason: 'partial batch response: empty-string itemIdentifier' };
    if (typeof identifier !== 'string') return { kind: 'failure', reason: 'partial batch response: itemIdentifier is not a string' };
    const index = indexBySequence.get(identifier);
    if (index === undefined) return { kind: 'failure', reason: `partial batch response: itemIdentifier "${identifier.slice(0, 80)}" is not a sequence number of the batch` };
    lowest = Math.min(lowest, index);
  }
  return rules.tumblingWindow ? { kind: 'partial', failedIndex: lowest, state } : { kind: 'partial', failedIndex: lowest };
}
