/**
 * Policy tests: walk the synthesized JSON of every stage and hold it to the rules (no wildcard
 * actions, justified wildcard resources, encryption, safe mappings, alarms that notify, logs with
 * retention). Each check is also shown to catch a violation, so a green run means something.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pipeline, type PipelineDefinition } from '../../pipeline';
import {
  alarmActionViolations,
  allViolations,
  asyncInvokeViolations,
  encryptionViolations,
  functionViolations,
  mappingViolations,
  observabilityViolations,
  policyStatements,
  protectionViolations,
  safetyNetAlarmViolations,
  stateViolations,
  tableAccessViolations,
  wildcardActionViolations,
  wildcardResourceViolations,
} from '../../infra/policy-checks';
import { asArray, stageConfig, STAGE_NAMES, synthStage, type Synthesized } from './synth-helpers';
import { deployedBundles } from '../support/deployed-bundles';

const stages: Record<string, Synthesized> = {};
/** The stages of the reference definition with every table option on (see everyTable). */
const tableStages: Record<string, Synthesized> = {};

/**
 * The reference definition with every DynamoDB table a definition can declare (a consumer's publish
 * ledger and idempotency table, a plain function's idempotency table), whichever pipeline/pipeline.ts
 * declares today: the table checks see every kind of statement.
 */
function everyTable(): PipelineDefinition {
  const definition = structuredClone(pipeline);
  definition.consumers['order-metrics']!.publishLedger = true;
  definition.consumers['order-review']!.idempotencyTable = true;
  definition.functions['review-intake']!.idempotencyTable = true;
  return definition;
}

beforeAll(async () => {
  // The real bundles, built as `npm run build:lambdas` builds them (test/deployed runs them).
  const bundles = (await deployedBundles()).dir;
  for (const stage of STAGE_NAMES) stages[stage] = synthStage(pipeline, stageConfig(stage), bundles);
  for (const stage of STAGE_NAMES) tableStages[stage] = synthStage(everyTable(), stageConfig(stage), bundles);
});

describe.each(STAGE_NAMES)('stage %s', (stage) => {
  const tf = () => stages[stage]!.tf;

  it('has policies to check (the walk finds role, queue, topic and key policies)', () => {
    const types = new Set(policyStatements(tf()).map((s) => s.resourceType));
    expect([...types].sort()).toEqual(['aws_iam_role_policy', 'aws_kms_key', 'aws_sns_topic_policy', 'aws_sqs_queue_policy']);
  });
  it('grants no wildcard IAM action', () => expect(wildcardActionViolations(tf())).toEqual([]));
  it('uses Resource "*" only where the allow-list justifies it', () => expect(wildcardResourceViolations(tf())).toEqual([]));
  it('grants DynamoDB item access only on the tables of this stack (the publish ledger, the idempotency tables)', () => {
    const dynamo = policyStatements(tf()).filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.length).toBeGreaterThan(0);
    expect(tableAccessViolations(tf())).toEqual([]);
  });
  it('with every table option on (consumer ledger and idempotency table, function idempotency table): each statement passes every check', () => {
    const withTables = tableStages[stage]!.tf;
    const dynamo = policyStatements(withTables).filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.map(({ statement }) => statement.Sid).sort()).toEqual(['ClaimEventsInOwnIdempotencyTable', 'ClaimInOwnIdempotencyTable', 'ClaimInOwnPublishLedger']);
    expect(tableAccessViolations(withTables)).toEqual([]);
    expect(protectionViolations(withTables, stageConfig(stage).protectStatefulResources)).toEqual([]);
    expect(allViolations(withTables)).toEqual([]);
  });
  it('encrypts every stream, queue and topic with KMS (rotated keys)', () => expect(encryptionViolations(tf())).toEqual([]));
  it('gives every mapping an on-failure destination, bounded retries and record age, ReportBatchItemFailures', () => {
    expect(Object.keys(tf().resource['aws_lambda_event_source_mapping'] ?? {})).toHaveLength(2);
    expect(mappingViolations(tf())).toEqual([]);
  });
  it('gives every alarm alarm and OK actions', () => expect(alarmActionViolations(tf())).toEqual([]));
  it('gives every function its own role and a log group with retention', () => expect(functionViolations(tf())).toEqual([]));
  it('gives every asynchronously invoked function an on-failure destination', () => {
    expect(Object.keys(tf().resource['aws_lambda_function_event_invoke_config'] ?? {})).toHaveLength(1);
    expect(asyncInvokeViolations(tf())).toEqual([]);
  });
  it('keeps state in S3 with the native lock file and declares required_version', () => expect(stateViolations(tf())).toEqual([]));
  it('alarms on every safety net that can fail silently: DestinationDeliveryFailures, AsyncEventsDropped, queue message age', () =>
    expect(safetyNetAlarmViolations(tf())).toEqual([]));
  it('protects stateful resources where the stage says so (staging, prod), never deregisters stream consumers silently', () =>
    expect(protectionViolations(tf(), stageConfig(stage).protectStatefulResources)).toEqual([]));
  it('JSON logs with levels, encrypted log groups, the stage tracing mode, source maps only on request, confined key policy', () => {
    const config = stageConfig(stage);
    expect(observabilityViolations(tf(), { tracing: config.tracing, sourceMaps: config.sourceMaps })).toEqual([]);
  });
  it('passes every check at once', () => expect(allViolations(tf())).toEqual([]));
});

