/**
 * consumers/runtime/idempotency.ts, LruIdempotencyStore: whatever its internal shortcuts (canonical
 * UUIDs parsed into 128-bit numbers, everything else in a Map, a one-entry parse cache), it must answer
 * like a set of exact strings within its bound. A false "seen" skips an event that never took effect
 * (a lost effect); a false "not seen" lets a redelivery take effect twice.
 */
import { describe, expect, it } from 'vitest';
import { LruIdempotencyStore, uuidHash } from '../../consumers/runtime/idempotency';

const BASE = '0123abcd-4567-89ef-0a1b-2c3d4e5f6789';

/** Every id one character away from BASE (hex digits, upper case, the neighbours of 0-9 and a-f, '-'), and BASE cut or extended. */
function neighbours(): string[] {
  const out = new Set<string>();
  for (let i = 0; i < BASE.length; i++) {
    for (const c of ['0', '5', '9', 'a', 'f', 'A', 'F', 'g', 'G', '/', ':', '`', '-', ' ']) {
      const id = `${BASE.slice(0, i)}${c}${BASE.slice(i + 1)}`;
      if (id !== BASE) out.add(id);
    }
  }
  out.add(BASE.slice(0, 35));
  out.add(`${BASE}0`);
  out.add(BASE.toUpperCase());
  out.add(BASE.replaceAll('-', ''));
  return [...out];
}

describe('LruIdempotencyStore answers like a set of exact strings', () => {
  it('an id one character away from a stored UUID is not seen; once added, each is seen', () => {
    const ids = neighbours();
    expect(ids.length).toBeGreaterThan(400);
    const store = new LruIdempotencyStore(10_000);
    store.add(BASE);
    expect(store.has(BASE)).toBe(true);
    expect(ids.filter((id) => store.has(id))).toEqual([]);
    for (const id of ids) store.add(id);
    expect(ids.filter((id) => !store.has(id))).toEqual([]);
    expect(store.has(BASE)).toBe(true);
    expect(store.size).toBe(ids.length + 1);
    expect(store.has('ffffffff-ffff-ffff-ffff-ffffffffffff')).toBe(false);
  });

  // Found by this suite: a bad digit in the 2nd or 4th group used to vanish (`NaN << 4` is 0), so such an
  // id parsed to the same 128 bits as the UUID with only the next group's digits there.
  it('a bad digit in the 2nd or 4th group is not the UUID it resembles', () => {
    const store = new LruIdempotencyStore(100);
    store.add('0123abcd-0000-89ef-0a1b-2c3d4e5f6789');
    store.add('0123abcd-4567-89ef-0000-2c3d4e5f6789');
    expect(store.has('0123abcd-g567-89ef-0a1b-2c3d4e5f6789')).toBe(false);
    expect(store.has('0123abcd-4567-89ef-0a1G-2c3d4e5f6789')).toBe(false);
  });

  it('UUIDs differing in one hex digit, any position, all kept apart (many share a hash-table tag)', () => {
    const store = new LruIdempotencyStore(100_000);
    const hexPositions = [...BASE].flatMap((c, i) => (c === '-' ? [] : [i]));
    const ids = hexPositions.flatMap((i) => [...'0123456789abcdef'].map((d) => `${BASE.slice(0, i)}${d}${BASE.slice(i + 1)}`));
    const unique = [...new Set(ids)];
    const half = unique.filter((_, n) => n % 2 === 0);
    for (const id of half) store.add(id);
    const seen = unique.filter((id) => store.has(id));
    expect(seen).toEqual(half);
    expect(store.size).toBe(half.length);
  });

  it('has() then add() of the same id (the parse cache) and of a different id in between', () => {
    const store = new LruIdempotencyStore(100);
    const a = '11111111-2222-3333-4444-555555555555';
    const b = 'not-a-uuid-but-36-characters-long-xx';
    expect(b).toHaveLength(36);
    expect(store.has(a)).toBe(false);
    store.add(a);
    expect(store.has(b)).toBe(false);
    store.add(b);
    expect([store.has(a), store.has(b), store.has(a)]).toEqual([true, true, true]);
    expect(store.size).toBe(2);
    store.add(a); // already held: not counted again
    expect(store.size).toBe(2);
  });

  it('bounded: two generations of maxEntries/2; an id used again is refreshed, the oldest are forgotten', () => {
    const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    const store = new LruIdempotencyStore(4); // generations of 2
    store.add(id(1));
    store.add(id(2));
    store.add(id(3)); // current full: {1,2} becomes the previous generation
    expect(store.has(id(1))).toBe(true); // refreshed into the current generation {3,1}
    store.add(id(4)); // {3,1} becomes previous, {2} is dropped
    expect([store.has(id(2)), store.has(id(3)), store.has(id(1)), store.has(id(4))]).toEqual([false, true, true, true]);
    expect(store.size).toBeLessThanOrEqual(4);
  });

  it('maxEntries must be a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new LruIdempotencyStore(bad)).toThrow(new RangeError('maxEntries must be a positive integer'));
    }
    expect(new LruIdempotencyStore(1).maxEntries).toBe(1);
  });
});

/**
 * Ids whose hash-table tags collide. The table stores `hash | 1` per slot and compares the four words
 * only where the tag matches, so a store that trusted the tag (or compared fewer words) would answer
 * "seen" for an id never added. Colliding ids are built by inverting `uuidHash`: for a UUID `a` and one
 * word k, the id that differs from `a` in word k only and whose hash is `hash(a) ^ 1` (same tag).
 */
