/**
 * Every kind of bad input a producer can be handed, with the typed error code it must reject with
 * (docs/producer.md, "Every put settles"). Shared by the strict-mode settle script and its test.
 *
 * `put` cases go to a producer with the default contract validation; `lenient` cases to one whose
 * validation accepts anything (but throws for `explode: true`) and whose partition key is the input's
 * `key` (so key functions and serialisation get bad input too); `putRecord` cases are raw records.
 */
import { createFixtures } from '../../schemas/fixtures';
import { withField, withoutField } from '../schemas/edit';

export type Channel = 'put' | 'lenient' | 'putRecord';

export interface BadInput {
  readonly label: string;
  readonly channel: Channel;
  readonly input: () => unknown;
  readonly code: string;
}

const MIB = 1024 * 1024;
const f = () => createFixtures({ seed: 404 });

function circular(): unknown {
  const value: { key: string; self?: unknown } = { key: 'ord-cycle' };
  value.self = value;
  return value;
}

/** The contract table (envelope and schema errors of test/schemas) plus every invalid() fixture kind. */
function contractCases(): BadInput[] {
  const cases: BadInput[] = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['an array', () => []],
    ['a string', () => 'order.placed'],
    ['a number', () => 42],
    ['missing type', () => withoutField(f().orderPlaced(), 'type')],
    ['type not dotted lower-case', () => withField(f().orderPlaced(), 'type', 'OrderPlaced')],
    ['version as a string', () => withField(f().orderPlaced(), 'version', '1')],
    ['id not a UUID', () => withField(f().orderPlaced(), 'id', 'order-1')],
    ['occurredAt without offset', () => withField(f().orderPlaced(), 'occurredAt', '2026-01-31T12:00:00')],
    ['unknown envelope field', () => withField(f().orderPlaced(), 'tenant', 'x')],
    ['order id with a slash', () => withField(f().orderPaid(), 'data.orderId', 'ord/1')],
    ['order id of 300 characters', () => withField(f().orderPaid(), 'data.orderId', `o${'x'.repeat(299)}`)],
    ['missing data', () => withoutField(f().orderPaid(), 'data')],
  ].map(([label, input]) => ({ label: `contract: ${label as string}`, channel: 'put' as const, input: input as () => unknown, code: 'EVENT_INVALID' }));
  const kinds = new Map<string, unknown>();
  const fixtures = f();
  for (let i = 0; i < 500 && kinds.size < 8; i++) {
    const bad = fixtures.invalid();
    if (!kinds.has(bad.kind)) kinds.set(bad.kind, bad.value);
  }
  for (const [kind, value] of kinds) cases.push({ label: `invalid fixture: ${kind}`, channel: 'put', input: () => structuredClone(value), code: 'EVENT_INVALID' });
  return cases;
}

export function badInputs(): BadInput[] {
  return [
    ...contractCases(),
    // Partition key (the key function's result) and data (serialisation), through a lenient producer.
    { label: 'a validate function that throws', channel: 'lenient', input: () => ({ key: 'ord-x', explode: true }), code: 'EVENT_INVALID' },
    { label: 'key function returns a number', channel: 'lenient', input: () => ({ key: 42 }), code: 'PARTITION_KEY_INVALID' },
    { label: 'key function returns undefined', channel: 'lenient', input: () => ({}), code: 'PARTITION_KEY_INVALID' },
    {
      label: 'key function throws',
      channel: 'lenient',
      input: () => ({
        get key(): string {
          throw new Error('no key');
        },
      }),
      code: 'PARTITION_KEY_INVALID',
    },
    { label: 'empty partition key', channel: 'lenient', input: () => ({ key: '' }), code: 'LIMIT_EXCEEDED' },
    { label: 'partition key of 257 characters', channel: 'lenient', input: () => ({ key: 'k'.repeat(257) }), code: 'LIMIT_EXCEEDED' },
    { label: 'partition key of 257 astral characters', channel: 'lenient', input: () => ({ key: '😀'.repeat(257) }), code: 'LIMIT_EXCEEDED' },
    { label: 'partition key with a lone surrogate', channel: 'lenient', input: () => ({ key: 'ord-\ud800' }), code: 'PARTITION_KEY_INVALID' },
    { label: 'data with a BigInt (not serialisable)', channel: 'lenient', input: () => ({ key: 'ord-big', n: 1n }), code: 'DATA_INVALID' },
    { label: 'data with a cycle (not serialisable)', channel: 'lenient', input: circular, code: 'DATA_INVALID' },
    { label: 'record over 1 MiB (data + key)', channel: 'lenient', input: () => ({ key: 'ord-huge', pad: 'x'.repeat(MIB) }), code: 'LIMIT_EXCEEDED' },
    // Raw records.
    { label: 'putRecord(null)', channel: 'putRecord', input: () => null, code: 'DATA_INVALID' },
    { label: 'putRecord(a string)', channel: 'putRecord', input: () => 'data', code: 'DATA_INVALID' },
    { label: 'data is a number', channel: 'putRecord', input: () => ({ partitionKey: 'k', data: 42 }), code: 'DATA_INVALID' },
    { label: 'data is null', channel: 'putRecord', input: () => ({ partitionKey: 'k', data: null }), code: 'DATA_INVALID' },
    { label: 'data is an object', channel: 'putRecord', input: () => ({ partitionKey: 'k', data: { a: 1 } }), code: 'DATA_INVALID' },
    { label: 'partition key missing', channel: 'putRecord', input: () => ({ data: 'x' }), code: 'PARTITION_KEY_INVALID' },
    { label: 'partition key is a number', channel: 'putRecord', input: () => ({ partitionKey: 7, data: 'x' }), code: 'PARTITION_KEY_INVALID' },
    { label: 'data + key one byte over 1 MiB', channel: 'putRecord', input: () => ({ partitionKey: 'k', data: new Uint8Array(MIB) }), code: 'LIMIT_EXCEEDED' },
    ...[
      ['not a number', 'abc'],
      ['negative', '-1'],
      ['leading zero', '007'],
      ['fraction', '1.5'],
      ['exponent', '1e5'],
      ['surrounding space', ' 12'],
      ['empty', ''],
      ['hexadecimal', '0x10'],
      ['2^128 (one above the hash key space)', (1n << 128n).toString()],
      ['40 digits', '1'.repeat(40)],
    ].map(([label, key]) => ({
      label: `explicit hash key: ${label!}`,
      channel: 'putRecord' as const,
      input: () => ({ partitionKey: 'k', data: 'x', explicitHashKey: key }),
      code: 'EXPLICIT_HASH_KEY_INVALID',
    })),
    { label: 'explicit hash key: a number', channel: 'putRecord', input: () => ({ partitionKey: 'k', data: 'x', explicitHashKey: 5 }), code: 'EXPLICIT_HASH_KEY_INVALID' },
  ];
}

/** Valid inputs interleaved with the bad ones: each must be written. */
export function goodInputs(): { channel: Channel; input: unknown }[] {
  const fixtures = createFixtures({ seed: 405 });
  return [
    ...fixtures.take(20).map((e) => ({ channel: 'put' as const, input: e })),
    { channel: 'putRecord', input: { partitionKey: 'k-min-hash', data: 'x', explicitHashKey: '0' } },
    { channel: 'putRecord', input: { partitionKey: 'k-max-hash', data: 'x', explicitHashKey: ((1n << 128n) - 1n).toString() } },
    { channel: 'putRecord', input: { partitionKey: 'k'.repeat(256), data: new Uint8Array(MIB - 256) } },
    { channel: 'lenient', input: { key: 'ord-lenient', note: 'fine' } },
  ];
}
