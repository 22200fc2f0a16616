/**
 * The local dashboard reads the stage's alarms and widgets from the cdktf stack itself: the alarms
 * are exactly the synthesized aws_cloudwatch_metric_alarm resources (so an alarm added in infra/ is
 * evaluated locally with no other change) and the widgets are exactly the deployed dashboard body's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudWatchDashboardBody } from '../../infra/dashboard-widgets';
import { alarmFromTerraform, loadDeployedDefinitions, StageNotFoundError, type DeployedDefinitions } from '../../local/dashboard/deployed-definitions';
import { definePipeline, pipeline, type PipelineDefinitionInput } from '../../pipeline';
import { resources, stageConfig, STAGES_DIR, synthStage, type Synthesized } from '../infra/synth-helpers';

let prod: DeployedDefinitions;
let synthesized: Synthesized;

beforeAll(async () => {
  prod = await loadDeployedDefinitions(pipeline, STAGES_DIR, 'prod');
  synthesized = synthStage(pipeline, stageConfig('prod'));
}, 60_000);

describe('the stage alarms the local dashboard evaluates', () => {
  it('are exactly the CloudWatch alarms the stage synthesizes, setting for setting', () => {
    const deployed = resources(synthesized, 'aws_cloudwatch_metric_alarm');
    expect(prod.alarms.map((a) => a.alarmName).sort()).toEqual(deployed.map((a) => a['alarm_name']).sort());
    for (const block of deployed) {
      const local = prod.alarms.find((a) => a.alarmName === block['alarm_name'])!;
      expect(local.threshold).toBe(block['threshold']);
      expect(local.evaluationPeriods).toBe(block['evaluation_periods']);
      expect(local.comparisonOperator).toBe(block['comparison_operator']);
      expect(local.treatMissingData).toBe(block['treat_missing_data']);
      if (block['metric_name'] !== undefined) {
        expect(local.metric).toEqual({
          namespace: block['namespace'],
          metricName: block['metric_name'],
          dimensions: block['dimensions'],
          stat: block['statistic'] ?? block['extended_statistic'],
        });
        expect(local.period).toBe(block['period']);
      } else {
        expect(local.metric).toBeUndefined();
        expect(local.expression).toMatch(/^IF\(/);
      }
    }
  });

  it('follow the pipeline definition: a new consumer brings its alarms, under the stage names', async () => {
    const input = structuredClone(pipeline) as unknown as PipelineDefinitionInput;
    input.consumers['order-audit'] = { ...structuredClone(input.consumers['order-review']!), entry: input.consumers['order-review']!.entry };
    const extended = await loadDeployedDefinitions(definePipeline(input), STAGES_DIR, 'dev');
    expect(extended.alarms.map((a) => a.alarmName)).toEqual(expect.arrayContaining(['orders-dev-order-audit-iterator-age', 'orders-dev-order-audit-records-quarantined']));
    expect(extended.names.functions['order-audit']).toBe('orders-dev-order-audit');
    expect(extended.names.consumerQueues['order-audit']).toEqual({ quarantine: 'orders-dev-order-audit-quarantine', onFailure: 'orders-dev-order-audit-on-failure' });
  }, 60_000);

  it('PutMetricAlarm defaults: DatapointsToAlarm omitted is EvaluationPeriods, TreatMissingData omitted is missing', () => {
    const alarm = alarmFromTerraform({
      alarm_name: 'a',
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: 'f' },
      statistic: 'Sum',
      period: 60,
      evaluation_periods: 4,
      threshold: 1,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.datapointsToAlarm).toBe(4);
    expect(alarm.treatMissingData).toBe('missing');
    expect(() => alarmFromTerraform({ alarm_name: 'b', comparison_operator: 'LessThanLowerOrGreaterThanUpperThreshold', evaluation_periods: 1 })).toThrow(/not a static threshold/);
  });

  it('a stage without a stage file is a clear error naming the stages there are', async () => {
    await expect(loadDeployedDefinitions(pipeline, STAGES_DIR, 'qa')).rejects.toThrow(StageNotFoundError);
    await expect(loadDeployedDefinitions(pipeline, STAGES_DIR, 'qa')).rejects.toThrow(/stages: .*dev.*prod/);
  });
});

describe('one dashboard definition, two renderers', () => {
  it('the widgets the local page draws render to exactly the deployed CloudWatch dashboard body', () => {
    const deployed = resources(synthesized, 'aws_cloudwatch_dashboard')[0]!;
    expect(cloudWatchDashboardBody(prod.widgets, prod.region)).toEqual(JSON.parse(deployed['dashboard_body'] as string));
    expect(prod.widgets.map((w) => w.title)).toContain('Iterator age (ms)');
    expect(prod.widgets.find((w) => w.title.startsWith('Business metrics'))?.search).toEqual({ namespace: 'Orders/Business', stat: 'Sum', period: 300 });
  });
});

