/**
 * The run's own metrics under the names the stage deploys, so the stage's alarms and widgets find
 * them: once per tick the collector reads
 *  - the functions' log files: the Embedded Metric Format documents they emit (as CloudWatch Logs
 *    extracts them: every metric of every dimension set of each `_aws.CloudWatchMetrics` directive)
 *    and Lambda's REPORT lines (AWS/Lambda Duration);
 *  - the business metrics order-metrics publishes (metrics/<namespace>.ndjson, PutMetricData data);
 *  - the quarantine and on-failure files (the local stand-ins of those SQS queues, one message a
 *    line): AWS/SQS ApproximateNumberOfMessagesVisible, what this run put in them;
 *  - the local Lambda service and event source mappings: AWS/Lambda Invocations, Errors, Throttles
 *    and IteratorAge, AWS/Kinesis IncomingRecords, GetRecords.Records and
 *    GetRecords.IteratorAgeMilliseconds.
 * Like AWS, Lambda metrics get a datapoint only when the function ran in the tick.
 */
import type { PipelineDefinition } from '../../pipeline/definition-schema';
import type { DataDir } from '../data-dir';
import type { RunnerSnapshot } from '../runner-types';
import type { DeployedNames } from './deployed-definitions';
import { LineTail } from '../line-tail';
import type { MetricSample } from './metric-store';

/** What the collector reads each tick from a running local pipeline. */
export interface CollectorInput {
  snapshot: RunnerSnapshot;
  /** Cumulative counters per local function name (LocalLambdaService.stats()). */
  functions: Record<string, { invocations: number; errors: number; throttles: number }>;
}

const REPORT_DURATION = /^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms/;

interface EmfDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

