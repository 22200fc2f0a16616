/**
 * consumers/runtime/errors.ts: the errors a handler or the runtime throws. Their names reach logs and
 * quarantine reasons; `isPermanentError` recognises the brand, not the class, so a PermanentError from a
 * second copy of the module (two bundles of the runtime in one function) still quarantines.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, RuntimeConfigError, RuntimeInvariantError, isPermanentError } from '../../consumers/runtime/errors';

describe('runtime errors', () => {
  it('each error carries its own name and message (and PermanentError its cause)', () => {
    const cause = new Error('order 42 does not exist');
    const permanent = new PermanentError('cannot process', { cause });
    expect([permanent.name, permanent.message, permanent.cause]).toStrictEqual(['PermanentError', 'cannot process', cause]);
    expect(String(new RuntimeInvariantError('batch from two shards'))).toBe('RuntimeInvariantError: batch from two shards');
    expect(String(new RuntimeConfigError('CONSUMER_CONCURRENCY must be 1-10000'))).toBe('RuntimeConfigError: CONSUMER_CONCURRENCY must be 1-10000');
    expect(new PermanentError('x')).toBeInstanceOf(Error);
  });

  it('isPermanentError: true for a PermanentError and for one branded by another copy of the module', () => {
    expect(isPermanentError(new PermanentError('x'))).toBe(true);
    const fromOtherCopy = Object.assign(new Error('other copy'), { [Symbol.for('kinesis-pipeline.PermanentError')]: true });
    expect(isPermanentError(fromOtherCopy)).toBe(true);
  });

  it('isPermanentError: false for anything else, including a brand that is not exactly true', () => {
    const brand = Symbol.for('kinesis-pipeline.PermanentError');
    for (const value of [
      new Error('transient'),
      new RuntimeConfigError('x'),
      new RuntimeInvariantError('x'),
      Object.assign(new Error('x'), { name: 'PermanentError' }),
      { [brand]: 'true' },
      { [brand]: 1 },
      { [Symbol('kinesis-pipeline.PermanentError')]: true },
      null,
      undefined,
      'PermanentError',
      42,
    ]) {
      expect(isPermanentError(value)).toBe(false);
    }
  });
});
