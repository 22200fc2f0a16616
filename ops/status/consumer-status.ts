/**
 * One row of `ops status` and the rule that calls it healthy or not. The same row is filled from
 * AWS (mapping, CloudWatch, SQS) or from the local runner (runner.json, data files).
 */
export interface ConsumerStatus {
  readonly consumer: string;
  readonly functionName: string;
  /** Mapping state: Enabled, Disabled, Creating, ... (AWS) / running, stopped (local); undefined if none found. */
  readonly mappingState: string | undefined;
  /** LastProcessingResult (AWS): "OK", "PROBLEM: ...", "No records processed". */
  readonly lastResult: string | undefined;
  readonly iteratorAgeMs: number | undefined;
  /** Threshold the iterator age is judged against (the consumer's IteratorAge alarm threshold). */
  readonly iteratorAgeThresholdMs: number | undefined;
  readonly errors: number | undefined;
  readonly throttles: number | undefined;
  readonly onFailureDepth: number | undefined;
  readonly quarantineDepth: number | undefined;
  /** Names of this consumer's alarms in ALARM. */
  readonly alarms: readonly string[];
}

/** Every reason the consumer needs attention; empty = healthy. */
export function unhealthyReasons(row: ConsumerStatus, healthyStates: readonly string[]): string[] {
  const reasons: string[] = [];
  if (row.mappingState === undefined) reasons.push('no event source mapping');
  else if (!healthyStates.includes(row.mappingState)) reasons.push(`mapping ${row.mappingState}`);
  if (row.lastResult?.startsWith('PROBLEM')) reasons.push(row.lastResult);
  if (row.iteratorAgeMs !== undefined && row.iteratorAgeThresholdMs !== undefined && row.iteratorAgeMs > row.iteratorAgeThresholdMs) {
    reasons.push(`iterator age over ${row.iteratorAgeThresholdMs} ms`);
  }
  if ((row.errors ?? 0) > 0) reasons.push('function errors');
  if ((row.throttles ?? 0) > 0) reasons.push('throttled');
  if ((row.onFailureDepth ?? 0) > 0) reasons.push('failed batches waiting (ops redrive)');
  if ((row.quarantineDepth ?? 0) > 0) reasons.push('quarantined records (ops redrive --quarantine)');
  if (row.alarms.length > 0) reasons.push(`${row.alarms.length} alarm(s) in ALARM`);
  return reasons;
}
