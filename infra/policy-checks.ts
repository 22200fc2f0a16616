/**
 * Guard rails over a synthesized stack (the Terraform JSON): least privilege, encryption, safe
 * mappings, alarms that notify, logs that expire. Each check returns readable violations, empty
 * when the stack complies. The infra tests run them on every stage.
 */

type Block = Record<string, unknown>;
export interface SynthesizedStack {
  resource?: Record<string, Record<string, Block>>;
  terraform?: Block;
}

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Where policy documents live in the synthesized JSON. */
const POLICY_ATTRIBUTES: Record<string, string> = {
  aws_iam_role_policy: 'policy',
  aws_sqs_queue_policy: 'policy',
  aws_sns_topic_policy: 'policy',
  aws_kms_key: 'policy',
};

export interface LocatedStatement {
  where: string;
  resourceType: string;
  statement: Statement;
}

export function policyStatements(stack: SynthesizedStack): LocatedStatement[] {
  const out: LocatedStatement[] = [];
  for (const [type, attribute] of Object.entries(POLICY_ATTRIBUTES)) {
    for (const [id, block] of Object.entries(stack.resource?.[type] ?? {})) {
      const raw = block[attribute];
      if (typeof raw !== 'string') continue;
      const doc = JSON.parse(raw) as { Statement: Statement[] };
      doc.Statement.forEach((statement, i) => out.push({ where: `${type}.${id} statement ${statement.Sid ?? i}`, resourceType: type, statement }));
    }
  }
  return out;
}

/**
 * Deny statements may name a whole service (`sqs:*`): a deny must cover every present and future
 * action of the service (e.g. "deny non-TLS access"). Only these deny statements are allowed to.
 */
export const SERVICE_WIDE_DENIES = new Set(['DenyInsecureTransport', 'DenyOtherAccounts']);

/** No Allow grants a wildcard action; a Deny uses at most a whole-service wildcard, only in the listed statements. */
export function wildcardActionViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  for (const { where, statement } of policyStatements(stack)) {
    for (const action of asArray(statement.Action)) {
      if (!action.includes('*')) continue;
      const serviceWideDeny = statement.Effect === 'Deny' && /^[a-z0-9-]+:\*$/.test(action) && SERVICE_WIDE_DENIES.has(statement.Sid ?? '');
      if (!serviceWideDeny) violations.push(`${where}: wildcard action "${action}"`);
    }
  }
  return violations;
}

/**
 * Every `Resource: "*"` and every wildcard inside a resource ARN, with the reason AWS requires it.
 * A statement matches an entry when its resource type and actions are exactly listed.
 */
export const WILDCARD_RESOURCE_ALLOW_LIST: readonly { resourceType: string; actions: readonly string[] | 'any'; condition?: string; why: string }[] = [
  {
    resourceType: 'aws_iam_role_policy',
    actions: ['cloudwatch:PutMetricData'],
    condition: 'cloudwatch:namespace',
    why: 'PutMetricData has no resource-level permissions; confined by the cloudwatch:namespace condition',
  },
  { resourceType: 'aws_iam_role_policy', actions: ['kinesis:ListStreams'], why: 'ListStreams has no resource type in the Service Authorization Reference' },
  {
    resourceType: 'aws_iam_role_policy',
    actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    why: 'X-Ray trace writes have no resource-level permissions (active tracing)',
  },
  { resourceType: 'aws_kms_key', actions: 'any', why: 'in a key policy, Resource "*" means the key itself' },
];

export function wildcardResourceViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  for (const { where, resourceType, statement } of policyStatements(stack)) {
    if (statement.Effect !== 'Allow') continue;
    for (const resource of asArray(statement.Resource)) {
      if (resource === '*') {
        const actions = asArray(statement.Action).slice().sort();
        const justified = WILDCARD_RESOURCE_ALLOW_LIST.some(
          (entry) =>
            entry.resourceType === resourceType &&
            (entry.actions === 'any' || JSON.stringify([...entry.actions].sort()) === JSON.stringify(actions)) &&
            (entry.condition === undefined || Object.values(statement.Condition ?? {}).some((c) => entry.condition! in c)),
        );
        if (!justified) violations.push(`${where}: Resource "*" for ${actions.join(', ')} is not on the allow-list`);
      } else if (resource.includes('*')) {
        // The only scoped wildcard: log streams inside the function's own log group.
        const logStreams = /^\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}:\*$/.test(resource);
        if (!logStreams) violations.push(`${where}: wildcard in resource "${resource}"`);
      }
    }
  }
  return violations;
}

