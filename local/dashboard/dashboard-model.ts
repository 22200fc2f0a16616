/**
 * The local dashboard's state: the stage's widgets filled from the run's metrics (one column of
 * values per collector tick) and the stage's alarms evaluated over the same metrics with
 * CloudWatch's semantics (./alarm-evaluator.ts). The live page, the terminal, the summary and the
 * HTML report all read it. A time scale shortens every alarm period (period / scale) so alarms
 * designed for minutes can be watched in a short local run; it is always stated where states show.
 */
import { alarmIntervals, evaluateSeries, type AlarmInterval, type AlarmState } from './alarm-evaluator';
import type { AlarmDefinition, DeployedDefinitions } from './deployed-definitions';
import { metricKey, MetricStore, statistic, type MetricId, type MetricSample } from './metric-store';

export interface SeriesView {
  id: string;
  label: string;
}

export interface WidgetView {
  title: string;
  stat: string;
  series: SeriesView[];
}

export type AlarmDisplayState = AlarmState | 'NOT_EVALUATED';

export interface AlarmStatus {
  alarmName: string;
  description: string;
  /** `AWS/Lambda IteratorAge (FunctionName=...) Maximum > 360000` */
  condition: string;
  /** `3 of 3 x 300 s (5 s locally), missing data: notBreaching` */
  evaluation: string;
  state: AlarmDisplayState;
  /** Why an alarm is not evaluated locally. */
  reason?: string;
  /** False when the run produced no value of the alarm's metric (e.g. throttling is not emulated). */
  hasLocalData: boolean;
  intervals: AlarmInterval[];
  /** Evaluations done so far (one per completed local period). */
  evaluations: number;
}

export interface DashboardMeta {
  pipeline: string;
  stage: string;
  region: string;
  timeScale: number;
  startedAt: number;
  /** How the page states the time scale. */
  timeScaleNote: string;
}

export interface DashboardState {
  meta: DashboardMeta;
  widgets: WidgetView[];
  /** Tick times (epoch ms), one column each. */
  t: number[];
  /** Series id -> one value per tick (null: no datapoint in that tick). */
  values: Record<string, (number | null)[]>;
  alarms: AlarmStatus[];
}

/** What a tick adds: the new column, and the widgets again when a series appeared. */
export interface TickUpdate {
  t: number;
  values: Record<string, number | null>;
  widgets?: WidgetView[];
  alarms: AlarmStatus[];
}

export function timeScaleNote(timeScale: number): string {
  return timeScale === 1
    ? 'alarm periods as deployed (time scale 1)'
    : `time scale ${timeScale}: every alarm period is ${timeScale} times shorter than deployed (a 60 s period lasts ${formatSeconds(60 / timeScale)} here)`;
}

