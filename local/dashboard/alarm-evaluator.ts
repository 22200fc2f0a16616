/**
 * CloudWatch metric alarm evaluation, as documented in the CloudWatch user guide, "Using Amazon
 * CloudWatch alarms": "Evaluating an alarm" (Period, Evaluation Periods, Datapoints to Alarm: M out
 * of N) and "Configuring how CloudWatch alarms treat missing data" / "How alarm state is evaluated
 * when data is missing" (the evaluation range, and the two tables of examples the tests replay).
 * Pure functions: datapoints in, states out.
 */

export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type ComparisonOperator = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

export interface AlarmRule {
  /** N: the number of most recent periods (datapoints) evaluated. */
  evaluationPeriods: number;
  /** M: breaching datapoints among those N that put the alarm in ALARM (default N). */
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  /** Default `missing` (PutMetricAlarm, TreatMissingData: "If this parameter is omitted, the default behavior of missing is used"). */
  treatMissingData?: TreatMissingData;
}

/** One period's datapoint: its statistic, or undefined when the metric had no data in it. */
export type Datapoint = number | undefined;

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = [
  'GreaterThanThreshold',
  'GreaterThanOrEqualToThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];

export function breaches(value: number, rule: Pick<AlarmRule, 'threshold' | 'comparisonOperator'>): boolean {
  switch (rule.comparisonOperator) {
    case 'GreaterThanThreshold':
      return value > rule.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= rule.threshold;
    case 'LessThanThreshold':
      return value < rule.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= rule.threshold;
  }
}

/**
 * How many datapoints CloudWatch retrieves for one evaluation (the "evaluation range"). The user
 * guide gives no formula ("depends on the length of the alarm period"); its examples retrieve the 5
 * most recent datapoints for 3 evaluation periods, so the range here is N + 2.
 */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + 2;
}

/**
 * The alarm state after one evaluation over `range` (oldest first, the most recent last; at most
 * evaluationRange(N) datapoints are looked at), given the state before it.
 *
 * - No datapoint missing, or at least N present: the N most recent present datapoints are
 *   evaluated and the treatment of missing data "is not needed and is ignored".
 * - Fewer than N present: every present datapoint of the range is evaluated, with the missing ones
 *   next to them filled in ("uses missing data points only as few times as possible") as the
 *   treatment says: breaching, notBreaching, or, for `missing` and `ignore`, left out.
 * - M or more breaching: ALARM; otherwise OK, except (documented examples, `missing`/`ignore`):
 *   nothing present at all -> INSUFFICIENT_DATA (`missing`) or the current state (`ignore`); only
 *   breaching datapoints present but fewer than M -> ALARM when the oldest evaluated datapoint is
 *   one of them (`missing`), INSUFFICIENT_DATA when it is a missing one (`missing`), the current
 *   state (`ignore`).
 */
export function evaluateAlarm(range: readonly Datapoint[], rule: AlarmRule, current: AlarmState): AlarmState {
  const n = rule.evaluationPeriods;
  const m = rule.datapointsToAlarm ?? n;
  const treat = rule.treatMissingData ?? 'missing';
  const window = range.slice(-evaluationRange(n));
  const present = window.map((value, index) => ({ value, index })).filter((p): p is { value: number; index: number } => p.value !== undefined);

  if (present.length >= n) {
    const breaching = present.slice(-n).filter((p) => breaches(p.value, rule)).length;
    return breaching >= m ? 'ALARM' : 'OK';
  }
  if (present.length === 0) {
    if (treat === 'breaching') return 'ALARM';
    if (treat === 'notBreaching') return 'OK';
    return treat === 'ignore' ? current : 'INSUFFICIENT_DATA';
  }

  // Fewer than N present: the evaluated datapoints are N consecutive periods holding every present
  // one, as recent as possible (the few missing ones beside the real ones are filled in).
  const first = present[0]!.index;
  const last = present[present.length - 1]!.index;
  const end = Math.min(window.length - 1, Math.max(last, first + n - 1));
  const start = Math.max(0, end - n + 1);
  const evaluated = window.slice(start, end + 1);
  const breachingPresent = present.filter((p) => breaches(p.value, rule)).length;
  const missingCount = n - present.length;

  if (treat === 'breaching') return breachingPresent + missingCount >= m ? 'ALARM' : 'OK';
  if (treat === 'notBreaching') return breachingPresent >= m ? 'ALARM' : 'OK';
  if (breachingPresent >= m) return 'ALARM';
  if (breachingPresent < present.length) return 'OK';
  // Only breaching datapoints, fewer than M.
  if (treat === 'ignore') return current;
  return evaluated[0] !== undefined ? 'ALARM' : 'INSUFFICIENT_DATA';
}

export interface StateChange {
  /** Epoch ms of the evaluation that set the state (the end of the period just completed). */
  at: number;
  state: AlarmState;
}

/**
 * Evaluates an alarm once per completed period over a series of per-period datapoints (index 0 =
 * the first period), from INSUFFICIENT_DATA ("the alarm has just started"). Returns the state
 * after each evaluation and the transitions.
 */
export function evaluateSeries(datapoints: readonly Datapoint[], rule: AlarmRule, periodEnds: readonly number[]): { states: AlarmState[]; changes: StateChange[] } {
  let state: AlarmState = 'INSUFFICIENT_DATA';
  const states: AlarmState[] = [];
  const changes: StateChange[] = [];
  for (let i = 0; i < datapoints.length; i += 1) {
    const next = evaluateAlarm(datapoints.slice(Math.max(0, i + 1 - evaluationRange(rule.evaluationPeriods)), i + 1), rule, state);
    if (next !== state || changes.length === 0) changes.push({ at: periodEnds[i] ?? i, state: next });
    state = next;
    states.push(state);
  }
  return { states, changes };
}

export interface AlarmInterval {
  from: number;
  /** undefined: still in ALARM at the end of the run. */
  to: number | undefined;
}

/** The intervals in ALARM of a list of transitions. */
export function alarmIntervals(changes: readonly StateChange[]): AlarmInterval[] {
  const out: AlarmInterval[] = [];
  let open: number | undefined;
  for (const change of changes) {
    if (change.state === 'ALARM' && open === undefined) open = change.at;
    else if (change.state !== 'ALARM' && open !== undefined) {
      out.push({ from: open, to: change.at });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ from: open, to: undefined });
  return out;
}