/** The single-item actions a ledger or idempotency table needs: no Scan, Query, batch or table-level action. */
export const TABLE_ITEM_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * DynamoDB item access only on tables this stack declares (a consumer's publish ledger, a consumer's
 * or plain function's idempotency table), by the table's own ARN: never another stack's table, an
 * index, a stream, or a pattern; and only single-item actions (TABLE_ITEM_ACTIONS).
 */
export function tableAccessViolations(stack: SynthesizedStack): string[] {
  const tables = new Set(Object.keys(stack.resource?.['aws_dynamodb_table'] ?? {}).map((id) => `\${aws_dynamodb_table.${id}.arn}`));
  const violations: string[] = [];
  for (const { where, statement } of policyStatements(stack)) {
    if (statement.Effect !== 'Allow' || !asArray(statement.Action).some((a) => a.startsWith('dynamodb:'))) continue;
    for (const action of asArray(statement.Action)) {
      if (action.startsWith('dynamodb:') && !action.includes('*') && !TABLE_ITEM_ACTIONS.includes(action)) {
        violations.push(`${where}: DynamoDB action ${action} is not a single-item action`);
      }
    }
    for (const resource of asArray(statement.Resource)) {
      if (!tables.has(resource)) violations.push(`${where}: DynamoDB access to "${resource}", not a table of this stack`);
    }
  }
  return violations;
}

export function encryptionViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  for (const [id, s] of Object.entries(stack.resource?.['aws_kinesis_stream'] ?? {})) {
    if (s['encryption_type'] !== 'KMS' || !s['kms_key_id']) violations.push(`aws_kinesis_stream.${id}: not KMS-encrypted`);
  }
  for (const [id, q] of Object.entries(stack.resource?.['aws_sqs_queue'] ?? {})) {
    if (!q['kms_master_key_id']) violations.push(`aws_sqs_queue.${id}: not KMS-encrypted`);
  }
  for (const [id, t] of Object.entries(stack.resource?.['aws_sns_topic'] ?? {})) {
    if (!t['kms_master_key_id']) violations.push(`aws_sns_topic.${id}: not KMS-encrypted`);
  }
  for (const [id, k] of Object.entries(stack.resource?.['aws_kms_key'] ?? {})) {
    if (k['enable_key_rotation'] !== true) violations.push(`aws_kms_key.${id}: rotation off`);
  }
  return violations;
}

/** On-failure destination, bounded retries, bounded record age, ReportBatchItemFailures. */
export function mappingViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  for (const [id, m] of Object.entries(stack.resource?.['aws_lambda_event_source_mapping'] ?? {})) {
    const where = `aws_lambda_event_source_mapping.${id}`;
    const onFailure = ((m['destination_config'] as Block | undefined)?.['on_failure'] as Block | undefined)?.['destination_arn'];
    if (typeof onFailure !== 'string' || onFailure === '') violations.push(`${where}: no on-failure destination`);
    const retries = m['maximum_retry_attempts'];
    if (typeof retries !== 'number' || retries < 0) violations.push(`${where}: unbounded retries (${String(retries)})`);
    const age = m['maximum_record_age_in_seconds'];
    if (typeof age !== 'number' || age < 0) violations.push(`${where}: unbounded record age (${String(age)})`);
    if (!asArray(m['function_response_types'] as string[] | undefined).includes('ReportBatchItemFailures')) {
      violations.push(`${where}: ReportBatchItemFailures not enabled`);
    }
  }
  return violations;
}

