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
  /**
   * Of `quarantineDepth`, records that were expected there (local runner: the events its synthetic
   * upstream made invalid on purpose, and lines earlier runs left); only records beyond are a problem.
   * Undefined on AWS, where every quarantined record is unexpected (the RecordsQuarantined alarm).
   */
  readonly expectedQuarantine?: number | undefined;
  /** Names of this consumer's alarms in ALARM. */
  readonly alarms: readonly string[];
}

/** Why a healthy row's figures are fine although they are not zero (shown after "ok"). */
export function healthNotes(row: ConsumerStatus): string[] {
  const expected = Math.min(row.expectedQuarantine ?? 0, row.quarantineDepth ?? 0);
  return expected > 0 ? [`${expected} quarantined as expected (invalid on purpose, or from earlier runs)`] : [];
}

/** Every reason the consumer needs attention; empty = healthy. */
export function unhealthyReasons(row: ConsumerStatus, healthyStates: readonly string[]): string[] {
  const reasons: string[] = [];
  if (row.mappingState === undefined) reasons.push('no event source mapping');
  else if (!healthyStates.includes(row.mappingState)) reasons.push(`mapping ${row.mappingState}`);
  if (row.lastResult?.startsWith('PROBLEM')) reasons.push(row.lastResult);
  if (row.iteratorAgeMs !== undefined && row.iteratorAgeThresholdMs !== undefined && row.iteratorAgeMs > row.iteratorAgeThresholdMs) {
    reasons.push(`iterator age over ${row.iteratorAgeThresholdMs} ms (the IteratorAge alarm threshold: records near their expiry)`);
  }
  if ((row.errors ?? 0) > 0) reasons.push('function errors');
  if ((row.throttles ?? 0) > 0) reasons.push('throttled');
  if ((row.onFailureDepth ?? 0) > 0) reasons.push('failed batches waiting (ops redrive)');
  const unexpectedQuarantine = (row.quarantineDepth ?? 0) - (row.expectedQuarantine ?? 0);
  if (unexpectedQuarantine > 0) {
    reasons.push(
      row.expectedQuarantine === undefined
        ? 'quarantined records (ops redrive --quarantine)'
        : `${unexpectedQuarantine} unexpected quarantined record(s) (valid events or foreign input: fix, then ops redrive --quarantine)`,
    );
  }
  if (row.alarms.length > 0) reasons.push(`${row.alarms.length} alarm(s) in ALARM`);
  return reasons;
}
