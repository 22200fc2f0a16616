/** The local on-failure / quarantine file as a redrive source: nothing the runner appends meanwhile is lost. */
import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NdjsonClaimSource } from '../../ops/local/ndjson-claim-source';

async function fileWith(text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ops-claim-'));
  const path = join(dir, 'consumer.ndjson');
  await writeFile(path, text);
  return { dir, path };
}

describe('NdjsonClaimSource', () => {
  it('removes acknowledged lines, keeps the others, and keeps lines appended during the redrive', async () => {
    const { dir, path } = await fileWith('a\nb\nc\n');
    const source = new NdjsonClaimSource({ path });
    const items = await source.next();
    expect(items.map((i) => i.body)).toEqual(['a', 'b', 'c']);
    expect(await source.next()).toEqual([]);
    // The runner appends while the redrive works: to the live file (recreated) ...
    await appendFile(path, 'd\n');
    // ... or, if its append opened the file just before the claim, to the claimed file.
    const claim = (await readdir(dir)).find((n) => n.includes('.redrive-'))!;
    await appendFile(join(dir, claim), 'e\n');
    await source.ack(items[0]!);
    await source.ack(items[2]!);
    await source.close();
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean).sort()).toEqual(['b', 'd', 'e']);
    expect(await readdir(dir)).toEqual(['consumer.ndjson']);
  });

  it('takes over the claim of a redrive that died, and read-only mode changes nothing', async () => {
    const { dir, path } = await fileWith('live\n');
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    await writeFile(join(dir, 'consumer.ndjson.redrive-4194305-1'), 'orphan\n');
    const dry = new NdjsonClaimSource({ path, readOnly: true });
    expect((await dry.next()).map((i) => i.body).sort()).toEqual(['live', 'orphan']);
    await dry.close();
    expect((await readdir(dir)).sort()).toEqual(['consumer.ndjson', 'consumer.ndjson.redrive-4194305-1']);

    const source = new NdjsonClaimSource({ path });
    const items = await source.next();
    for (const item of items) await source.ack(item);
    await source.close();
    expect(await readdir(dir)).toEqual([]);
  });
});
