import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Read a ZIP archive with an independent implementation (Python's zipfile, CRCs verified): name -> UTF-8 text. */
export function readZipWithPython(zip: Uint8Array): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'zip-test-')), 'archive.zip');
  writeFileSync(file, zip);
  const script =
    'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n' +
    'print(json.dumps({n: z.read(n).decode("utf-8") for n in z.namelist()}))';
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, string>;
}
