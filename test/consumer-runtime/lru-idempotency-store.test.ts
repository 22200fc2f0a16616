/**
 * consumers/runtime/idempotency.ts, LruIdempotencyStore: whatever its internal shortcuts (canonical
 * UUIDs parsed into 128-bit numbers, everything else in a Map, a one-entry parse cache), it must answer
 * like a set of exact strings within its bound. A false "seen" skips an event that never took effect
 * (a lost effect); a false "not seen" lets a redelivery take effect twice.
 */
import { describe, expect, it } from 'vitest';
import { LruIdempotencyStore } from '../../consumers/runtime/idempotency';

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
