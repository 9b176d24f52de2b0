/**
 * Integrity of a tfjs LayersModel folder (model.json + weight files), checked the same way in Node
 * (src/train/cnn/model-io.ts) and in the app (src/app/live/runner.ts). Pure TypeScript: the callers
 * read the files and compute their sha256 (node:crypto, crypto.subtle) and pass the results in.
 *
 * model.json records, at save time, the byte length and sha256 of every weight file:
 *   "weightsIntegrity": [{ "path": "weights.bin", "byteLength": 2360156, "sha256": "<64 hex>" }]
 * (a key tfjs itself ignores). A file must match its record; whatever the record, the files together
 * must hold exactly the bytes the weight specs describe, and every float32 weight must be finite.
 * Models saved before the record existed load with a warning.
 */

export const INTEGRITY_KEY = 'weightsIntegrity';

/** What model.json records about one weight file. */
export interface WeightsFileRecord {
  path: string;
  byteLength: number;
  sha256: string;
}

/** One weight file as read: `sha256` is undefined where no hash function is available. */
export interface WeightsFileActual {
  /** The name in model.json's weightsManifest paths. */
  path: string;
  /** How to name the file in messages (a file path or a URL). */
  display: string;
  byteLength: number;
  sha256?: string;
}

/** The subset of a tfjs weight spec (WeightsManifestEntry) these checks read. */
export interface WeightSpecLike {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

export interface ParsedLayersModelJson {
  modelTopology: object;
  /** Every group's specs in order: they describe the concatenation of `paths`. */
  weightSpecs: WeightSpecLike[];
  paths: string[];
  /** Undefined for a model saved before integrity was recorded. */
  integrity?: WeightsFileRecord[];
}

export class WeightsIntegrityError extends Error {
  constructor(
    /** The file at fault (a weight file, or model.json). */
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'WeightsIntegrityError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX64 = /^[0-9a-f]{64}$/;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one spec takes in the weight data (its quantized dtype when quantized). */
export function specByteLength(spec: WeightSpecLike, source: string): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined)
    throw new WeightsIntegrityError(source, `${source}: weight "${spec.name}" has dtype "${dtype}", which this app cannot size or load`);
  return spec.shape.reduce((a, b) => a * b, 1) * size;
}

/**
 * Validates the parts of a parsed model.json the loaders use; `source` names model.json in errors.
 */
export function parseLayersModelJson(json: unknown, source: string): ParsedLayersModelJson {
  const bad = (what: string): never => {
    throw new WeightsIntegrityError(
      source,
      `${source}: ${what}; it is not a tfjs layers model saved by this project (retrain it, or restore the folder)`,
    );
  };
  if (!isRecord(json)) return bad('expected a JSON object');
  if (!isRecord(json.modelTopology)) bad('"modelTopology" is missing');
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) bad('"weightsManifest" is missing or empty');
  const weightSpecs: WeightSpecLike[] = [];
  const paths: string[] = [];
  (json.weightsManifest as unknown[]).forEach((group, g) => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      return bad(`weightsManifest[${g}] needs "paths" and "weights" arrays`);
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '' || p.includes('..') || p.startsWith('/'))
        bad(`weightsManifest[${g}].paths has ${JSON.stringify(p)}, expected a file name next to model.json`);
      paths.push(p as string);
    }
    (group.weights as unknown[]).forEach((w, i) => {
      const ok =
        isRecord(w) &&
        typeof w.name === 'string' &&
        typeof w.dtype === 'string' &&
        Array.isArray(w.shape) &&
        w.shape.every((s) => Number.isInteger(s) && (s as number) >= 0);
      if (!ok) bad(`weightsManifest[${g}].weights[${i}] needs a name, a dtype and a shape of non-negative integers`);
      weightSpecs.push(w as unknown as WeightSpecLike);
    });
  });
  const out: ParsedLayersModelJson = { modelTopology: json.modelTopology as object, weightSpecs, paths };
  const raw = json[INTEGRITY_KEY];
  if (raw !== undefined) {
    if (!Array.isArray(raw)) bad(`"${INTEGRITY_KEY}" must be an array of {path, byteLength, sha256}`);
    out.integrity = (raw as unknown[]).map((r, i) => {
      const ok =
        isRecord(r) &&
        typeof r.path === 'string' &&
        Number.isSafeInteger(r.byteLength) &&
        (r.byteLength as number) >= 0 &&
        typeof r.sha256 === 'string' &&
        HEX64.test(r.sha256);
      if (!ok)
        bad(`${INTEGRITY_KEY}[${i}] must be {path, byteLength (an integer), sha256 (64 lowercase hex digits)}, got ${JSON.stringify(r)}`);
      return r as unknown as WeightsFileRecord;
    });
  }
  return out;
}