export function alarmActionViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  for (const [id, a] of Object.entries(stack.resource?.['aws_cloudwatch_metric_alarm'] ?? {})) {
    if (asArray(a['alarm_actions'] as string[] | undefined).length === 0) violations.push(`aws_cloudwatch_metric_alarm.${id}: no alarm action`);
    if (asArray(a['ok_actions'] as string[] | undefined).length === 0) violations.push(`aws_cloudwatch_metric_alarm.${id}: no OK action`);
    if (a['actions_enabled'] === false) violations.push(`aws_cloudwatch_metric_alarm.${id}: actions disabled`);
  }
  return violations;
}

/** Every function logs to its own log group, which has a retention; one role per function. */
export function functionViolations(stack: SynthesizedStack): string[] {
  const violations: string[] = [];
  const groups = Object.entries(stack.resource?.['aws_cloudwatch_log_group'] ?? {});
  const roleUse = new Map<string, string[]>();
  for (const [id, f] of Object.entries(stack.resource?.['aws_lambda_function'] ?? {})) {
    const where = `aws_lambda_function.${id}`;
    const group = groups.find(([, g]) => g['name'] === `/aws/lambda/${String(f['function_name'])}`);
    if (!group) {
      violations.push(`${where}: no log group /aws/lambda/${String(f['function_name'])}`);
    } else {
      const [groupId, g] = group;
      if (typeof g['retention_in_days'] !== 'number' || g['retention_in_days'] <= 0) violations.push(`aws_cloudwatch_log_group.${groupId}: no retention`);
      const logGroup = (f['logging_config'] as Block | undefined)?.['log_group'];
      if (logGroup !== `\${aws_cloudwatch_log_group.${groupId}.name}`) violations.push(`${where}: does not log to its log group`);
    }
    const role = String(f['role']);
    roleUse.set(role, [...(roleUse.get(role) ?? []), id]);
  }
  for (const [role, users] of roleUse) if (users.length > 1) violations.push(`${role}: shared by ${users.join(', ')}`);
  return violations;
}

/**
 * A function no mapping feeds is invoked asynchronously: without an on-failure destination Lambda
 * drops an event after its retries ("Lambda asynchronous invocation").
 */
export function asyncInvokeViolations(stack: SynthesizedStack): string[] {
  const r = stack.resource ?? {};
  const mapped = new Set(Object.values(r['aws_lambda_event_source_mapping'] ?? {}).map((m) => String(m['function_name'])));
  const configs = Object.values(r['aws_lambda_function_event_invoke_config'] ?? {});
  const violations: string[] = [];
  for (const id of Object.keys(r['aws_lambda_function'] ?? {})) {
    if (mapped.has(`\${aws_lambda_function.${id}.arn}`)) continue;
    const config = configs.find((c) => c['function_name'] === `\${aws_lambda_function.${id}.function_name}`);
    const destination = ((config?.['destination_config'] as Block | undefined)?.['on_failure'] as Block | undefined)?.['destination'];
    if (typeof destination !== 'string' || destination === '') violations.push(`aws_lambda_function.${id}: invoked asynchronously without an on-failure destination`);
  }
  return violations;
}

/**
 * State in S3 with Terraform's native lock file (`use_lockfile`), never a local file or the deprecated
 * DynamoDB lock table, and a declared `required_version` (the lock file needs Terraform >= 1.10).
 */
export function stateViolations(stack: SynthesizedStack): string[] {
  const terraform = stack.terraform ?? {};
  const backend = (terraform['backend'] ?? {}) as Record<string, Block>;
  const violations: string[] = [];
  const types = Object.keys(backend);
  if (types.length !== 1 || types[0] !== 's3') violations.push(`terraform.backend: ${types.join(', ') || 'none'}, not s3 (no locking, no sharing)`);
  const s3 = backend['s3'];
  if (s3) {
    if (s3['use_lockfile'] !== true) violations.push('terraform.backend.s3: use_lockfile is not true (no state locking)');
    if ('dynamodb_table' in s3) violations.push('terraform.backend.s3: dynamodb_table is deprecated; lock with use_lockfile');
    if (s3['encrypt'] !== true) violations.push('terraform.backend.s3: encrypt is not true');
  }
  if (typeof terraform['required_version'] !== 'string') violations.push('terraform: no required_version');
  return violations;
}

