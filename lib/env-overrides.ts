/** Small helpers shared by the gateway's and the edge agent's config loaders. */

/** Sets `value` at `path` in a plain object, creating the objects on the way. */
export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** An environment variable's text as the config value: integers parsed, `off`/`none`/`disabled` → null for optional ports. */
export function parseEnvValue(raw: string, type: 'int' | 'string' | 'port?'): unknown {
  if (type === 'string') return raw;
  if (type === 'port?' && /^(off|none|disabled)$/i.test(raw)) return null;
  return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw; // a non-number reaches zod, which names the key
}

/** Freezes a parsed config all the way down, so no module changes it after start. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
