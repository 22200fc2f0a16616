/**
 * The pipeline dashboard, declared once as data: which widgets, which metrics (namespace, name,
 * dimensions, statistic, label). Two renderers read it: infra/constructs/pipeline-dashboard.ts turns
 * it into the CloudWatch dashboard body that deploys (CloudWatch "Dashboard Body Structure and
 * Syntax"), and the local dashboard of `npm start` (local/dashboard/) draws the same widgets from the
 * run's own metrics.
 */
import { runtimeMetricDimensions, RUNTIME_METRICS_NAMESPACE } from './runtime-metrics';

/** One metric of a widget, as CloudWatch identifies it (namespace + name + the exact dimension set). */
export interface WidgetMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** CloudWatch statistic: Sum, Maximum, Minimum, Average, SampleCount or a percentile such as p99. */
  stat: string;
  label?: string;
}

/** Every metric of a namespace, whatever its dimensions (CloudWatch "Search expression syntax"). */
export interface WidgetSearch {
  namespace: string;
  stat: string;
  /** Period of the search expression, seconds. */
  period: number;
}

export interface DashboardWidget {
  title: string;
  /** Period of the widget's datapoints, seconds. */
  period: number;
  metrics: WidgetMetric[];
  search?: WidgetSearch;
}

export interface DashboardConsumer {
  name: string;
  functionName: string;
  queueNames: string[];
  businessNamespace?: string | undefined;
}

export interface PipelineDashboardWidgetsProps {
  streamNames: string[];
  consumers: DashboardConsumer[];
  plainFunctionNames: string[];
  /** Queues beyond the consumers' (the plain functions' on-failure queues). */
  extraQueueNames?: string[];
}

const PERIOD = 60;

export function pipelineDashboardWidgets(props: PipelineDashboardWidgetsProps): DashboardWidget[] {
  const widgets: DashboardWidget[] = [];
  const place = (title: string, metrics: WidgetMetric[], search?: WidgetSearch): void => {
    widgets.push({ title, period: PERIOD, metrics, ...(search ? { search } : {}) });
  };
  const perStream = (metric: string, stat: string): WidgetMetric[] =>
    props.streamNames.map((s) => ({ namespace: 'AWS/Kinesis', metricName: metric, dimensions: { StreamName: s }, stat, label: `${s} ${metric}` }));
  const perFunction = (metric: string, stat: string, names = props.consumers.map((c) => c.functionName)): WidgetMetric[] =>
    names.map((f) => ({ namespace: 'AWS/Lambda', metricName: metric, dimensions: { FunctionName: f }, stat, label: `${f} ${metric}` }));
  const allFunctions = [...props.consumers.map((c) => c.functionName), ...props.plainFunctionNames];

  place('Stream throughput (records)', [...perStream('IncomingRecords', 'Sum'), ...perStream('GetRecords.Records', 'Sum')]);
  place('Stream throughput (bytes) and throttling', [
    ...perStream('IncomingBytes', 'Sum'),
    ...perStream('WriteProvisionedThroughputExceeded', 'Sum'),
    ...perStream('ReadProvisionedThroughputExceeded', 'Sum'),
  ]);
  place('Iterator age (ms)', [...perStream('GetRecords.IteratorAgeMilliseconds', 'Maximum'), ...perFunction('IteratorAge', 'Maximum')]);
  place('Errors and throttles', [...perFunction('Errors', 'Sum', allFunctions), ...perFunction('Throttles', 'Sum', allFunctions)]);
  place('Duration p99 (ms)', perFunction('Duration', 'p99', allFunctions));
  place(
    'Quarantine and on-failure depth',
    [...props.consumers.flatMap((c) => c.queueNames), ...(props.extraQueueNames ?? [])].map((q) => ({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: q },
      stat: 'Maximum',
    })),
  );
  place(
    'Consumer runtime: records',
    props.consumers.flatMap((c) =>
      ['RecordsProcessed', 'RecordsQuarantined', 'RecordsRetried', 'DuplicatesSkipped'].map((metric) => ({
        namespace: RUNTIME_METRICS_NAMESPACE,
        metricName: metric,
        dimensions: runtimeMetricDimensions(c.name),
        stat: 'Sum',
        label: `${c.name} ${metric}`,
      })),
    ),
  );
  const businessNamespaces = [...new Set(props.consumers.flatMap((c) => (c.businessNamespace ? [c.businessNamespace] : [])))];
  for (const namespace of businessNamespaces) place(`Business metrics: ${namespace}`, [], { namespace, stat: 'Sum', period: 300 });
  return widgets;
}

type MetricRow = (string | Record<string, unknown>)[];

/** The CloudWatch dashboard body of the widgets: two columns of 12 x 6 metric widgets. */
export function cloudWatchDashboardBody(widgets: readonly DashboardWidget[], region: string): { widgets: Record<string, unknown>[] } {
  let searches = 0;
  return {
    widgets: widgets.map((widget, index) => {
      const rows: MetricRow[] = widget.metrics.map((m) => [
        m.namespace,
        m.metricName,
        ...Object.entries(m.dimensions).flat(),
        { stat: m.stat, ...(m.label !== undefined ? { label: m.label } : {}) },
      ]);
      if (widget.search) {
        const { namespace, stat, period } = widget.search;
        rows.push([{ expression: `SEARCH('Namespace="${namespace}"', '${stat}', ${period})`, id: `business${searches++}`, label: '' }]);
      }
      return {
        type: 'metric',
        x: (index % 2) * 12,
        y: Math.floor(index / 2) * 6,
        width: 12,
        height: 6,
        properties: { title: widget.title, region, view: 'timeSeries', stacked: false, period: widget.period, metrics: rows },
      };
    }),
  };
}
