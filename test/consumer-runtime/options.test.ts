/**
 * consumers/runtime/options.ts: every setting a consumer takes from its options or its environment,
 * the bounds of each (inclusive, both ends) and the message that names the setting, the value and
 * the allowed range. These messages are what an operator reads when a cold start fails.
 */
import { describe, expect, it } from 'vitest';
import { FileQuarantineSink } from '../../consumers/runtime/file-quarantine-sink';
import { DEFAULT_IDEMPOTENCY_ENTRIES, LruIdempotencyStore } from '../../consumers/runtime/idempotency';
import { RuntimeConfigError } from '../../consumers/runtime/errors';
import { DEFAULT_CONCURRENCY, DEFAULT_POISON_ATTEMPTS, DEFAULT_TIMEOUT_MARGIN_MS, quarantineSinkFromEnv, resolveSettings } from '../../consumers/runtime/options';
import { SqsQuarantineSink } from '../../consumers/runtime/sqs-quarantine-sink';
import { InMemoryQuarantineSink } from '../../consumers/runtime/index';
import { registry } from '../../schemas/index';
import { DEFAULT_MAX_HOPS } from '../../schemas/envelope';

const quarantine = new InMemoryQuarantineSink();
const base = { registry, consumerName: 'orders', quarantine, metrics: false as const };
const envError = (name: string, raw: string, min: number, max: number) =>
  new RuntimeConfigError(`environment variable ${name}="${raw}" must be an integer between ${min} and ${max}`);
const optionError = (name: string, value: number, min: number, max: number) =>
  new RuntimeConfigError(`option ${name} must be an integer between ${min} and ${max}, got ${value}`);

// [variable, setting, option, min, max, default]
const BOUNDED = [
  ['POISON_RECORD_ATTEMPTS', 'poisonAttempts', 0, 10_000, DEFAULT_POISON_ATTEMPTS],
  ['CONSUMER_CONCURRENCY', 'concurrency', 1, 10_000, DEFAULT_CONCURRENCY],
  ['TIMEOUT_MARGIN_MS', 'timeoutMarginMs', 0, 900_000, DEFAULT_TIMEOUT_MARGIN_MS],
  ['MAX_HOPS', 'maxHops', 0, 1000, DEFAULT_MAX_HOPS],
] as const;

describe('resolveSettings: bounded integers from the environment and from options', () => {
  it.each(BOUNDED)('%s / options.%s: default when unset or empty, both bounds accepted', (variable, setting, min, max, fallback) => {
    expect(resolveSettings(base, {})[setting]).toBe(fallback);
    expect(resolveSettings(base, { [variable]: '' })[setting]).toBe(fallback);
    expect(resolveSettings(base, { [variable]: String(min) })[setting]).toBe(min);
    expect(resolveSettings(base, { [variable]: String(max) })[setting]).toBe(max);
    expect(resolveSettings({ ...base, [setting]: min }, { [variable]: 'ignored when the option is given' })[setting]).toBe(min);
    expect(resolveSettings({ ...base, [setting]: max }, {})[setting]).toBe(max);
  });

  it.each(BOUNDED)('%s / options.%s: one past either bound, or not an integer, is refused naming it', (variable, setting, min, max) => {
    for (const raw of [String(min - 1), String(max + 1), '2.5', 'ten']) {
      expect(() => resolveSettings(base, { [variable]: raw })).toThrow(envError(variable, raw, min, max));
    }
    for (const value of [min - 1, max + 1, 2.5]) {
      expect(() => resolveSettings({ ...base, [setting]: value }, {})).toThrow(optionError(setting, value, min, max));
    }
  });

  it('options.maxJsonDepth: 2..10000', () => {
    expect(resolveSettings({ ...base, maxJsonDepth: 2 }, {}).maxJsonDepth).toBe(2);
    expect(resolveSettings({ ...base, maxJsonDepth: 10_000 }, {}).maxJsonDepth).toBe(10_000);
    expect(() => resolveSettings({ ...base, maxJsonDepth: 1 }, {})).toThrow(optionError('maxJsonDepth', 1, 2, 10_000));
    expect(() => resolveSettings({ ...base, maxJsonDepth: 10_001 }, {})).toThrow(optionError('maxJsonDepth', 10_001, 2, 10_000));
  });

  it('IDEMPOTENCY_MAX_ENTRIES sizes the in-memory idempotency store: 1..10,000,000, default 50,000', () => {
    const entries = (env: Record<string, string>) => (resolveSettings({ registry, consumerName: 'orders', quarantine }, env).idempotency as LruIdempotencyStore).maxEntries;
    expect(entries({})).toBe(DEFAULT_IDEMPOTENCY_ENTRIES);
    expect(entries({ IDEMPOTENCY_MAX_ENTRIES: '1' })).toBe(1);
    expect(entries({ IDEMPOTENCY_MAX_ENTRIES: '10000000' })).toBe(10_000_000);
    expect(() => entries({ IDEMPOTENCY_MAX_ENTRIES: '0' })).toThrow(envError('IDEMPOTENCY_MAX_ENTRIES', '0', 1, 10_000_000));
    expect(() => entries({ IDEMPOTENCY_MAX_ENTRIES: '10000001' })).toThrow(envError('IDEMPOTENCY_MAX_ENTRIES', '10000001', 1, 10_000_000));
  });
});

