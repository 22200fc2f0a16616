/**
 * The alarm evaluator against CloudWatch's own documented examples (CloudWatch user guide, "Using
 * Amazon CloudWatch alarms": "Evaluating an alarm" and "How alarm state is evaluated when data is
 * missing", both tables: 0 = not breaching, X = breaching, - = missing; 5 datapoints retrieved).
 */
import { describe, expect, it } from 'vitest';
import { alarmIntervals, evaluateAlarm, evaluateSeries, type AlarmRule, type AlarmState, type Datapoint, type TreatMissingData } from '../../local/dashboard/alarm-evaluator';

const THRESHOLD = 3;
/** `0 - X - X` -> datapoints: 0 is within the threshold (1), X breaches it (10), - is missing. */
function points(pattern: string): Datapoint[] {
  return pattern.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 10 : 1));
}
const RETAIN = 'retain current state';
type Expected = AlarmState | typeof RETAIN;

function check(pattern: string, m: number, n: number, expected: Record<TreatMissingData, Expected>): void {
  for (const [treat, state] of Object.entries(expected) as [TreatMissingData, Expected][]) {
    const rule: AlarmRule = { evaluationPeriods: n, datapointsToAlarm: m, threshold: THRESHOLD, comparisonOperator: 'GreaterThanThreshold', treatMissingData: treat };
    if (state === RETAIN) {
      // "Retain current state": whatever the alarm was in, it stays there.
      for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) expect(evaluateAlarm(points(pattern), rule, current), `${pattern} ${treat} from ${current}`).toBe(current);
    } else {
      for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) expect(evaluateAlarm(points(pattern), rule, current), `${pattern} ${treat}`).toBe(state);
    }
  }
}

describe('CloudWatch alarm evaluation: missing data, 3 of 3 datapoints (first documented table)', () => {
  const table: [string, Record<TreatMissingData, Expected>][] = [
    ['0 - X - X', { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' }],
    ['0 - - - -', { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' }],
    ['- - - - -', { missing: 'INSUFFICIENT_DATA', ignore: RETAIN, breaching: 'ALARM', notBreaching: 'OK' }],
    ['0 X X - X', { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' }],
    ['- - - - X', { missing: 'INSUFFICIENT_DATA', ignore: RETAIN, breaching: 'ALARM', notBreaching: 'OK' }],
    ['X - - - -', { missing: 'ALARM', ignore: RETAIN, breaching: 'ALARM', notBreaching: 'OK' }],
  ];
  for (const [pattern, expected] of table) it(`${pattern}`, () => check(pattern, 3, 3, expected));
});

describe('CloudWatch alarm evaluation: missing data, 2 of 3 datapoints, an M out of N alarm (second documented table)', () => {
  const table: [string, Record<TreatMissingData, Expected>][] = [
    ['0 - X - X', { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' }],
    ['0 0 X 0 X', { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' }],
    ['0 - X - -', { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' }],
    ['- - - - 0', { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' }],
    ['- - - - X', { missing: 'INSUFFICIENT_DATA', ignore: RETAIN, breaching: 'ALARM', notBreaching: 'OK' }],
  ];
  for (const [pattern, expected] of table) it(`${pattern}`, () => check(pattern, 2, 3, expected));
});

describe('CloudWatch alarm evaluation: Period, Evaluation Periods, Datapoints to Alarm', () => {
  it('the documented figure: 3 of 3 above the threshold of 3 -> ALARM in periods 3 to 5, OK from period 6, a single breach in period 9 stays OK', () => {
    // Values read from the guide's figure "Alarm threshold trigger alarm".
    const values = [1, 2, 4, 4, 5, 2, 1, 2, 4, 1];
    const ends = values.map((_, i) => (i + 1) * 60_000);
    const rule: AlarmRule = { evaluationPeriods: 3, datapointsToAlarm: 3, threshold: 3, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'missing' };
    const { states, changes } = evaluateSeries(values, rule, ends);
    expect(states).toEqual(['OK', 'OK', 'OK', 'OK', 'ALARM', 'OK', 'OK', 'OK', 'OK', 'OK']);
    expect(alarmIntervals(changes)).toEqual([{ from: 5 * 60_000, to: 6 * 60_000 }]);
  });

  it('the breaching datapoints of an M out of N alarm need not be consecutive', () => {
    const rule: AlarmRule = { evaluationPeriods: 5, datapointsToAlarm: 4, threshold: 3, comparisonOperator: 'GreaterThanOrEqualToThreshold' };
    expect(evaluateAlarm([3, 1, 3, 3, 3], rule, 'OK')).toBe('ALARM');
    expect(evaluateAlarm([3, 1, 1, 3, 3], rule, 'OK')).toBe('OK');
  });

  it('every comparison operator compares the statistic with the threshold as named', () => {
    const at = (comparisonOperator: AlarmRule['comparisonOperator'], value: number) =>
      evaluateAlarm([value], { evaluationPeriods: 1, threshold: 5, comparisonOperator }, 'OK');
    expect([at('GreaterThanThreshold', 5), at('GreaterThanThreshold', 6)]).toEqual(['OK', 'ALARM']);
    expect([at('GreaterThanOrEqualToThreshold', 4), at('GreaterThanOrEqualToThreshold', 5)]).toEqual(['OK', 'ALARM']);
    expect([at('LessThanThreshold', 5), at('LessThanThreshold', 4)]).toEqual(['OK', 'ALARM']);
    expect([at('LessThanOrEqualToThreshold', 6), at('LessThanOrEqualToThreshold', 5)]).toEqual(['OK', 'ALARM']);
  });

  it('an alarm starts in INSUFFICIENT_DATA and an interval still open at the end has no end', () => {
    const rule: AlarmRule = { evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'missing' };
    const { states, changes } = evaluateSeries([undefined, 0, 2, 2], rule, [1, 2, 3, 4]);
    expect(states).toEqual(['INSUFFICIENT_DATA', 'OK', 'ALARM', 'ALARM']);
    expect(alarmIntervals(changes)).toEqual([{ from: 3, to: undefined }]);
  });
});
