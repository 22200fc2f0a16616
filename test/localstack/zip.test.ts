import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../localstack/zip';

/** Read the archive back with an independent implementation: Python's zipfile module. */
function readWithPython(zip: Buffer): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
  const file = join(dir, 'bundle.zip');
  writeFileSync(file, zip);
  const script =
    'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n' +
    'print(json.dumps({n: z.read(n).decode("utf-8") for n in z.namelist()}))';
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, string>;
}

describe('createZip (Lambda deployment package)', () => {
  it('writes an archive a standard reader extracts byte for byte, CRCs verified', () => {
    const big = 'export const handler = async () => ({ batchItemFailures: [] });\n'.repeat(2000);
    const zip = createZip([
      { name: 'index.mjs', data: Buffer.from(big) },
      { name: 'index.mjs.map', data: Buffer.from('{"version":3}') },
      { name: 'dir/ünïcode.txt', data: Buffer.from('') },
    ]);
    expect(readWithPython(zip)).toEqual({ 'index.mjs': big, 'index.mjs.map': '{"version":3}', 'dir/ünïcode.txt': '' });
    expect(zip.length).toBeLessThan(big.length / 10); // deflated, not stored
  });

  it('is deterministic: same files, same bytes', () => {
    const files = [{ name: 'a.js', data: Buffer.from('x') }];
    expect(createZip(files).equals(createZip(files))).toBe(true);
  });
});
