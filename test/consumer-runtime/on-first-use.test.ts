/** onFirstUse: a rare path's dependency loads once, on its first use; a failed load is tried again. */
import { describe, expect, it } from 'vitest';
import { onFirstUse } from '../../consumers/runtime/on-first-use';

describe('onFirstUse', () => {
  it('does not load before the first call, then loads once however many callers wait at the same time', async () => {
    let loads = 0;
    const get = onFirstUse(async () => ({ client: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([get(), get()]);
    expect(await get()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it('does not cache a failed load: the next call loads again (the record meanwhile is retried)', async () => {
    let attempts = 0;
    const get = onFirstUse(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('chunk missing');
      return 'loaded';
    });
    await expect(get()).rejects.toThrow('chunk missing');
    await expect(get()).resolves.toBe('loaded');
    await expect(get()).resolves.toBe('loaded');
    expect(attempts).toBe(2);
  });
});
