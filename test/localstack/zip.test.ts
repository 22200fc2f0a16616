import { describe, expect, it } from 'vitest';
import { createZip } from '../../localstack/zip';
import { readZipWithPython } from './read-zip';

describe('createZip (Lambda deployment package)', () => {
  it('writes an archive a standard reader extracts byte for byte, CRCs verified', () => {
    const big = 'export const handler = async () => ({ batchItemFailures: [] });\n'.repeat(2000);
    const zip = createZip([
      { name: 'index.mjs', data: Buffer.from(big) },
      { name: 'index.mjs.map', data: Buffer.from('{"version":3}') },
      { name: 'dir/ünïcode.txt', data: Buffer.from('') },
    ]);
    expect(readZipWithPython(zip)).toEqual({ 'index.mjs': big, 'index.mjs.map': '{"version":3}', 'dir/ünïcode.txt': '' });
    expect(zip.length).toBeLessThan(big.length / 10); // deflated, not stored
  });

  it('is deterministic: same files, same bytes', () => {
    const files = [{ name: 'a.js', data: Buffer.from('x') }];
    expect(createZip(files).equals(createZip(files))).toBe(true);
  });
});