/**
 * Safety nets that must not fail silently: every mapping with an on-failure destination and every
 * asynchronously invoked function has a DestinationDeliveryFailures alarm; every asynchronously
 * invoked function an AsyncEventsDropped alarm; every queue an ApproximateAgeOfOldestMessage alarm.
 */
export function safetyNetAlarmViolations(stack: SynthesizedStack): string[] {
  const r = stack.resource ?? {};
  const alarms = Object.values(r['aws_cloudwatch_metric_alarm'] ?? {});
  const has = (metric: string, dimension: string, value: string): boolean =>
    alarms.some((a) => a['metric_name'] === metric && (a['dimensions'] as Record<string, string> | undefined)?.[dimension] === value);
  const functionNames = new Map(Object.entries(r['aws_lambda_function'] ?? {}).map(([id, f]) => [id, String(f['function_name'])]));
  const violations: string[] = [];
  for (const [id, m] of Object.entries(r['aws_lambda_event_source_mapping'] ?? {})) {
    const fnId = /^\$\{aws_lambda_function\.([^.]+)\.arn\}$/.exec(String(m['function_name']))?.[1];
    const name = fnId !== undefined ? functionNames.get(fnId) : undefined;
    const destination = ((m['destination_config'] as Block | undefined)?.['on_failure'] as Block | undefined)?.['destination_arn'];
    if (name !== undefined && destination !== undefined && !has('DestinationDeliveryFailures', 'FunctionName', name)) {
      violations.push(`aws_lambda_event_source_mapping.${id}: no DestinationDeliveryFailures alarm for ${name}`);
    }
  }
  for (const c of Object.values(r['aws_lambda_function_event_invoke_config'] ?? {})) {
    const fnId = /^\$\{aws_lambda_function\.([^.]+)\.function_name\}$/.exec(String(c['function_name']))?.[1];
    const name = fnId !== undefined ? functionNames.get(fnId) : undefined;
    if (name === undefined) continue;
    for (const metric of ['AsyncEventsDropped', 'DestinationDeliveryFailures']) {
      if (!has(metric, 'FunctionName', name)) violations.push(`aws_lambda_function.${fnId}: invoked asynchronously without a ${metric} alarm`);
    }
  }
  for (const [id, q] of Object.entries(r['aws_sqs_queue'] ?? {})) {
    if (!has('ApproximateAgeOfOldestMessage', 'QueueName', String(q['name']))) violations.push(`aws_sqs_queue.${id}: no ApproximateAgeOfOldestMessage alarm`);
  }
  return violations;
}

/** The stateful resources `protectStatefulResources` guards (their data or keys cannot be recreated). */
export const STATEFUL_RESOURCE_TYPES = ['aws_kinesis_stream', 'aws_kms_key', 'aws_sqs_queue', 'aws_dynamodb_table'] as const;

/**
 * In a protected stage: prevent_destroy on every stateful resource, DynamoDB deletion protection and
 * point-in-time recovery. In every stage: a stream never silently deregisters its consumers on delete.
 */
export function protectionViolations(stack: SynthesizedStack, protectedStage: boolean): string[] {
  const r = stack.resource ?? {};
  const violations: string[] = [];
  for (const [id, s] of Object.entries(r['aws_kinesis_stream'] ?? {})) {
    if (s['enforce_consumer_deletion'] === true) violations.push(`aws_kinesis_stream.${id}: enforce_consumer_deletion deregisters consumers silently`);
  }
  if (!protectedStage) return violations;
  for (const type of STATEFUL_RESOURCE_TYPES) {
    for (const [id, block] of Object.entries(r[type] ?? {})) {
      if ((block['lifecycle'] as Block | undefined)?.['prevent_destroy'] !== true) violations.push(`${type}.${id}: no prevent_destroy`);
    }
  }
  for (const [id, t] of Object.entries(r['aws_dynamodb_table'] ?? {})) {
    if (t['deletion_protection_enabled'] !== true) violations.push(`aws_dynamodb_table.${id}: no deletion protection`);
    if ((t['point_in_time_recovery'] as Block | undefined)?.['enabled'] !== true) violations.push(`aws_dynamodb_table.${id}: no point-in-time recovery`);
  }
  return violations;
}