/** The metric values of one EMF document line (CloudWatch "Embedded metric format specification"). */
export function emfSamples(line: string, t: number): MetricSample[] {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const directives = (doc['_aws'] as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [];
  const out: MetricSample[] = [];
  for (const directive of directives as EmfDirective[]) {
    if (typeof directive.Namespace !== 'string' || !Array.isArray(directive.Metrics)) continue;
    const sets = Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? (directive.Dimensions as unknown[]) : [[]];
    for (const set of sets) {
      if (!Array.isArray(set)) continue;
      const dimensions: Record<string, string> = {};
      for (const name of set) if (typeof name === 'string' && typeof doc[name] === 'string') dimensions[name] = doc[name];
      for (const metric of directive.Metrics as { Name?: unknown }[]) {
        if (typeof metric.Name !== 'string') continue;
        const raw = doc[metric.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) out.push({ t, namespace: directive.Namespace, metricName: metric.Name, dimensions, v });
      }
    }
  }
  return out;
}

/** A PutMetricData datum (one line of metrics/<namespace>.ndjson) as samples. */
export function datumSamples(line: unknown, t: number): MetricSample[] {
  if (line === null || typeof line !== 'object') return [];
  const d = line as { Namespace?: unknown; MetricName?: unknown; Dimensions?: unknown; Value?: unknown; Values?: unknown; StatisticValues?: { Sum?: unknown } };
  if (typeof d.Namespace !== 'string' || typeof d.MetricName !== 'string') return [];
  const dimensions: Record<string, string> = {};
  if (Array.isArray(d.Dimensions)) {
    for (const dim of d.Dimensions as { Name?: unknown; Value?: unknown }[]) if (typeof dim.Name === 'string' && typeof dim.Value === 'string') dimensions[dim.Name] = dim.Value;
  }
  const values =
    typeof d.Value === 'number' ? [d.Value] : Array.isArray(d.Values) ? d.Values.filter((v): v is number => typeof v === 'number') : typeof d.StatisticValues?.Sum === 'number' ? [d.StatisticValues.Sum] : [];
  return values.map((v) => ({ t, namespace: d.Namespace as string, metricName: d.MetricName as string, dimensions, v }));
}

export class LocalMetricsCollector {
  private readonly logTails = new Map<string, LineTail>();
  private readonly businessTails: LineTail[] = [];
  /** Queue name -> the file standing in for it, and how many messages this run put there. */
  private readonly queues = new Map<string, { tail: LineTail; depth: number }>();
  private readonly previous = new Map<string, number>();

  constructor(
    definition: PipelineDefinition,
    private readonly names: DeployedNames,
    dataDir: DataDir,
  ) {
    for (const name of [...Object.keys(definition.consumers), ...Object.keys(definition.functions)]) this.logTails.set(name, new LineTail(dataDir.logFile(name)));
    const namespaces = new Set<string>();
    for (const consumer of Object.values(definition.consumers)) {
      const namespace = consumer.metricsNamespace ?? consumer.environment['BUSINESS_METRICS_NAMESPACE'];
      if (namespace !== undefined) namespaces.add(namespace);
    }
    for (const namespace of namespaces) this.businessTails.push(new LineTail(dataDir.metricsFile(namespace)));
    for (const [consumer, queues] of Object.entries(names.consumerQueues)) {
      this.queues.set(queues.quarantine, { tail: new LineTail(dataDir.quarantineFile(consumer)), depth: 0 });
      if (queues.onFailure !== undefined) this.queues.set(queues.onFailure, { tail: new LineTail(dataDir.onFailureFile(consumer)), depth: 0 });
    }
    for (const [fn, queue] of Object.entries(names.functionQueues)) this.queues.set(queue, { tail: new LineTail(dataDir.onFailureFile(fn)), depth: 0 });
  }

  /** Skip what the files hold from earlier runs: call before the pipeline starts. */
  async skipExisting(): Promise<void> {
    await Promise.all([...this.logTails.values(), ...this.businessTails, ...[...this.queues.values()].map((q) => q.tail)].map((tail) => tail.skipExisting()));
  }

  /** The increase of a cumulative counter since the last tick (its first reading counts from 0). */
  private delta(key: string, value: number): number {
    const before = this.previous.get(key) ?? 0;
    this.previous.set(key, value);
    return Math.max(0, value - before);
  }

  async collect(input: CollectorInput, t: number): Promise<MetricSample[]> {
    const out: MetricSample[] = [];
    const push = (namespace: string, metricName: string, dimensions: Record<string, string>, v: number) => out.push({ t, namespace, metricName, dimensions, v });
    const fnName = (local: string) => this.names.functions[local] ?? local;

    for (const [local, tail] of this.logTails) {
      for (const line of await tail.read()) {
        const report = REPORT_DURATION.exec(line);
        if (report) push('AWS/Lambda', 'Duration', { FunctionName: fnName(local) }, Number(report[1]));
        else out.push(...emfSamples(line, t));
      }
    }
    for (const tail of this.businessTails) {
      for (const line of await tail.read()) {
        try {
          out.push(...datumSamples(JSON.parse(line) as unknown, t));
        } catch {
          // A damaged line: not a datum.
        }
      }
    }

    const ran = new Set<string>();
    for (const [local, stats] of Object.entries(input.functions)) {
      const dims = { FunctionName: fnName(local) };
      const invocations = this.delta(`inv:${local}`, stats.invocations);
      const errors = this.delta(`err:${local}`, stats.errors);
      const throttles = this.delta(`thr:${local}`, stats.throttles);
      if (invocations > 0) {
        ran.add(local);
        push('AWS/Lambda', 'Invocations', dims, invocations);
        push('AWS/Lambda', 'Errors', dims, errors);
      }
      if (throttles > 0) push('AWS/Lambda', 'Throttles', dims, throttles);
    }

    const { snapshot } = input;
    for (const stream of snapshot.streams) {
      const dims = { StreamName: this.names.streams[stream.name] ?? stream.name };
      const incoming = this.delta(`put:${stream.name}`, stream.records);
      if (incoming > 0) push('AWS/Kinesis', 'IncomingRecords', dims, incoming);
      const readers = snapshot.consumers.filter((c) => c.stream === stream.name);
      const read = this.delta(
        `read:${stream.name}`,
        readers.reduce((sum, c) => sum + c.processed + c.filtered + c.quarantined + c.onFailure, 0),
      );
      if (readers.length > 0) {
        push('AWS/Kinesis', 'GetRecords.Records', dims, read);
        push('AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', dims, Math.max(...readers.map((c) => c.millisBehindLatest)));
      }
    }
    for (const c of snapshot.consumers) {
      // Lambda's IteratorAge: the age of the last record of the batch, published when the function is invoked.
      if (ran.has(c.name)) push('AWS/Lambda', 'IteratorAge', { FunctionName: fnName(c.name) }, c.iteratorAgeMs);
    }
    // SQS publishes queue metrics every period while the queue exists; nothing drains the local files.
    for (const [queue, entry] of this.queues) {
      entry.depth += (await entry.tail.read()).length;
      push('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: queue }, entry.depth);
    }
    return out;
  }
}
