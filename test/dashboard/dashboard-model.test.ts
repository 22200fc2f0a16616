/**
 * The dashboard model over scheduled samples (no pipeline, no clock): widget columns per tick,
 * SEARCH widgets growing with the metrics found, alarms evaluated once per local period (period /
 * time scale) with the run's last partial period evaluated once the run is over.
 */
import { describe, expect, it } from 'vitest';
import { DashboardModel, timeScaleNote } from '../../local/dashboard/dashboard-model';
import type { DeployedDefinitions } from '../../local/dashboard/deployed-definitions';
import { checkTimeScale } from '../../local/dashboard/local-dashboard';
import type { MetricSample } from '../../local/dashboard/metric-store';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const quarantined = { namespace: 'KinesisPipeline/Consumers', metricName: 'RecordsQuarantined', dimensions: { ConsumerName: 'order-review' } };

function definitions(): DeployedDefinitions {
  return {
    stage: 'dev',
    region: 'eu-west-1',
    names: { stage: 'dev', streams: {}, functions: {}, consumerQueues: {}, functionQueues: {} },
    widgets: [
      { title: 'Records', period: 60, metrics: [{ ...quarantined, stat: 'Sum', label: 'quarantined' }] },
      { title: 'Business', period: 60, metrics: [], search: { namespace: 'Orders/Business', stat: 'Sum', period: 300 } },
    ],
    alarms: [
      {
        alarmName: 'order-review-records-quarantined',
        description: 'quarantined records',
        metric: { ...quarantined, stat: 'Sum' },
        period: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      },
      {
        alarmName: 'business-zero',
        description: 'metric math',
        metric: undefined,
        expression: 'IF(traffic > 0, 1, 0)',
        period: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
      },
    ],
  };
}

const sample = (v: number, id: Omit<MetricSample, 't' | 'v'> = quarantined): MetricSample => ({ ...id, t: 0, v });

describe('dashboard model', () => {
  it('time scale 60: 60 s alarm periods last 1 s; a breaching second puts the alarm in ALARM for that period', () => {
    const model = new DashboardModel(definitions(), { pipeline: 'orders', timeScale: 60, startedAt: T0 });
    // Periods of 1 s from T0; ticks in the middle of each period.
    model.addTick(T0 + 500, [sample(0)]);
    model.addTick(T0 + 1500, [sample(2)]);
    model.addTick(T0 + 2500, [sample(0)]);
    const update = model.addTick(T0 + 3500, []);
    const alarm = update.alarms.find((a) => a.alarmName === 'order-review-records-quarantined')!;
    expect(alarm.evaluations).toBe(3);
    expect(alarm.state).toBe('OK');
    expect(alarm.intervals).toEqual([{ from: T0 + 2000, to: T0 + 3000 }]);
    expect(alarm.evaluation).toBe('1 of 1 x 60 s (1 s locally), missing data: notBreaching');
    expect(alarm.condition).toBe('KinesisPipeline/Consumers RecordsQuarantined (ConsumerName=order-review) Sum > 0');
    expect(alarm.hasLocalData).toBe(true);
  });

  it('the run\'s last, partial period is evaluated once the run is over', () => {
    const model = new DashboardModel(definitions(), { pipeline: 'orders', timeScale: 60, startedAt: T0 });
    model.addTick(T0 + 500, [sample(0)]);
    model.addTick(T0 + 1200, [sample(5)]);
    expect(model.alarms()[0]!.intervals).toEqual([]);
    model.close();
    expect(model.alarms()[0]!.state).toBe('ALARM');
    // Stamped at the end of the run (the last tick), not at the end of the period still to come.
    expect(model.alarms()[0]!.intervals).toEqual([{ from: T0 + 1200, to: undefined }]);
  });

  it('metric math alarms are listed as not evaluated locally, with their expression', () => {
    const model = new DashboardModel(definitions(), { pipeline: 'orders', timeScale: 1, startedAt: T0 });
    const math = model.alarms().find((a) => a.alarmName === 'business-zero')!;
    expect(math.state).toBe('NOT_EVALUATED');
    expect(math.reason).toMatch(/metric math/);
    expect(math.condition).toBe('IF(traffic > 0, 1, 0) >= 1');
  });

  it('widget columns hold the tick\'s statistic; a SEARCH widget gains series as metrics appear, earlier ticks empty', () => {
    const model = new DashboardModel(definitions(), { pipeline: 'orders', timeScale: 1, startedAt: T0 });
    const placed = { namespace: 'Orders/Business', metricName: 'OrdersPlaced', dimensions: {} };
    const first = model.addTick(T0 + 1000, [sample(1), sample(2)]);
    expect(first.widgets).toBeUndefined();
    const second = model.addTick(T0 + 2000, [sample(7, placed)]);
    expect(second.widgets?.[1]?.series.map((s) => s.label)).toEqual(['OrdersPlaced']);
    const state = model.state();
    expect(state.t).toEqual([T0 + 1000, T0 + 2000]);
    expect(state.values['0:KinesisPipeline/Consumers|RecordsQuarantined|ConsumerName=order-review']).toEqual([3, null]);
    expect(state.values['1:Orders/Business|OrdersPlaced|']).toEqual([null, 7]);
    expect(state.meta.timeScaleNote).toBe(timeScaleNote(1));
  });

  it('the time scale is stated, and refused when a local period would be shorter than a collector tick', () => {
    expect(timeScaleNote(60)).toBe('time scale 60: every alarm period is 60 times shorter than deployed (a 60 s period lasts 1 s here)');
    expect(() => checkTimeScale(definitions(), 60, 1000)).not.toThrow();
    expect(() => checkTimeScale(definitions(), 120, 1000)).toThrow('--time-scale 120 makes the shortest alarm period (60 s, stage dev) shorter than the collector\'s 1 s tick: use at most 60');
    expect(() => checkTimeScale(definitions(), 0.5, 1000)).toThrow(/>= 1/);
  });
});
