/**
 * order-metrics configuration, read from the environment once per container and validated, so a bad
 * deployment fails at init with the variable name and the rule it breaks.
 */
import * as z from 'zod';
import type { MetricDimension } from './business-metrics';
import { CURRENCY_DIMENSION } from './business-metrics';
import { PUBLISH_LEDGER_TABLE_VARIABLE } from '../../pipeline/publish-ledger-table';

/** Printable ASCII with at least one non-blank character (CloudWatch API reference, Dimension). */
const ASCII_TEXT = /^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$/;

/** CloudWatch API reference, Metric.Namespace: 1-255 characters, pattern `[^:].*`; "AWS/" is reserved for AWS services. */
export const namespaceSchema = z
  .string({ error: 'is required (the CloudWatch namespace of the business metrics, e.g. "Orders/Business")' })
  .min(1, { error: 'must not be empty' })
  .max(255, { error: 'must be at most 255 characters (CloudWatch namespace limit)' })
  .regex(/^[^:]/, { error: 'must not start with ":" (CloudWatch namespace rule)' })
  .refine((ns) => !ns.startsWith('AWS/'), { error: 'must not start with "AWS/" (reserved for AWS services)' })
  .refine((ns) => !ns.split('/').includes('..'), { error: 'must not contain a ".." segment' });

/**
 * Dimensions added to every business metric, as a JSON object of name -> value, e.g.
 * `{"Pipeline":"orders","Stage":"prod"}`. PutMetricData allows 30 dimensions per metric; RevenueMinor
 * adds `Currency`, so 29 are left. Values are capped at 255 characters, the alarm-side limit
 * (CloudWatch API reference, PutMetricAlarm Dimension), so every metric stays alarmable.
 */
export const dimensionsSchema = z
  .record(
    z.string(),
    z
      .string({ error: 'dimension values must be strings' })
      .min(1, { error: 'dimension values must not be empty' })
      .max(255, { error: 'dimension values must be at most 255 characters' })
      .regex(ASCII_TEXT, { error: 'dimension values must be printable ASCII with a non-blank character' }),
    { error: 'must be a JSON object of dimension name -> value' },
  )
  .superRefine((dimensions, ctx) => {
    const names = Object.keys(dimensions);
    if (names.length > 29) ctx.addIssue({ code: 'custom', message: 'at most 29 dimensions (30 per metric, one is Currency)' });
    for (const name of names) {
      const problem =
        name === CURRENCY_DIMENSION
          ? `"${CURRENCY_DIMENSION}" is reserved (added to RevenueMinor)`
          : name.length === 0 || name.length > 255
            ? 'dimension names must be 1-255 characters'
            : !ASCII_TEXT.test(name)
              ? 'dimension names must be printable ASCII with a non-blank character'
              : name.startsWith(':')
                ? 'dimension names must not start with ":"'
                : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  });

/**
 * DynamoDB table name (3-255 characters of a-z, A-Z, 0-9, "_", "-", ".") or table ARN, both accepted
 * by PutItem's TableName (DynamoDB API reference, PutItem; "Supported data types and naming rules").
 */
export const ledgerTableSchema = z
  .string()
  .regex(/^([a-zA-Z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255})$/, {
    error: 'must be a DynamoDB table name (3-255 characters of letters, digits, "_", "-", ".") or a table ARN',
  });

export interface OrderMetricsConfig {
  readonly namespace: string;
  readonly dimensions: readonly MetricDimension[];
  /** Set: publish to `<dir>/metrics/<namespace>.ndjson` instead of CloudWatch. */
  readonly localDataDir: string | undefined;
  /**
   * Set (deployed stacks, consumer option `publishLedger`): the DynamoDB table of the durable publish
   * ledger. Unset: the in-memory ledger. Ignored with LOCAL_DATA_DIR, whose marker files are durable.
   */
  readonly publishLedgerTable: string | undefined;
  /**
   * PUBLISH_LEDGER_LEASE_SECONDS: the lease of a window's publish claim. Unset (the default): the time
   * the claiming invocation may still run plus a margin (handler.ts). Set it no shorter than the
   * function timeout: a holder still running after its lease can have its claim taken over.
   */
  readonly publishLeaseSeconds: number | undefined;
}

/** Environment variable overriding the publish claim lease (whole seconds). */
export const PUBLISH_LEASE_VARIABLE = 'PUBLISH_LEDGER_LEASE_SECONDS';

/** 1 s to one day. */
export const leaseSecondsSchema = z
  .string()
  .regex(/^\d+$/, { error: 'must be a whole number of seconds' })
  .transform(Number)
  .pipe(z.number().min(1, { error: 'must be at least 1 (second)' })
  .max(86_400, { error: 'must be at most 86400 (one day)' }));

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function readOrderMetricsConfig(env: NodeJS.ProcessEnv = process.env): OrderMetricsConfig {
  const problems: string[] = [];
  const namespace = namespaceSchema.safeParse(env['BUSINESS_METRICS_NAMESPACE']);
  if (!namespace.success) problems.push(`BUSINESS_METRICS_NAMESPACE ${namespace.error.issues[0]!.message}`);

  let dimensions: MetricDimension[] = [];
  const rawDimensions = env['BUSINESS_METRICS_DIMENSIONS'];
  if (rawDimensions !== undefined && rawDimensions.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(rawDimensions);
    } catch {
      problems.push('BUSINESS_METRICS_DIMENSIONS must be a JSON object of dimension name -> value, e.g. {"Stage":"prod"}');
    }
    if (json !== undefined) {
      const parsed = dimensionsSchema.safeParse(json);
      if (parsed.success) dimensions = Object.entries(parsed.data).map(([Name, Value]) => ({ Name, Value }));
      else problems.push(`BUSINESS_METRICS_DIMENSIONS: ${parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ')}`);
    }
  }
  const localDataDir = env['LOCAL_DATA_DIR']?.trim() || undefined;
  const rawTable = env[PUBLISH_LEDGER_TABLE_VARIABLE]?.trim() || undefined;
  const table = rawTable === undefined ? undefined : ledgerTableSchema.safeParse(rawTable);
  if (table && !table.success) problems.push(`${PUBLISH_LEDGER_TABLE_VARIABLE} ${table.error.issues[0]!.message}`);
  const rawLease = env[PUBLISH_LEASE_VARIABLE]?.trim() || undefined;
  const lease = rawLease === undefined ? undefined : leaseSecondsSchema.safeParse(rawLease);
  if (lease && !lease.success) problems.push(`${PUBLISH_LEASE_VARIABLE} ${lease.error.issues[0]!.message}`);
  if (problems.length > 0) throw new ConfigurationError(`order-metrics configuration: ${problems.join('; ')}`);
  return { namespace: namespace.data!, dimensions, localDataDir, publishLedgerTable: table?.data, publishLeaseSeconds: lease?.data };
}