function formatSeconds(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function describeMetric(id: MetricId): string {
  const dims = Object.entries(id.dimensions)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${id.namespace} ${id.metricName}${dims ? ` (${dims})` : ''}`;
}

const OPERATOR: Record<AlarmDefinition['comparisonOperator'], string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

export class DashboardModel {
  readonly store = new MetricStore();
  private readonly ticks: number[] = [];
  private readonly columns = new Map<string, (number | null)[]>();
  private widgetViews: WidgetView[] = [];
  /** Samples of the current tick only, by metric key (for the chart columns). */
  private tickSamples = new Map<string, number[]>();
  private closed = false;
  readonly meta: DashboardMeta;

  constructor(
    private readonly definitions: DeployedDefinitions,
    options: { pipeline: string; timeScale: number; startedAt: number },
  ) {
    this.meta = {
      pipeline: options.pipeline,
      stage: definitions.stage,
      region: definitions.region,
      timeScale: options.timeScale,
      startedAt: options.startedAt,
      timeScaleNote: timeScaleNote(options.timeScale),
    };
    this.widgetViews = this.computeWidgets();
  }

  get alarmsDefined(): readonly AlarmDefinition[] {
    return this.definitions.alarms;
  }

  /** Local period of an alarm: its period divided by the time scale. */
  localPeriodMs(alarm: AlarmDefinition): number {
    return (alarm.period * 1000) / this.meta.timeScale;
  }

  private widgetMetrics(index: number): { id: MetricId; label: string }[] {
    const widget = this.definitions.widgets[index]!;
    // As CloudWatch labels an unlabelled metric: by its dimension values.
    const out = widget.metrics.map((m) => ({ id: m as MetricId, label: m.label ?? (Object.values(m.dimensions).join(' ') || m.metricName) }));
    if (widget.search) {
      const found = this.store.inNamespace(widget.search.namespace).sort((a, b) => metricKey(a).localeCompare(metricKey(b)));
      for (const id of found) out.push({ id, label: `${id.metricName}${Object.values(id.dimensions).length ? ` ${Object.values(id.dimensions).join(' ')}` : ''}` });
    }
    return out;
  }

  private computeWidgets(): WidgetView[] {
    return this.definitions.widgets.map((widget, index) => ({
      title: widget.title,
      stat: widget.search?.stat ?? [...new Set(widget.metrics.map((m) => m.stat))].join(' / '),
      series: this.widgetMetrics(index).map(({ id, label }) => ({ id: `${index}:${metricKey(id)}`, label })),
    }));
  }

  private statOf(widgetIndex: number, id: MetricId): string {
    const widget = this.definitions.widgets[widgetIndex]!;
    return widget.metrics.find((m) => metricKey(m) === metricKey(id))?.stat ?? widget.search?.stat ?? 'Sum';
  }

  /** Adds one collector tick (samples stamped `t`) and returns what changed. */
  addTick(t: number, samples: readonly MetricSample[]): TickUpdate {
    this.tickSamples = new Map();
    for (const sample of samples) {
      this.store.add({ ...sample, t });
      const key = metricKey(sample);
      const list = this.tickSamples.get(key) ?? [];
      list.push(sample.v);
      this.tickSamples.set(key, list);
    }
    const before = JSON.stringify(this.widgetViews.map((w) => w.series.map((s) => s.id)));
    this.widgetViews = this.computeWidgets();
    const changed = JSON.stringify(this.widgetViews.map((w) => w.series.map((s) => s.id))) !== before;
    this.ticks.push(t);
    const values: Record<string, number | null> = {};
    this.definitions.widgets.forEach((_widget, index) => {
      for (const metric of this.widgetMetrics(index)) {
        const id = `${index}:${metricKey(metric.id)}`;
        const value = statistic(this.tickSamples.get(metricKey(metric.id)) ?? [], this.statOf(index, metric.id));
        let column = this.columns.get(id);
        if (!column) {
          column = new Array<number | null>(this.ticks.length - 1).fill(null);
          this.columns.set(id, column);
        }
        column.push(value ?? null);
        values[id] = value ?? null;
      }
    });
    return { t, values, ...(changed ? { widgets: this.widgetViews } : {}), alarms: this.alarms(t) };
  }

  /** Every alarm's state at `now`, evaluated once per completed local period since the start. */
  alarms(now: number = this.ticks[this.ticks.length - 1] ?? this.meta.startedAt): AlarmStatus[] {
    return this.definitions.alarms.map((alarm) => {
      const periodMs = this.localPeriodMs(alarm);
      const m = alarm.datapointsToAlarm;
      const base = {
        alarmName: alarm.alarmName,
        description: alarm.description,
        evaluation: `${m} of ${alarm.evaluationPeriods} x ${alarm.period} s${this.meta.timeScale === 1 ? '' : ` (${formatSeconds(periodMs / 1000)} locally)`}, missing data: ${alarm.treatMissingData}`,
      };
      if (!alarm.metric) {
        return {
          ...base,
          condition: `${alarm.expression ?? 'metric math'} ${OPERATOR[alarm.comparisonOperator]} ${alarm.threshold}`,
          state: 'NOT_EVALUATED' as const,
          reason: 'metric math alarms are not evaluated locally',
          hasLocalData: false,
          intervals: [],
          evaluations: 0,
        };
      }
      const metric = alarm.metric;
      // Once the run is over its last period is complete too: nothing more will come in it.
      const start = this.meta.startedAt;
      const end = this.closed ? start + Math.ceil((now - start + 1) / periodMs) * periodMs : now;
      const datapoints = this.store.datapoints(metric, metric.stat, start, periodMs, end);
      // The evaluation of the run's last, partial period is stamped at the end of the run, not in the future.
      const ends = datapoints.map((_, i) => Math.min(start + (i + 1) * periodMs, Math.max(now, start + i * periodMs)));
      const { states, changes } = evaluateSeries(
        datapoints,
        {
          evaluationPeriods: alarm.evaluationPeriods,
          datapointsToAlarm: alarm.datapointsToAlarm,
          threshold: alarm.threshold,
          comparisonOperator: alarm.comparisonOperator,
          treatMissingData: alarm.treatMissingData,
        },
        ends,
      );
      return {
        ...base,
        condition: `${describeMetric(metric)} ${metric.stat} ${OPERATOR[alarm.comparisonOperator]} ${alarm.threshold}`,
        state: states[states.length - 1] ?? 'INSUFFICIENT_DATA',
        hasLocalData: this.store.has(metric),
        intervals: alarmIntervals(changes),
        evaluations: states.length,
      };
    });
  }

  /** The run is over: its last, partial period is evaluated as well (no more data can come in it). */
  close(): void {
    this.closed = true;
  }

  state(): DashboardState {
    return {
      meta: this.meta,
      widgets: this.widgetViews,
      t: [...this.ticks],
      values: Object.fromEntries([...this.columns].map(([id, column]) => [id, [...column]])),
      alarms: this.alarms(),
    };
  }
}
