import { build } from 'esbuild';
import { FUNCTION_BUNDLE_OPTIONS } from './infra/bundle.ts';
const r = await build({ ...FUNCTION_BUNDLE_OPTIONS, minify: true, target: 'node22', write: false, metafile: true, absWorkingDir: process.cwd(), entryPoints: [{ in: process.argv[2], out: 'index' }], outdir: '/tmp/i15-an' });
const entry = Object.entries(r.metafile.outputs).find(([p, o]) => o.entryPoint === process.argv[2]);
const seen = new Set(); const stack = [entry[0]]; const agg = {};
while (stack.length) { const p = stack.pop(); if (seen.has(p)) continue; seen.add(p); const o = r.metafile.outputs[p];
  for (const [i, { bytesInOutput }] of Object.entries(o.inputs)) { const k = i; agg[k] = (agg[k] || 0) + bytesInOutput; }
  for (const im of o.imports) if (im.kind === 'import-statement' && !im.external) stack.push(im.path); }
for (const [k, v] of Object.entries(agg).sort((a, b) => b[1] - a[1]).slice(0, +process.argv[3] || 30)) console.log((v / 1024).toFixed(1), k);