/**
 * Logs and traces: JSON log format with application and system levels, log groups encrypted with a
 * customer-managed key, tracing configured, source maps only as a debug choice (`sourceMaps`), and a
 * key policy whose service statements are confined (SourceAccount/SourceArn for CloudWatch, the
 * encryption context for CloudWatch Logs).
 */
export function observabilityViolations(stack: SynthesizedStack, options: { tracing?: 'Active' | 'PassThrough'; sourceMaps?: boolean } = {}): string[] {
  const r = stack.resource ?? {};
  const violations: string[] = [];
  for (const [id, f] of Object.entries(r['aws_lambda_function'] ?? {})) {
    const where = `aws_lambda_function.${id}`;
    const logging = (f['logging_config'] ?? {}) as Block;
    if (logging['log_format'] !== 'JSON') violations.push(`${where}: log_format ${String(logging['log_format'])}, not JSON`);
    if (typeof logging['application_log_level'] !== 'string' || typeof logging['system_log_level'] !== 'string') violations.push(`${where}: no application/system log level`);
    const mode = (f['tracing_config'] as Block | undefined)?.['mode'];
    if (mode === undefined || (options.tracing !== undefined && mode !== options.tracing)) violations.push(`${where}: tracing ${String(mode)}, expected ${options.tracing ?? 'a mode'}`);
    const nodeOptions = String(((f['environment'] as Block | undefined)?.['variables'] as Block | undefined)?.['NODE_OPTIONS'] ?? '');
    if (nodeOptions.includes('--enable-source-maps') !== (options.sourceMaps === true)) {
      violations.push(`${where}: NODE_OPTIONS "${nodeOptions}" does not match the stage's sourceMaps (${options.sourceMaps === true})`);
    }
  }
  for (const [id, g] of Object.entries(r['aws_cloudwatch_log_group'] ?? {})) {
    if (!/^\$\{aws_kms_key\.[^}]+\.arn\}$/.test(String(g['kms_key_id'] ?? ''))) violations.push(`aws_cloudwatch_log_group.${id}: not encrypted with the stage key`);
  }
  for (const { where, resourceType, statement } of policyStatements(stack)) {
    if (resourceType !== 'aws_kms_key' || statement.Effect !== 'Allow') continue;
    const service = (statement.Principal as { Service?: string } | undefined)?.Service;
    if (service === undefined) continue;
    const conditionKeys = Object.values(statement.Condition ?? {}).flatMap((c) => Object.keys(c));
    if (service === 'cloudwatch.amazonaws.com' && !(conditionKeys.includes('aws:SourceAccount') && conditionKeys.includes('aws:SourceArn'))) {
      violations.push(`${where}: ${service} without aws:SourceAccount and aws:SourceArn (confused deputy)`);
    }
    if (/^logs\.[a-z0-9-]+\.amazonaws\.com$/.test(service) && !conditionKeys.includes('kms:EncryptionContext:aws:logs:arn')) {
      violations.push(`${where}: ${service} without the kms:EncryptionContext:aws:logs:arn condition`);
    }
  }
  return violations;
}

/** Every check that holds in every stage (stage-dependent ones: protectionViolations, observabilityViolations options). */
export function allViolations(stack: SynthesizedStack): string[] {
  return [
    ...stateViolations(stack),
    ...safetyNetAlarmViolations(stack),
    ...protectionViolations(stack, false),
    ...observabilityViolations(stack, {}).filter((v) => !v.includes('NODE_OPTIONS')),
    ...wildcardActionViolations(stack),
    ...wildcardResourceViolations(stack),
    ...tableAccessViolations(stack),
    ...encryptionViolations(stack),
    ...mappingViolations(stack),
    ...alarmActionViolations(stack),
    ...functionViolations(stack),
    ...asyncInvokeViolations(stack),
  ];
}
