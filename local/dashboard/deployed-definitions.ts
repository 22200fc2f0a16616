/**
 * What a stage deploys for watching the pipeline: its CloudWatch alarms and its dashboard widgets,
 * taken from the cdktf stack itself (built in memory, never deployed) so the local dashboard
 * evaluates exactly the alarms `cdktf deploy` would create, including any alarm added to infra/
 * later, with no second list to keep in step.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { PipelineDefinition } from '../../pipeline/definition-schema';
import { deployedName } from '../../pipeline/function-environment';
import type { DashboardWidget } from '../../infra/dashboard-widgets';
import { COMPARISON_OPERATORS, type ComparisonOperator, type TreatMissingData } from './alarm-evaluator';

/** The metric one alarm watches (CloudWatch identifies it by namespace, name and exact dimensions). */
export interface AlarmMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** `statistic` (Sum, Maximum, ...) or `extended_statistic` (p99) of the alarm. */
  stat: string;
}

export interface AlarmDefinition {
  alarmName: string;
  description: string;
  /** Undefined for alarms on metric math (`metric_query`), which are not evaluated locally. */
  metric: AlarmMetric | undefined;
  /** The metric math expression, when the alarm has one. */
  expression?: string;
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
}

/** How the local run's names map to the stage's deployed names. */
export interface DeployedNames {
  stage: string;
  /** Local stream name (the definition key) -> deployed stream name. */
  streams: Record<string, string>;
  /** Local function name (the definition key) -> deployed function name. */
  functions: Record<string, string>;
  /** Local consumer name -> its quarantine and on-failure queue names (when it has one). */
  consumerQueues: Record<string, { quarantine: string; onFailure?: string }>;
  /** Local plain function name -> its asynchronous on-failure queue name. */
  functionQueues: Record<string, string>;
}

export interface DeployedDefinitions {
  stage: string;
  region: string;
  alarms: AlarmDefinition[];
  widgets: DashboardWidget[];
  names: DeployedNames;
}

export class StageNotFoundError extends Error {
  override readonly name = 'StageNotFoundError';
}

type TfBlock = Record<string, unknown>;

function str(block: TfBlock, key: string): string | undefined {
  const value = block[key];
  return typeof value === 'string' ? value : undefined;
}

/** One `aws_cloudwatch_metric_alarm` of the synthesized Terraform JSON as an AlarmDefinition. */
export function alarmFromTerraform(block: TfBlock): AlarmDefinition {
  const name = str(block, 'alarm_name') ?? '(unnamed alarm)';
  const operator = str(block, 'comparison_operator');
  if (!COMPARISON_OPERATORS.includes(operator as ComparisonOperator)) {
    throw new Error(`alarm ${name}: comparison operator ${operator ?? '(none)'} is not a static threshold comparison`);
  }
  const evaluationPeriods = Number(block['evaluation_periods']);
  const queries = Array.isArray(block['metric_query']) ? (block['metric_query'] as TfBlock[]) : [];
  const metricQueryPeriods = queries.map((q) => Number((q['metric'] as TfBlock | undefined)?.['period'])).filter((p) => Number.isFinite(p));
  const namespace = str(block, 'namespace');
  const metricName = str(block, 'metric_name');
  const stat = str(block, 'statistic') ?? str(block, 'extended_statistic');
  return {
    alarmName: name,
    description: str(block, 'alarm_description') ?? '',
    metric:
      namespace !== undefined && metricName !== undefined && stat !== undefined
        ? { namespace, metricName, dimensions: (block['dimensions'] as Record<string, string> | undefined) ?? {}, stat }
        : undefined,
    ...(queries.length > 0 ? { expression: queries.map((q) => str(q, 'expression')).find((e) => e !== undefined) ?? '(metric math)' } : {}),
    period: Number(block['period'] ?? metricQueryPeriods[0] ?? 60),
    evaluationPeriods,
    // PutMetricAlarm, DatapointsToAlarm: omitted means the same as EvaluationPeriods.
    datapointsToAlarm: Number(block['datapoints_to_alarm'] ?? evaluationPeriods),
    threshold: Number(block['threshold']),
    comparisonOperator: operator as ComparisonOperator,
    // PutMetricAlarm, TreatMissingData: "If this parameter is omitted, the default behavior of missing is used."
    treatMissingData: (str(block, 'treat_missing_data') as TreatMissingData | undefined) ?? 'missing',
  };
}

/** `stages/*.json` names, for error messages. */
export function availableStages(stagesDir: string): string[] {
  return existsSync(stagesDir) ? readdirSync(stagesDir).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')) : [];
}

/**
 * Builds the stage's stack in memory (with stand-in bundles: the function code does not change an
 * alarm or a widget) and reads its alarms and dashboard widgets. Loads cdktf on demand (about a second).
 */
export async function loadDeployedDefinitions(definition: PipelineDefinition, stagesDir: string, stage: string): Promise<DeployedDefinitions> {
  const file = join(stagesDir, `${stage}.json`);
  if (!existsSync(file)) {
    throw new StageNotFoundError(`no stage "${stage}": ${file} does not exist (stages: ${availableStages(stagesDir).join(', ') || 'none'})`);
  }
  const [{ App }, { PipelineStack, stackName }, { loadStageConfig }, { deployedFunctions }, { PipelineDashboard }] = await Promise.all([
    import('cdktf'),
    import('../../infra/pipeline-stack'),
    import('../../infra/stage-config'),
    import('../../infra/bundle'),
    import('../../infra/constructs/pipeline-dashboard'),
  ]);
  const stageConfig = loadStageConfig(file);
  const scratch = mkdtempSync(join(tmpdir(), 'deployed-definitions-'));
  try {
    const bundleDir = join(scratch, 'bundles');
    for (const { name } of deployedFunctions(definition)) {
      mkdirSync(join(bundleDir, name), { recursive: true });
      writeFileSync(join(bundleDir, name, 'index.mjs'), '// stand-in: alarms and widgets do not depend on the code\n');
    }
    const app = new App({ outdir: join(scratch, 'out') });
    const stack = new PipelineStack(app, stackName(definition, stage), { definition, stage: stageConfig, bundleDir });
    const tf = stack.toTerraform() as { resource?: Record<string, Record<string, TfBlock>> };
    const alarms = Object.values(tf.resource?.['aws_cloudwatch_metric_alarm'] ?? {}).map(alarmFromTerraform);
    const dashboard = stack.node.findAll().find((c): c is InstanceType<typeof PipelineDashboard> => c instanceof PipelineDashboard);
    const name = (key: string) => deployedName(stack.definition, stage, key);
    const names: DeployedNames = {
      stage,
      streams: Object.fromEntries(Object.keys(stack.definition.streams).map((k) => [k, name(k)])),
      functions: Object.fromEntries([...Object.keys(stack.definition.consumers), ...Object.keys(stack.definition.functions)].map((k) => [k, name(k)])),
      consumerQueues: Object.fromEntries(
        Object.entries(stack.consumers).map(([k, c]) => [
          k,
          { quarantine: c.quarantineQueue.queueName, ...(c.onFailureQueue ? { onFailure: c.onFailureQueue.queueName } : {}) },
        ]),
      ),
      functionQueues: Object.fromEntries(Object.entries(stack.functions).map(([k, f]) => [k, f.onFailureQueue.queueName])),
    };
    return { stage, region: stageConfig.region, alarms, widgets: [...(dashboard?.widgets ?? [])], names };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
