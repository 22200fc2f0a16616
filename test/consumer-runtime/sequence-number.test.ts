/**
 * Rule 6's ordering primitive: Kinesis sequence numbers are decimal strings of up to 128 bits, "greater
 * for later records" within a shard (Kinesis API reference, Record.SequenceNumber); they do not fit in a
 * double, so they compare by length, then digit by digit. Expected signs computed with BigInt.
 */
import { describe, expect, it } from 'vitest';
import { compareSequenceNumbers } from '../../consumers/runtime/index';

const sign = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

describe('compareSequenceNumbers', () => {
  const cases: [string, string][] = [
    ['9', '10'],
    ['10', '9'],
    ['49590338271490256608559692538361571095921575989136588898', '49590338271490256608559692538361571095921575989136588898'],
    ['49590338271490256608559692538361571095921575989136588898', '49590338271490256608559692538361571095921575989136588899'],
    ['49590338271490256608559692538361571095921575989136588899', '49590338271490256608559692538361571095921575989136588898'],
    ['999999999999999999999', '1000000000000000000000'],
    ['7', '7'],
  ];
  it.each(cases)('%s vs %s has the sign of the numeric comparison', (a, b) => {
    expect(Math.sign(compareSequenceNumbers(a, b))).toBe(sign(a, b));
  });

  it('is antisymmetric and sorts as numbers (a longer number is later even when lexically smaller)', () => {
    const numbers = ['100', '99', '1000', '9', '101', '10'];
    expect([...numbers].sort(compareSequenceNumbers)).toEqual(['9', '10', '99', '100', '101', '1000']);
    for (const a of numbers) for (const b of numbers) expect(Math.sign(compareSequenceNumbers(a, b))).toBe(-Math.sign(compareSequenceNumbers(b, a)) || 0);
  });
});
