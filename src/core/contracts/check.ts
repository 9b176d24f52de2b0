/** Small checks shared by the contract parsers (not exported from the contracts index). */

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Throws naming the first key of `obj` that is not in `known` (a typo would otherwise be ignored). */
export function rejectUnknownKeys(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  const extra = Object.keys(obj).find((k) => !known.includes(k));
  if (extra !== undefined) throw new Error(`${where} has an unknown field "${extra}" (known: ${known.join(', ')}); remove or rename it`);
}
