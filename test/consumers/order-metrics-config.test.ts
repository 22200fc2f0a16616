import { describe, expect, it } from 'vitest';
import { LEASE_MARGIN_MS, claimLeaseMs } from '../../consumers/order-metrics/claim-lease';
import { ConfigurationError, readOrderMetricsConfig } from '../../consumers/order-metrics/config';

describe('order-metrics configuration', () => {
  it('reads namespace, dimensions in declaration order and the local data folder', () => {
    expect(
      readOrderMetricsConfig({
        BUSINESS_METRICS_NAMESPACE: 'Orders/Business',
        BUSINESS_METRICS_DIMENSIONS: '{"Pipeline":"orders","Stage":"dev"}',
        LOCAL_DATA_DIR: '/tmp/data',
      }),
    ).toEqual({
      namespace: 'Orders/Business',
      dimensions: [
        { Name: 'Pipeline', Value: 'orders' },
        { Name: 'Stage', Value: 'dev' },
      ],
      localDataDir: '/tmp/data',
    });
  });

  it('has no dimensions and publishes to CloudWatch when nothing else is set', () => {
    expect(readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: 'Orders/Business' })).toEqual({
      namespace: 'Orders/Business',
      dimensions: [],
      localDataDir: undefined,
    });
  });

  it('reads the publish ledger table (a name or a table ARN) from PUBLISH_LEDGER_TABLE', () => {
    expect(readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: 'Orders', PUBLISH_LEDGER_TABLE: 'orders-prod-order-metrics-publish-ledger' }).publishLedgerTable).toBe(
      'orders-prod-order-metrics-publish-ledger',
    );
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-prod-order-metrics-publish-ledger';
    expect(readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: 'Orders', PUBLISH_LEDGER_TABLE: arn }).publishLedgerTable).toBe(arn);
    expect(readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: 'Orders', PUBLISH_LEDGER_TABLE: ' ' }).publishLedgerTable).toBeUndefined();
  });

  it.each([
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', PUBLISH_LEDGER_TABLE: 'ab' }, /PUBLISH_LEDGER_TABLE must be a DynamoDB table name/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', PUBLISH_LEDGER_TABLE: 'orders/ledger' }, /PUBLISH_LEDGER_TABLE must be a DynamoDB table name/],
    [{}, /BUSINESS_METRICS_NAMESPACE is required/],
    [{ BUSINESS_METRICS_NAMESPACE: 'AWS/Lambda' }, /must not start with "AWS\/"/],
    [{ BUSINESS_METRICS_NAMESPACE: ':x' }, /must not start with ":"/],
    [{ BUSINESS_METRICS_NAMESPACE: 'n'.repeat(256) }, /at most 255/],
    [{ BUSINESS_METRICS_NAMESPACE: 'a/../b' }, /".." segment/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: 'Stage=dev' }, /must be a JSON object/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: '{"Currency":"EUR"}' }, /"Currency" is reserved/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: '{"Stage":""}' }, /Stage: dimension values must not be empty/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: '{"Stage":"prød"}' }, /printable ASCII/],
    [{ BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: '{"Stage":3}' }, /must be strings/],
    [
      { BUSINESS_METRICS_NAMESPACE: 'Orders', BUSINESS_METRICS_DIMENSIONS: JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`D${i}`, 'v']))) },
      /at most 29 dimensions/,
    ],
  ])('refuses bad configuration naming the variable (%#)', (env, message) => {
    expect(() => readOrderMetricsConfig(env)).toThrow(ConfigurationError);
    expect(() => readOrderMetricsConfig(env)).toThrow(message);
  });
});

describe('publish claim lease', () => {
  const base = { BUSINESS_METRICS_NAMESPACE: 'Orders' };
  const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

  it('reads PUBLISH_LEDGER_LEASE_SECONDS (whole seconds, 1 s to a day) and names the variable when it is wrong', () => {
    expect(readOrderMetricsConfig({ ...base, PUBLISH_LEDGER_LEASE_SECONDS: '90' }).publishLeaseSeconds).toBe(90);
    expect(readOrderMetricsConfig({ ...base, PUBLISH_LEDGER_LEASE_SECONDS: ' ' }).publishLeaseSeconds).toBeUndefined();
    for (const bad of ['0', '1.5', 'soon', '86401']) {
      expect(() => readOrderMetricsConfig({ ...base, PUBLISH_LEDGER_LEASE_SECONDS: bad })).toThrow(/PUBLISH_LEDGER_LEASE_SECONDS must be/);
    }
  });

  it('is the invocation\'s remaining time plus the margin; the variable wins; without a context the ledger default applies', () => {
    const config = readOrderMetricsConfig(base);
    expect(claimLeaseMs(config, remaining(42_000.4))).toBe(42_001 + LEASE_MARGIN_MS);
    expect(claimLeaseMs(config, remaining(-5))).toBe(LEASE_MARGIN_MS);
    expect(claimLeaseMs(config, undefined)).toBeUndefined();
    expect(claimLeaseMs(readOrderMetricsConfig({ ...base, PUBLISH_LEDGER_LEASE_SECONDS: '120' }), remaining(42_000))).toBe(120_000);
  });
});
