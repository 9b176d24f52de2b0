/**
 * A JSON Schema (draft 2020-12) checker for the subset models/index.schema.json uses, so the test
 * needs no validator dependency. A keyword outside the subset throws rather than being ignored.
 */
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
const KEYWORDS = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
  'prefixItems',
  'required',
  'properties',
  'additionalProperties',
  'oneOf',
  '$defs',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** The errors of `value` against `schema` ("" path = the root); empty when it validates. */
export function validate(schema: Schema, value: unknown, root: Schema = schema, path = ''): string[] {
  const errors: string[] = [];
  const at = path || '(root)';
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`schema keyword "${key}" at ${at} is not supported by this checker`);
  }
  const s = schema as Record<string, any>;
  if (s.$ref !== undefined) {
    const name = String(s.$ref).replace(/^#\/\$defs\//, '');
    const target = (root.$defs as Record<string, Schema> | undefined)?.[name];
    if (!target) throw new Error(`unresolved $ref ${s.$ref}`);
    errors.push(...validate(target, value, root, path));
  }
  if (s.type !== undefined) {
    const t = typeOf(value);
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((want) => want === t || (want === 'number' && t === 'integer')))
      return [...errors, `${at}: must be ${types.join(' or ')}, got ${t}`];
  }
  if ('const' in s && !deepEqual(value, s.const)) errors.push(`${at}: must be ${JSON.stringify(s.const)}`);
  if (s.enum !== undefined && !s.enum.some((e: unknown) => deepEqual(value, e)))
    errors.push(`${at}: must be one of ${JSON.stringify(s.enum)}`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: must be >= ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: must be <= ${s.maximum}`);
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && [...value].length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: does not match ${s.pattern}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
    const prefix: Schema[] = s.prefixItems ?? [];
    value.forEach((item, i) => {
      const sub = i < prefix.length ? prefix[i] : s.items;
      if (sub === false) errors.push(`${path}[${i}]: not allowed`);
      else if (sub !== undefined) errors.push(...validate(sub, item, root, `${path}[${i}]`));
    });
  }
  if (isObject(value)) {
    for (const key of s.required ?? []) if (!(key in value)) errors.push(`${at}: "${key}" is required`);
    const props: Record<string, Schema> = s.properties ?? {};
    for (const [key, v] of Object.entries(value)) {
      const sub: unknown = props[key] ?? s.additionalProperties;
      if (sub === false) errors.push(`${at}: unknown property "${key}"`);
      else if (isObject(sub)) errors.push(...validate(sub, v, root, `${path}.${key}`));
    }
  }
  if (s.oneOf !== undefined) {
    const results = (s.oneOf as Schema[]).map((sub) => validate(sub, value, root, path));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing !== 1) {
      errors.push(
        passing === 0
          ? `${at}: matches none of oneOf (${results.map((r) => r[0]).join(' | ')})`
          : `${at}: matches ${passing} of oneOf, must match exactly one`,
      );
    }
  }
  return errors;
}
