/** Test helpers: copy a JSON-like value with one field replaced or removed (dotted path, array indexes allowed). */

export function withField(value: unknown, path: string, replacement: unknown): unknown {
  return edit(value, path, (parent, key) => {
    parent[key] = replacement;
  });
}

export function withoutField(value: unknown, path: string): unknown {
  return edit(value, path, (parent, key) => {
    delete parent[key];
  });
}

function edit(value: unknown, path: string, apply: (parent: Record<string, unknown>, key: string) => void): unknown {
  const copy = structuredClone(value);
  const keys = path.split('.');
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) throw new Error(`no object at "${key}" of path "${path}"`);
    node = next as Record<string, unknown>;
  }
  apply(node, keys.at(-1)!);
  return copy;
}
