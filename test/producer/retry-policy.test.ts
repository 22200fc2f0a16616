import { describe, expect, it } from 'vitest';
import { backoffDelay, errorCodeOf, isRetryableCode, isThrottleCode, resolveRetryOptions } from '../../producers/retry-policy';

describe('backoffDelay (exponential, full jitter)', () => {
  const options = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1000 });
  it('spans 0 .. min(cap, base * 2^(attempt-1))', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(0);
    expect(backoffDelay(1, options, () => 0.999999)).toBe(99);
    expect(backoffDelay(3, options, () => 0.999999)).toBe(399);
    expect(backoffDelay(10, options, () => 0.999999)).toBe(999);
    expect(backoffDelay(1000, options, () => 0.5)).toBe(500);
  });
  it('is uniformly spread, not fixed', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, options, random));
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(Math.min(...delays)).toBeLessThan(40);
    expect(Math.max(...delays)).toBeGreaterThan(760);
    expect(mean).toBeGreaterThan(360);
    expect(mean).toBeLessThan(440);
  });
  it('refuses nonsensical settings', () => {
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => resolveRetryOptions({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(/baseDelayMs/);
  });
});

describe('error classification', () => {
  it('retries throttling and internal failures, not errors that cannot succeed', () => {
    for (const code of ['ProvisionedThroughputExceededException', 'InternalFailure', 'KMSThrottlingException', 'ECONNRESET', 'HTTP_503', 'TimeoutError']) {
      expect(isRetryableCode(code)).toBe(true);
    }
    for (const code of ['ResourceNotFoundException', 'AccessDeniedException', 'InvalidArgumentException', 'KMSDisabledException', 'KMSAccessDeniedException', 'ValidationException']) {
      expect(isRetryableCode(code)).toBe(false);
    }
    expect(isThrottleCode('ProvisionedThroughputExceededException')).toBe(true);
    expect(isThrottleCode('KMSThrottlingException')).toBe(true);
    expect(isThrottleCode('InternalFailure')).toBe(false);
  });
  it('derives a stable code from SDK, network and HTTP errors', () => {
    expect(errorCodeOf(Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' }))).toBe('ProvisionedThroughputExceededException');
    expect(errorCodeOf(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorCodeOf(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 502 } }))).toBe('HTTP_502');
    expect(errorCodeOf('weird')).toBe('UnknownError');
  });
});