describe('the checks catch violations', () => {
  it('local state, the deprecated DynamoDB lock table, no lock file, no required_version', () => {
    const tf = structuredClone(stages['prod']!.tf);
    tf.terraform = { backend: { local: { path: 'x.tfstate' } } };
    expect(stateViolations(tf)).toEqual(['terraform.backend: local, not s3 (no locking, no sharing)', 'terraform: no required_version']);
    tf.terraform = { backend: { s3: { bucket: 'b', key: 'k', encrypt: true, dynamodb_table: 'locks' } }, required_version: '>= 1.10.0' };
    expect(stateViolations(tf)).toEqual([
      'terraform.backend.s3: use_lockfile is not true (no state locking)',
      'terraform.backend.s3: dynamodb_table is deprecated; lock with use_lockfile',
    ]);
  });

  it('missing DestinationDeliveryFailures, AsyncEventsDropped and queue age alarms', () => {
    const tf = structuredClone(stages['staging']!.tf);
    const alarms = tf.resource['aws_cloudwatch_metric_alarm']!;
    for (const [id, a] of Object.entries(alarms)) {
      if (['DestinationDeliveryFailures', 'AsyncEventsDropped', 'ApproximateAgeOfOldestMessage'].includes(String(a['metric_name']))) delete alarms[id];
    }
    const violations = safetyNetAlarmViolations(tf);
    expect(violations.filter((v) => v.includes('no DestinationDeliveryFailures alarm'))).toHaveLength(2);
    expect(violations.filter((v) => v.includes('invoked asynchronously without a AsyncEventsDropped alarm'))).toHaveLength(1);
    expect(violations.filter((v) => v.includes('invoked asynchronously without a DestinationDeliveryFailures alarm'))).toHaveLength(1);
    expect(violations.filter((v) => v.includes('no ApproximateAgeOfOldestMessage alarm'))).toHaveLength(5);
    expect(violations).toHaveLength(9);
  });

  it('unprotected stateful resources in a protected stage, a stream deregistering consumers', () => {
    const tf = structuredClone(tableStages['dev']!.tf);
    for (const s of Object.values(tf.resource['aws_kinesis_stream']!)) s['enforce_consumer_deletion'] = true;
    expect(protectionViolations(tf, false)).toEqual([expect.stringMatching(/^aws_kinesis_stream\..+: enforce_consumer_deletion deregisters consumers silently$/)]);
    // dev's resources are unprotected on purpose: held to the protected rules they fail on every stateful resource.
    const violations = protectionViolations(tf, true);
    const tables = Object.keys(tf.resource['aws_dynamodb_table']!).length;
    expect(violations.filter((v) => v.endsWith('no prevent_destroy'))).toHaveLength(1 + 1 + 5 + tables);
    expect(violations).toContainEqual(expect.stringMatching(/aws_dynamodb_table\..+: no deletion protection$/));
    expect(violations).toContainEqual(expect.stringMatching(/aws_dynamodb_table\..+: no point-in-time recovery$/));
  });

  it('text logs, unencrypted log groups, wrong tracing, forced source maps, unconfined service statements in the key policy', () => {
    const tf = structuredClone(stages['prod']!.tf);
    const [fnId, fn] = Object.entries(tf.resource['aws_lambda_function']!)[0]!;
    fn['logging_config'] = { log_format: 'Text', log_group: 'x' };
    fn['tracing_config'] = { mode: 'PassThrough' };
    (fn['environment'] as { variables: Record<string, string> }).variables['NODE_OPTIONS'] = '--enable-source-maps';
    const [groupId, group] = Object.entries(tf.resource['aws_cloudwatch_log_group']!)[0]!;
    delete group['kms_key_id'];
    const [keyId, key] = Object.entries(tf.resource['aws_kms_key']!)[0]!;
    const doc = JSON.parse(key['policy'] as string) as { Statement: { Sid: string; Condition?: object }[] };
    for (const st of doc.Statement) if (st.Sid !== 'AccountAdministersAndDelegatesToIam') delete st.Condition;
    key['policy'] = JSON.stringify(doc);
    expect(observabilityViolations(tf, { tracing: 'Active', sourceMaps: false })).toEqual([
      `aws_lambda_function.${fnId}: log_format Text, not JSON`,
      `aws_lambda_function.${fnId}: no application/system log level`,
      `aws_lambda_function.${fnId}: tracing PassThrough, expected Active`,
      `aws_lambda_function.${fnId}: NODE_OPTIONS "--enable-source-maps" does not match the stage's sourceMaps (false)`,
      `aws_cloudwatch_log_group.${groupId}: not encrypted with the stage key`,
      `aws_kms_key.${keyId} statement CloudWatchAlarmsPublishToEncryptedTopic: cloudwatch.amazonaws.com without aws:SourceAccount and aws:SourceArn (confused deputy)`,
      `aws_kms_key.${keyId} statement CloudWatchLogsEncryptStageLogGroups: logs.eu-west-1.amazonaws.com without the kms:EncryptionContext:aws:logs:arn condition`,
    ]);
  });

  it('an unbounded, destination-less mapping without partial batch responses', () => {
    const definition = structuredClone(pipeline);
    definition.consumers['order-review']!.mapping = {
      ...definition.consumers['order-review']!.mapping,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      onFailureDestination: 'none',
      reportBatchItemFailures: false,
    };
    const s = synthStage(definition, stageConfig('dev'));
    const violations = mappingViolations(s.tf);
    expect(violations).toHaveLength(4);
    expect(violations.join('\n')).toMatch(/no on-failure destination[\s\S]*unbounded retries \(-1\)[\s\S]*unbounded record age \(-1\)[\s\S]*ReportBatchItemFailures not enabled/);
    // The stack deploys it (AWS allows it) but warns at synth.
    const warnings = JSON.stringify(s.stack.node.metadata);
    expect(warnings).toContain('maximumRetryAttempts is -1');
  });

  it('wildcard actions and unjustified wildcard resources in any policy', () => {
    const tf = structuredClone(stages['dev']!.tf);
    const [id, policy] = Object.entries(tf.resource['aws_iam_role_policy']!)[0]!;
    const doc = JSON.parse(policy['policy'] as string) as { Statement: object[] };
    doc.Statement.push({ Sid: 'Bad', Effect: 'Allow', Action: ['s3:*'], Resource: '*' });
    doc.Statement.push({ Sid: 'AlsoBad', Effect: 'Deny', Principal: '*', Action: ['sqs:*'], Resource: 'arn:aws:sqs:eu-west-1:111111111111:x' });
    tf.resource['aws_iam_role_policy']![id] = { ...policy, policy: JSON.stringify(doc) };
    expect(wildcardActionViolations(tf)).toEqual([
      `aws_iam_role_policy.${id} statement Bad: wildcard action "s3:*"`,
      `aws_iam_role_policy.${id} statement AlsoBad: wildcard action "sqs:*"`,
    ]);
    expect(wildcardResourceViolations(tf)).toEqual([`aws_iam_role_policy.${id} statement Bad: Resource "*" for s3:* is not on the allow-list`]);
  });

  it('DynamoDB access beyond the stack\'s own tables (another table, "*") and a DynamoDB wildcard action', () => {
    const tf = structuredClone(tableStages['dev']!.tf);
    const [id, policy] = Object.entries(tf.resource['aws_iam_role_policy']!).find(([, p]) => String(p['policy']).includes('ClaimInOwnPublishLedger'))!;
    const doc = JSON.parse(policy['policy'] as string) as { Statement: object[] };
    doc.Statement.push({ Sid: 'OtherTable', Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: 'arn:aws:dynamodb:eu-west-1:111111111111:table/other' });
    doc.Statement.push({ Sid: 'AnyTable', Effect: 'Allow', Action: ['dynamodb:*'], Resource: '*' });
    tf.resource['aws_iam_role_policy']![id] = { ...policy, policy: JSON.stringify(doc) };
    expect(tableAccessViolations(tf)).toEqual([
      `aws_iam_role_policy.${id} statement OtherTable: DynamoDB access to "arn:aws:dynamodb:eu-west-1:111111111111:table/other", not a table of this stack`,
      `aws_iam_role_policy.${id} statement AnyTable: DynamoDB access to "*", not a table of this stack`,
    ]);
    expect(wildcardActionViolations(tf)).toEqual([`aws_iam_role_policy.${id} statement AnyTable: wildcard action "dynamodb:*"`]);
    expect(wildcardResourceViolations(tf)).toEqual([`aws_iam_role_policy.${id} statement AnyTable: Resource "*" for dynamodb:* is not on the allow-list`]);
  });

  it.each(['ClaimInOwnIdempotencyTable', 'ClaimEventsInOwnIdempotencyTable'])('a Scan or BatchWriteItem on an own table (more than the single-item actions): %s', (sid) => {
    const tf = structuredClone(tableStages['dev']!.tf);
    const [id, policy] = Object.entries(tf.resource['aws_iam_role_policy']!).find(([, p]) => String(p['policy']).includes(`"${sid}"`))!;
    const doc = JSON.parse(policy['policy'] as string) as { Statement: { Sid?: string; Action: string[] }[] };
    doc.Statement.find((st) => st.Sid === sid)!.Action.push('dynamodb:Scan', 'dynamodb:BatchWriteItem');
    tf.resource['aws_iam_role_policy']![id] = { ...policy, policy: JSON.stringify(doc) };
    expect(tableAccessViolations(tf)).toEqual([
      `aws_iam_role_policy.${id} statement ${sid}: DynamoDB action dynamodb:Scan is not a single-item action`,
      `aws_iam_role_policy.${id} statement ${sid}: DynamoDB action dynamodb:BatchWriteItem is not a single-item action`,
    ]);
  });

  it('a function\'s idempotency statement pointed at another stack\'s table', () => {
    const tf = structuredClone(tableStages['dev']!.tf);
    const [id, policy] = Object.entries(tf.resource['aws_iam_role_policy']!).find(([, p]) => String(p['policy']).includes('"ClaimEventsInOwnIdempotencyTable"'))!;
    const doc = JSON.parse(policy['policy'] as string) as { Statement: { Sid?: string; Resource: string }[] };
    const other = 'arn:aws:dynamodb:eu-west-1:111111111111:table/orders-prod-review-intake-idempotency';
    doc.Statement.find((st) => st.Sid === 'ClaimEventsInOwnIdempotencyTable')!.Resource = other;
    tf.resource['aws_iam_role_policy']![id] = { ...policy, policy: JSON.stringify(doc) };
    expect(tableAccessViolations(tf)).toEqual([`aws_iam_role_policy.${id} statement ClaimEventsInOwnIdempotencyTable: DynamoDB access to "${other}", not a table of this stack`]);
  });

  it('PutMetricData on "*" without the namespace condition is not justified', () => {
    const tf = structuredClone(stages['dev']!.tf);
    const [id, policy] = Object.entries(tf.resource['aws_iam_role_policy']!).find(([, p]) => String(p['policy']).includes('PutMetricData'))!;
    const doc = JSON.parse(policy['policy'] as string) as { Statement: { Action: string[]; Condition?: object }[] };
    for (const st of doc.Statement) if (st.Action.includes('cloudwatch:PutMetricData')) delete st.Condition;
    tf.resource['aws_iam_role_policy']![id] = { ...policy, policy: JSON.stringify(doc) };
    expect(wildcardResourceViolations(tf)).toHaveLength(1);
  });

  it('unencrypted resources, silent alarms, functions without log groups or sharing a role', () => {
    const tf = structuredClone(stages['staging']!.tf);
    const r = tf.resource;
    for (const q of Object.values(r['aws_sqs_queue']!)) delete q['kms_master_key_id'];
    for (const t of Object.values(r['aws_sns_topic']!)) delete t['kms_master_key_id'];
    for (const s of Object.values(r['aws_kinesis_stream']!)) s['encryption_type'] = 'NONE';
    expect(encryptionViolations(tf)).toHaveLength(5 + 1 + 1);
    const [alarmId, alarm] = Object.entries(r['aws_cloudwatch_metric_alarm']!)[0]!;
    alarm['ok_actions'] = [];
    expect(alarmActionViolations(tf)).toEqual([`aws_cloudwatch_metric_alarm.${alarmId}: no OK action`]);
    const functions = Object.values(r['aws_lambda_function']!);
    functions[1]!['role'] = functions[0]!['role'];
    delete r['aws_cloudwatch_log_group'];
    expect(functionViolations(tf)).toHaveLength(functions.length + 1);
    delete r['aws_lambda_function_event_invoke_config'];
    expect(asyncInvokeViolations(tf)).toEqual([expect.stringMatching(/^aws_lambda_function\.function-review-intake_.+: invoked asynchronously without an on-failure destination$/)]);
    expect(allViolations(tf).length).toBeGreaterThan(10);
  });
});
