/**
 * npm 11 warns on `npm ci` about every dependency install script the project has not reviewed. The
 * review lives in package.json `allowScripts` (true: runs, false: skipped silently): every package of
 * the lockfile with an install script must be in it, so a clean install stays quiet and a new
 * dependency with a script fails here until someone decides about it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean; optional?: boolean; os?: string[] }>;
};

describe('install scripts', () => {
  it('every dependency with an install script is allowed or denied in package.json allowScripts', () => {
    const withScripts = new Set<string>();
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!entry.hasInstallScript || path === '') continue;
      withScripts.add(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    }
    expect(withScripts.size).toBeGreaterThan(0);
    const reviewed = new Set(Object.keys(pkg.allowScripts ?? {}));
    expect([...withScripts].filter((name) => !reviewed.has(name)).sort()).toEqual([]);
  });
});