describe('resolveSettings: registry and consumer name', () => {
  it('refuses options without an EventRegistry', () => {
    const error = new RuntimeConfigError('options.registry must be an EventRegistry');
    expect(() => resolveSettings({ ...base, registry: undefined as never }, {})).toThrow(error);
    expect(() => resolveSettings({ ...base, registry: {} as never }, {})).toThrow(error);
  });

  it('the consumer name: options, else CONSUMER_NAME, else AWS_LAMBDA_FUNCTION_NAME; none (or empty) is refused', () => {
    const { consumerName: _omit, ...withoutName } = base;
    const nameOf = (env: Record<string, string>, options: { consumerName?: string } = {}) => resolveSettings({ ...withoutName, ...options }, env).consumerName;
    expect(nameOf({ CONSUMER_NAME: 'from-env', AWS_LAMBDA_FUNCTION_NAME: 'fn' }, { consumerName: 'from-options' })).toBe('from-options');
    expect(nameOf({ CONSUMER_NAME: 'from-env', AWS_LAMBDA_FUNCTION_NAME: 'fn' })).toBe('from-env');
    expect(nameOf({ AWS_LAMBDA_FUNCTION_NAME: 'fn' })).toBe('fn');
    const missing = new RuntimeConfigError('consumer name missing: pass options.consumerName or set CONSUMER_NAME');
    expect(() => nameOf({})).toThrow(missing);
    expect(() => nameOf({ CONSUMER_NAME: '' })).toThrow(missing);
  });
});

describe('quarantineSinkFromEnv', () => {
  it('QUARANTINE_QUEUE_URL: an SQS sink with QUARANTINE_MAX_MESSAGE_BYTES (1024..1048576, default 262144); it wins over LOCAL_DATA_DIR', () => {
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-quarantine';
    const sqs = quarantineSinkFromEnv('orders', { QUARANTINE_QUEUE_URL: url, LOCAL_DATA_DIR: '/tmp/data' });
    expect(sqs).toBeInstanceOf(SqsQuarantineSink);
    expect([(sqs as SqsQuarantineSink).queueUrl, (sqs as SqsQuarantineSink).maxMessageBytes]).toStrictEqual([url, 262_144]);
    const small = quarantineSinkFromEnv('orders', { QUARANTINE_QUEUE_URL: url, QUARANTINE_MAX_MESSAGE_BYTES: '1024' }) as SqsQuarantineSink;
    expect(small.maxMessageBytes).toBe(1024);
    expect(() => quarantineSinkFromEnv('orders', { QUARANTINE_QUEUE_URL: url, QUARANTINE_MAX_MESSAGE_BYTES: '1048577' })).toThrow(
      envError('QUARANTINE_MAX_MESSAGE_BYTES', '1048577', 1024, 1_048_576),
    );
  });

  it('LOCAL_DATA_DIR (and an empty QUEUE_URL): the local file <dir>/quarantine/<consumer>.ndjson', () => {
    const sink = quarantineSinkFromEnv('orders', { QUARANTINE_QUEUE_URL: '', LOCAL_DATA_DIR: '/tmp/data' });
    expect(sink).toBeInstanceOf(FileQuarantineSink);
    expect((sink as FileQuarantineSink).path).toBe('/tmp/data/quarantine/orders.ndjson');
  });

  it('neither (or both empty): refused, saying how to configure one', () => {
    const error = new RuntimeConfigError('no quarantine sink: set QUARANTINE_QUEUE_URL (SQS) or LOCAL_DATA_DIR (local file), or pass options.quarantine');
    expect(() => quarantineSinkFromEnv('orders', {})).toThrow(error);
    expect(() => quarantineSinkFromEnv('orders', { QUARANTINE_QUEUE_URL: '', LOCAL_DATA_DIR: '' })).toThrow(error);
  });
});
