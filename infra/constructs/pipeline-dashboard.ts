/**
 * The stage's CloudWatch dashboard: stream throughput, iterator age, consumer errors, throttles and
 * duration, queue depths, the runtime's record counts and the business metrics (CloudWatch
 * "Dashboard Body Structure and Syntax").
 */
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { runtimeMetricDimensions, RUNTIME_METRICS_NAMESPACE } from '../runtime-metrics';

export interface DashboardConsumer {
  name: string;
  functionName: string;
  queueNames: string[];
  businessNamespace?: string | undefined;
}

export interface PipelineDashboardProps {
  name: string;
  region: string;
  streamNames: string[];
  consumers: DashboardConsumer[];
  plainFunctionNames: string[];
  /** Queues beyond the consumers' (the plain functions' on-failure queues). */
  extraQueueNames?: string[];
}

type MetricRow = (string | Record<string, unknown>)[];

interface Widget {
  type: 'metric' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

export function dashboardUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${encodeURIComponent(name)}`;
}

export class PipelineDashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;
  readonly url: string;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { region } = props;
    const widgets: Widget[] = [];
    const place = (title: string, metrics: MetricRow[], extra: Record<string, unknown> = {}): void => {
      const index = widgets.length;
      widgets.push({
        type: 'metric',
        x: (index % 2) * 12,
        y: Math.floor(index / 2) * 6,
        width: 12,
        height: 6,
        properties: { title, region, view: 'timeSeries', stacked: false, period: 60, metrics, ...extra },
      });
    };
    const perStream = (metric: string, stat: string): MetricRow[] =>
      props.streamNames.map((s) => ['AWS/Kinesis', metric, 'StreamName', s, { stat, label: `${s} ${metric}` }]);
    const perFunction = (metric: string, stat: string, names = props.consumers.map((c) => c.functionName)): MetricRow[] =>
      names.map((f) => ['AWS/Lambda', metric, 'FunctionName', f, { stat, label: `${f} ${metric}` }]);
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
      [...props.consumers.flatMap((c) => c.queueNames), ...(props.extraQueueNames ?? [])].map((q) => [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        q,
        { stat: 'Maximum' },
      ]),
    );
    place(
      'Consumer runtime: records',
      props.consumers.flatMap((c) =>
        ['RecordsProcessed', 'RecordsQuarantined', 'RecordsRetried', 'DuplicatesSkipped'].map((metric) => [
          RUNTIME_METRICS_NAMESPACE,
          metric,
          ...Object.entries(runtimeMetricDimensions(c.name)).flat(),
          { stat: 'Sum', label: `${c.name} ${metric}` },
        ]),
      ),
    );
    const businessNamespaces = [...new Set(props.consumers.flatMap((c) => (c.businessNamespace ? [c.businessNamespace] : [])))];
    businessNamespaces.forEach((namespace, index) => {
      // SEARCH shows every metric the consumer publishes, whatever its dimensions (CloudWatch "Search expression syntax").
      place(`Business metrics: ${namespace}`, [[{ expression: `SEARCH('Namespace="${namespace}"', 'Sum', 300)`, id: `business${index}`, label: '' }]]);
    });

    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: props.name,
      dashboardBody: JSON.stringify({ widgets }),
    });
    this.url = dashboardUrl(region, props.name);
  }
}
