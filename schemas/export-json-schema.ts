/**
 * `npm run schemas:export`: writes the JSON Schema of every registered event to schemas/json/
 * (committed; a test fails when they are stale) and removes files of contracts no longer registered.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from './index';
import { renderJsonSchemaFiles } from './json-schema';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'json');
const files = renderJsonSchemaFiles(registry.definitions);

await mkdir(outDir, { recursive: true });
let written = 0;
for (const [name, content] of files) {
  const path = join(outDir, name);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) continue;
  await writeFile(path, content);
  written += 1;
}
let removed = 0;
for (const name of await readdir(outDir)) {
  if (name.endsWith('.json') && !files.has(name)) {
    await rm(join(outDir, name));
    removed += 1;
  }
}
process.stdout.write(
  `${relative(process.cwd(), outDir) || '.'}: ${files.size} files (${written} written, ${removed} removed, ${files.size - written} unchanged)\n`,
);