describe('LruIdempotencyStore: ids whose hash-table tags collide', () => {
  const K = [1, 0x9e3779b1, 0x85ebca6b, 0xc2b2ae35];
  /** Inverse of an odd multiplier modulo 2^32 (Newton's iteration). */
  const inverse = (k: number): number => {
    let x = k;
    for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(k, x));
    return x;
  };
  /** The value before uuidHash's finaliser (h ^= h >>> 16; h *= K2; h ^= h >>> 13), from the hash. */
  const unmix = (hash: number): number => {
    let h = hash | 0;
    h ^= (h >>> 13) ^ (h >>> 26);
    h = Math.imul(h, inverse(0x85ebca6b));
    return h ^ (h >>> 16);
  };
  const hex8 = (w: number): string => (w >>> 0).toString(16).padStart(8, '0');
  const wordsOf = (id: string): number[] => {
    const h = id.replaceAll('-', '');
    return [0, 8, 16, 24].map((i) => Number.parseInt(h.slice(i, i + 8), 16) | 0);
  };
  const idOf = (w: readonly number[]): string => {
    const h = w.map(hex8).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const hashOf = (id: string): number => {
    const [w0, w1, w2, w3] = wordsOf(id) as [number, number, number, number];
    return uuidHash(w0, w1, w2, w3);
  };
  /** The id equal to `id` except in word k, with hash `hash(id) ^ 1`. */
  const partner = (id: string, k: number): string => {
    const w = wordsOf(id);
    const term = (word: number) => Math.imul(word, K[k]!);
    const wanted = term(w[k]!) ^ unmix(hashOf(id)) ^ unmix(hashOf(id) ^ 1);
    const out = [...w];
    out[k] = Math.imul(wanted, inverse(K[k]!));
    return idOf(out);
  };
  /** An id (not `avoid`) whose home slot in an 8-slot table is `slot`. */
  const fillerAt = (slot: number, avoid: readonly string[]): string => {
    // About one id in eight qualifies; the bound only stops a broken hash from looping for ever.
    for (let n = 0; n < 10_000; n++) {
      const id = `ffffffff-0000-4000-8000-${String(n).padStart(12, '0')}`;
      if ((hashOf(id) & 7) === slot && !avoid.includes(id)) return id;
    }
    throw new Error(`no id with home slot ${slot} among 10,000 candidates: is uuidHash still mixing its words?`);
  };
  // One id with an even hash and one with an odd one: the partner's home slot is then after or before it.
  const bases = ['0123abcd-4567-89ef-0a1b-2c3d4e5f6789', '11111111-2222-3333-4444-555555555555', '9e3779b1-85eb-ca6b-c2b2-ae35deadbeef'];
  const even = bases.find((id) => hashOf(id) % 2 === 0)!;
  const odd = bases.find((id) => hashOf(id) % 2 === 1)!;

  it('the construction holds: each partner differs in exactly one word and has the same tag', () => {
    expect(even).toBeDefined();
    expect(odd).toBeDefined();
    for (const a of [even, odd]) {
      for (let k = 0; k < 4; k++) {
        const b = partner(a, k);
        expect(b).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(wordsOf(b).map((w, i) => w !== wordsOf(a)[i])).toEqual([0, 1, 2, 3].map((i) => i === k));
        expect(hashOf(b)).toBe((hashOf(a) ^ 1) >>> 0);
      }
    }
  });

  it.each([0, 1, 2, 3])('an id equal to a stored one but in word %i, with the same tag and in its probe chain, is not seen', (k) => {
    for (const a of [even, odd]) {
      const b = partner(a, k);
      // maxEntries 4: generations of 2 in tables of 8 slots. The filler takes the pair's even slot
      // first, so `a` and `b` probe through each other's slot whichever of them is stored.
      for (const [stored, asked] of [
        [a, b],
        [b, a],
      ] as const) {
        const store = new LruIdempotencyStore(4);
        store.add(fillerAt(hashOf(stored) & 6, [a, b]));
        store.add(stored);
        expect(store.has(asked)).toBe(false);
        expect(store.has(stored)).toBe(true);
        store.add(asked);
        expect(store.has(asked)).toBe(true);
        expect(store.size).toBe(3);
      }
    }
  });

  it('digits are read as hex digit values: ids that would collide if they were not stay apart', () => {
    const store = new LruIdempotencyStore(100);
    // '00' and '60' collide if a digit were read as its character code plus 48 (0x60 and 0x66)
    store.add('00000000-0000-0000-0000-000000000000');
    expect(store.has('00000000-0000-0000-0000-000000000060')).toBe(false);
    // a non-hex character read as 16 would carry into the digit before it: '0g' would read as '10'
    store.add('00000000-0000-0000-0000-000000000010');
    expect(store.has('00000000-0000-0000-0000-00000000000g')).toBe(false);
    expect(store.size).toBe(2);
  });

  it('size counts both generations: ids in the previous generation add to it', () => {
    const store = new LruIdempotencyStore(4);
    const ids = ['a', 'b', 'c'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
    for (const id of ids) store.add(id);
    // generation 2: the third id rotated the first two into the previous generation
    expect(store.size).toBe(3);
    expect(ids.map((id) => store.has(id))).toEqual([true, true, true]);
  });
});
