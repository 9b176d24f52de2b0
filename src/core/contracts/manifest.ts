/**
 * models/index.json: the list of models the app, the training commands and the scripts load. A
 * user extension point (add your own model by adding an entry), described for editors by
 * models/index.schema.json; parseManifest() is the one validator every reader uses.
 */
import { isRecord, rejectUnknownKeys } from './check.ts';
import { parseCnnInput, parseFusionInput, parseStoredSvmInput, type CnnInputSpec, type FusionInput, type SvmInput } from './model-input.ts';
import { parseNeutralReference, type NeutralReference } from '../neutral-baseline.ts';

export const MODEL_KINDS = ['cnn', 'svm', 'fusion'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

interface EntryBase {
  /** Unique; also the model folder's name for the models we train. */
  id: string;
  /** Shown in the app; defaults to the id. */
  name: string;
  /** Relative to models/, e.g. "fer-cnn/model.json". */
  path: string;
  /** Relative to models/, e.g. "fer-cnn/report.json". */
  report?: string;
  /** Its output on FER2013's neutral faces, for a person's neutral baseline (src/core/neutral-baseline.ts). */
  neutral?: NeutralReference;
}

export interface CnnModelEntry extends EntryBase {
  kind: 'cnn';
  input: CnnInputSpec;
}

export interface SvmModelEntry extends EntryBase {
  kind: 'svm';
  input: SvmInput;
}

/**
 * A fusion model (src/core/fusion.ts): combines its member CNNs' probabilities (each run as its own
 * entry says, TTA included) with the AU-style features. Members are other entries' ids, CNNs only.
 */
export interface FusionModelEntry extends EntryBase {
  kind: 'fusion';
  members: string[];
  input: FusionInput;
}

export type ModelEntry = CnnModelEntry | SvmModelEntry | FusionModelEntry;

/** An entry before its paths are known (the publisher fills path and report from the folder). */
export type ModelEntryDraft =
  | Omit<CnnModelEntry, 'path' | 'report' | 'neutral'>
  | Omit<SvmModelEntry, 'path' | 'report' | 'neutral'>
  | Omit<FusionModelEntry, 'path' | 'report' | 'neutral'>;

export interface Manifest {
  /** Optional, for editors: "./index.schema.json". */
  $schema?: string;
  models: ModelEntry[];
}

/** Where models/index.json is, relative to the project (default file name in messages). */
export const MANIFEST_PATH = 'models/index.json';

const ENTRY_KEYS = ['id', 'name', 'kind', 'path', 'report', 'members', 'input', 'neutral'] as const;

/** A manifest path must stay inside models/: relative, no "..", no empty part, no scheme. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(path)) return false;
  return path.split('/').every((part) => part !== '..' && part !== '');
}

function parseEntry(raw: unknown, at: string): ModelEntry {
  if (!isRecord(raw)) throw new Error(`${at} must be an object {id, kind, path, input, ...}`);
  const { id, name, kind, path, report, members, input, neutral } = raw;
  if (typeof id !== 'string' || id === '') throw new Error(`${at}.id must be a non-empty string`);
  const where = `${at} (${id})`;
  rejectUnknownKeys(raw, ENTRY_KEYS, where);
  if (!(MODEL_KINDS as readonly unknown[]).includes(kind))
    throw new Error(`${where}.kind must be "cnn", "svm" or "fusion", got ${JSON.stringify(kind)}`);
  if (kind !== 'fusion' && members !== undefined)
    throw new Error(`${where}.members is only for "fusion" entries (the models it combines); remove it from this ${String(kind)} entry`);
  if (name !== undefined && typeof name !== 'string') throw new Error(`${where}.name must be a string`);
  const safe = 'a relative path inside models/ (no leading "/", no "..", no "//", no URL)';
  if (typeof path !== 'string' || !isSafeRelativePath(path)) throw new Error(`${where}.path must be ${safe}, got ${JSON.stringify(path)}`);
  if (report !== undefined && (typeof report !== 'string' || !isSafeRelativePath(report))) {
    throw new Error(`${where}.report must be ${safe}, got ${JSON.stringify(report)}`);
  }
  const base = {
    id,
    name: typeof name === 'string' && name !== '' ? name : id,
    path,
    ...(report !== undefined ? { report: report as string } : {}),
    ...(neutral !== undefined ? { neutral: parseNeutralReference(neutral, `${where}.neutral`) } : {}),
  };
  if (kind === 'svm') {
    const svmInput = parseStoredSvmInput(input, `${where}.input`);
    if (base.neutral?.features && svmInput.type !== 'au-features')
      throw new Error(
        `${where}.neutral.features is only for an SVM that reads the AU-style features, and this one reads ${svmInput.type}; remove it or remake the reference with npm run train -- neutral-reference`,
      );
    return { ...base, kind: 'svm', input: svmInput };
  }
  if (base.neutral?.features)
    throw new Error(
      `${where}.neutral.features is only for an SVM that reads the AU-style features (it moves that input); remove it or remake the reference with npm run train -- neutral-reference`,
    );
  if (kind === 'fusion')
    return { ...base, kind, members: parseMembers(members, id, where), input: parseFusionInput(input, `${where}.input`) };
  return { ...base, kind: 'cnn', input: parseCnnInput(input, `${where}.input`) };
}

function parseMembers(members: unknown, id: string, where: string): string[] {
  const how = 'the ids of the CNN entries it combines, e.g. ["fer-cnn"]';
  if (!Array.isArray(members) || members.length === 0) throw new Error(`${where}.members must be a non-empty list of ${how}`);
  members.forEach((m, i) => {
    if (typeof m !== 'string' || m === '') throw new Error(`${where}.members[${i}] must be a model id (${how}), got ${JSON.stringify(m)}`);
    if (m === id) throw new Error(`${where}.members[${i}] names the fusion model itself; list ${how}`);
    if (members.indexOf(m) !== i) throw new Error(`${where}.members lists "${m}" twice`);
  });
  return [...(members as string[])];
}

/** Each fusion entry's members must be CNN entries of the same manifest (any order). */
function checkMembers(models: readonly ModelEntry[]): void {
  const byId = new Map(models.map((m, i) => [m.id, { m, i }]));
  models.forEach((entry, i) => {
    if (entry.kind !== 'fusion') return;
    entry.members.forEach((member, j) => {
      const found = byId.get(member);
      const at = `models[${i}] (${entry.id}).members[${j}]`;
      if (!found) {
        const cnns = models.filter((m) => m.kind === 'cnn').map((m) => `"${m.id}"`);
        throw new Error(
          `${at}: no model "${member}" in this list (its CNNs: ${cnns.join(', ') || 'none'}); add that CNN's entry or fix the id`,
        );
      }
      if (found.m.kind !== 'cnn')
        throw new Error(`${at}: "${member}" (models[${found.i}]) is a ${found.m.kind} model; a fusion model's members must be CNNs`);
    });
  });
}

/**
 * Validates a parsed models/index.json; throws an Error that starts with `file` and names the entry
 * and field at fault, e.g. `models/index.json: models[2] (svm-au).path must be ...`.
 * Entries come back complete (name defaulted, a CNN's input filled in).
 */
export function parseManifest(json: unknown, file: string = MANIFEST_PATH): Manifest {
  if (!isRecord(json) || !Array.isArray(json.models)) throw new Error(`${file}: must be an object with a "models" array`);
  try {
    rejectUnknownKeys(json, ['$schema', 'models'], 'the top level');
    if (json.$schema !== undefined && typeof json.$schema !== 'string') throw new Error('"$schema" must be a string');
    const first = new Map<string, number>();
    const models = json.models.map((raw, i) => {
      const entry = parseEntry(raw, `models[${i}]`);
      const before = first.get(entry.id);
      if (before !== undefined) throw new Error(`models[${i}].id "${entry.id}" is used twice (also models[${before}]); ids must be unique`);
      first.set(entry.id, i);
      return entry;
    });
    checkMembers(models);
    return { ...(typeof json.$schema === 'string' ? { $schema: json.$schema } : {}), models };
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The entries with `entry` in place of the one with its id, or appended (order kept). Generic so
 * writers can keep other entries exactly as they read them.
 */
export function upsertEntry<E extends { id: string }>(models: readonly E[], entry: E): E[] {
  const i = models.findIndex((m) => m.id === entry.id);
  return i >= 0 ? models.map((m, j) => (j === i ? entry : m)) : [...models, entry];
}

/** index.json's text as the writers write it: 2-space JSON and a final newline ($schema kept). */
export function serializeManifest(manifest: { $schema?: string; models: readonly unknown[] }): string {
  const { $schema, models } = manifest;
  return JSON.stringify({ ...($schema !== undefined ? { $schema } : {}), models }, null, 2) + '\n';
}
