/**
 * Every relative link in README.md, BENCHMARKS.md and docs/ resolves: the file exists (relative to
 * the linking file, as GitHub resolves it) and a `#fragment` names a heading of the target.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const files = ['README.md', 'BENCHMARKS.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown without fenced code blocks (and, for links, inline code): examples, not links. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
}
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[*_`[\]()]/g, '')
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .replace(/\s/g, '-');
    let unique = slug;
    for (let n = 1; slugs.has(unique); n += 1) unique = `${slug}-${n}`;
    slugs.add(unique);
  }
  return slugs;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const text = prose(readFileSync(join(root, file), 'utf8'));
  const links: Link[] = [];
  for (const [, target] of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:, ...
    links.push({ file, target: target! });
  }
  return links;
}

const links = files.flatMap(relativeLinks);

describe('relative links in README and docs', () => {
  it('finds the links to check', () => {
    expect(links.length).toBeGreaterThan(10);
    expect(links).toContainEqual({ file: 'README.md', target: 'docs/local-runner.md' });
  });

  it.each(files)('every relative link of %s resolves', (file) => {
    const broken: string[] = [];
    for (const link of links.filter((l) => l.file === file)) {
      const [path, fragment] = link.target.split('#') as [string, string | undefined];
      const target = path === '' ? join(root, file) : resolve(dirname(join(root, file)), decodeURI(path));
      if (!existsSync(target)) {
        broken.push(`${link.target}: ${relative(root, target)} does not exist`);
        continue;
      }
      if (fragment !== undefined && statSync(target).isFile() && target.endsWith('.md')) {
        if (!headingSlugs(readFileSync(target, 'utf8')).has(fragment)) broken.push(`${link.target}: no heading #${fragment} in ${relative(root, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('catches a link written relative to the project root from inside docs/', () => {
    // The bug this test exists for: docs/local-runner.md linked docs/semantics.md, i.e. docs/docs/semantics.md.
    expect(existsSync(resolve(root, 'docs', 'docs/semantics.md'))).toBe(false);
    expect(headingSlugs('## Kinesis engines: kinesalite vs kinesis-local vs AWS\n')).toContain('kinesis-engines-kinesalite-vs-kinesis-local-vs-aws');
    expect(headingSlugs('## The `produce` CLI\n')).toContain('the-produce-cli');
  });
});