/**
 * Checks the weight files against model.json: each against its recorded byte length and sha256,
 * and all together against the bytes the weight specs need. Throws a WeightsIntegrityError naming
 * the file, the expected and the actual value; returns warnings for checks that could not be made
 * (no record, no hash function).
 */
export function verifyWeightFiles(model: ParsedLayersModelJson, files: WeightsFileActual[], source: string): { warnings: string[] } {
  const warnings: string[] = [];
  const byPath = new Map(files.map((f) => [f.path, f]));
  const fix = 'the file is damaged or belongs to another model.json: restore the folder (git checkout, or copy it again) or retrain';
  if (model.integrity) {
    const records = new Map(model.integrity.map((r) => [r.path, r]));
    for (const path of model.paths) {
      const f = byPath.get(path);
      if (!f) throw new WeightsIntegrityError(path, `${source}: weight file "${path}" was not read`);
      const r = records.get(path);
      if (!r)
        throw new WeightsIntegrityError(
          source,
          `${source}: ${INTEGRITY_KEY} has no entry for weight file "${path}"; re-stamp it with "npm run models:stamp -- <folder>"`,
        );
      if (f.byteLength !== r.byteLength) {
        throw new WeightsIntegrityError(
          f.display,
          `${f.display}: ${f.byteLength} bytes, expected ${r.byteLength} (${INTEGRITY_KEY} in model.json): ${f.byteLength < r.byteLength ? 'truncated' : 'extra bytes at the end'}; ${fix}`,
        );
      }
      if (f.sha256 === undefined)
        warnings.push(`${f.display}: sha256 not checked (no hash function here, e.g. a page served over plain http); byte length checked`);
      else if (f.sha256 !== r.sha256)
        throw new WeightsIntegrityError(
          f.display,
          `${f.display}: sha256 ${f.sha256}, expected ${r.sha256} (${INTEGRITY_KEY} in model.json); ${fix}`,
        );
    }
  } else {
    warnings.push(
      `${source}: no ${INTEGRITY_KEY} recorded (a model saved before it existed), so the weights' sha256 is not checked; add it with "npm run models:stamp -- <folder>"`,
    );
  }
  const need = model.weightSpecs.reduce((a, s) => a + specByteLength(s, source), 0);
  const have = model.paths.reduce((a, p) => a + (byPath.get(p)?.byteLength ?? 0), 0);
  if (need !== have) {
    const only = model.paths.length === 1 ? byPath.get(model.paths[0]!) : undefined;
    if (only) {
      throw new WeightsIntegrityError(
        only.display,
        `${only.display}: ${have} bytes, expected ${need} (the weight specs in model.json): ${have < need ? 'truncated' : 'extra bytes at the end'}; ${fix}`,
      );
    }
    throw new WeightsIntegrityError(
      source,
      `${source}: the weight files (${model.paths.join(', ')}) hold ${have} bytes, expected ${need} (the weight specs in model.json); ${fix}`,
    );
  }
  return { warnings };
}

/**
 * The first float32 weight value that is NaN or infinite in `data` (the concatenated weight files,
 * laid out as `specs`), or undefined when all are finite. Quantized weights are not decoded.
 */
export function firstNonFiniteWeight(
  specs: readonly WeightSpecLike[],
  data: Uint8Array,
  source: string,
): { name: string; index: number; value: number } | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const bytes = specByteLength(spec, source);
    if (spec.dtype === 'float32' && !spec.quantization) {
      for (let i = 0, p = offset; p < offset + bytes; i++, p += 4) {
        const v = view.getFloat32(p, true);
        if (!Number.isFinite(v)) return { name: spec.name, index: i, value: v };
      }
    }
    offset += bytes;
  }
  return undefined;
}

/** Throws naming `source` when a weight is not finite (a diverged or damaged model). */
export function checkFiniteWeights(specs: readonly WeightSpecLike[], data: Uint8Array, source: string): void {
  const bad = firstNonFiniteWeight(specs, data, source);
  if (bad) {
    throw new WeightsIntegrityError(
      source,
      `${source}: weight "${bad.name}" element ${bad.index} is ${bad.value}: the model is corrupt (training diverged or the file was damaged); retrain it or restore the folder`,
    );
  }
}

/**
 * The message for a warm-up inference whose outputs are not all finite, or undefined when they are.
 * `model` names the model (its folder or URL).
 */
export function nonFiniteOutputMessage(outputs: ArrayLike<number>, model: string): string | undefined {
  for (let i = 0; i < outputs.length; i++) {
    const v = outputs[i]!;
    if (!Number.isFinite(v)) {
      return `${model}: a warm-up inference on a blank face gives ${v} (output value ${i}), so its weights are corrupt; retrain the model or restore its folder`;
    }
  }
  return undefined;
}

/** Lowercase hex of a digest. */
export function toHex(digest: ArrayBuffer | Uint8Array): string {
  const bytes = digest instanceof Uint8Array ? digest : new Uint8Array(digest);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
