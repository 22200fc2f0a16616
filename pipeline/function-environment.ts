/**
 * The environment every deployed function gets, computed in one place so the cdktf stack, the
 * LocalStack deployer and the local runner hand a function the same configuration (only the
 * resolved names and URLs differ). Configuration lives here and in the definition, never in handler code.
 */
import type { PipelineDefinition } from './definition-schema';
import { IDEMPOTENCY_RETENTION_VARIABLE, IDEMPOTENCY_TABLE_VARIABLE, idempotencyRetentionSeconds } from './idempotency-table';
import { PUBLISH_LEDGER_TABLE_VARIABLE } from './publish-ledger-table';

/** Where a consumer's `recordFilterPatterns` reach the runtime (JSON array; consumers/runtime/record-filter.ts). */
export const RECORD_FILTER_PATTERNS_VARIABLE = 'RECORD_FILTER_PATTERNS';

/** Where a consumer's `poisonRecordAttempts` reaches the runtime (consumers/runtime/options.ts). */
export const POISON_RECORD_ATTEMPTS_VARIABLE = 'POISON_RECORD_ATTEMPTS';

/** Namespace of the consumer runtime's own metrics (Embedded Metric Format). */
export const RUNTIME_METRICS_NAMESPACE = 'KinesisPipeline/Consumers';

/** `review-intake` -> `REVIEW_INTAKE_FUNCTION_NAME`: where a function finds the name of one it invokes. */
export function functionNameVariable(target: string): string {
  return `${target.replace(/-/g, '_').toUpperCase()}_FUNCTION_NAME`;
}

export interface ResolvedFunctionNames {
  /** Deployed function name of every function and consumer of the definition, by definition key. */
  functionName(name: string): string;
  /** Quarantine queue URL of a consumer (absent locally, where the runtime writes to LOCAL_DATA_DIR). */
  quarantineQueueUrl?(consumer: string): string | undefined;
  /** Publish ledger table of a consumer declaring `publishLedger` (absent locally). */
  publishLedgerTable?(consumer: string): string | undefined;
  /** Idempotency table of a function or consumer declaring `idempotencyTable` (the local runner's on dynalite). */
  idempotencyTable?(functionOrConsumer: string): string | undefined;
  logLevel?: string;
  /** Extra variables (e.g. LOCAL_DATA_DIR, AWS_ENDPOINT_URL_LAMBDA locally). */
  extra?: Record<string, string>;
}

/** Environment variables of function or consumer `name` of the definition. */
export function functionEnvironment(
  definition: PipelineDefinition,
  name: string,
  resolved: ResolvedFunctionNames,
): Record<string, string> {
  const fn = definition.consumers[name] ?? definition.functions[name];
  if (!fn) throw new Error(`"${name}" is neither a consumer nor a function of pipeline "${definition.name}"`);
  const env: Record<string, string> = {
    CONSUMER_NAME: name,
    METRICS_NAMESPACE: RUNTIME_METRICS_NAMESPACE,
    LOG_LEVEL: resolved.logLevel ?? 'info',
    ...fn.environment,
  };
  for (const target of fn.invokes) env[functionNameVariable(target)] = resolved.functionName(target);
  const queueUrl = name in definition.consumers ? resolved.quarantineQueueUrl?.(name) : undefined;
  if (queueUrl !== undefined) env['QUARANTINE_QUEUE_URL'] = queueUrl;
  const ledgerTable = definition.consumers[name]?.publishLedger ? resolved.publishLedgerTable?.(name) : undefined;
  if (ledgerTable !== undefined) env[PUBLISH_LEDGER_TABLE_VARIABLE] = ledgerTable;
  const consumer = definition.consumers[name];
  const idempotencyTable = fn.idempotencyTable ? resolved.idempotencyTable?.(name) : undefined;
  if (idempotencyTable !== undefined) {
    env[IDEMPOTENCY_TABLE_VARIABLE] = idempotencyTable;
    // A consumer's duplicates come from its own stream; a plain function's from retried or redriven
    // records of any stream: keep claims past the longest retention (24 h floor: the Kinesis minimum,
    // should a definition declare no stream).
    const retentionHours =
      consumer !== undefined
        ? (definition.streams[consumer.stream]?.retentionHours ?? 24)
        : Math.max(24, ...Object.values(definition.streams).map((stream) => stream.retentionHours));
    env[IDEMPOTENCY_RETENTION_VARIABLE] = String(idempotencyRetentionSeconds(retentionHours));
  }
  if (consumer !== undefined) env[POISON_RECORD_ATTEMPTS_VARIABLE] = String(consumer.poisonRecordAttempts);
  const filters = consumer?.recordFilterPatterns ?? [];
  if (filters.length > 0) env[RECORD_FILTER_PATTERNS_VARIABLE] = JSON.stringify(filters);
  return { ...env, ...resolved.extra };
}

/** Deployed resource name: `<pipeline>-<stage>-<name>`, e.g. `orders-prod-order-metrics`. */
export function deployedName(definition: PipelineDefinition, stage: string, name: string): string {
  return `${definition.name}-${stage}-${name}`;
}
