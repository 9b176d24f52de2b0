/**
 * Personal models as files: the export .zip and its import, and the integrity check every personal
 * model passes before it is used (after import and after reading it back from IndexedDB).
 *
 * The .zip holds a models folder as the Node tools read it:
 *   index.json          the manifest ({"models": [entry, ...]}, src/core/contracts/manifest.ts)
 *   <id>/model.json     per model, with its weights.bin, report.json (+ any other files it has)
 * so that `unzip` gives a folder for `npm run report -- --models DIR`. Entry paths are relative to
 * the folder ("<id>/model.json"), exactly as in models/index.json.
 *
 * Import takes such a .zip, or the files of such a folder (a folder picker gives paths
 * "DIR/index.json", "DIR/<id>/model.json", ...). A zip or folder wrapped in one extra top folder is
 * accepted too. Errors name the file at fault. Pure (fflate's synchronous zip, crypto.subtle for
 * sha256): no DOM, so it is tested in Node.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { parseManifest, serializeManifest, type ModelEntry } from '../../core/contracts/manifest.ts';
import type { ModelFolder } from '../../core/calibration/types.ts';
import { parseSvmModel } from '../../core/svm/index.ts';
import {
  checkFiniteWeights,
  parseLayersModelJson,
  toHex,
  verifyWeightFiles,
  type WeightsFileActual,
} from '../../core/weights-integrity.ts';

/** A file that does not make a valid personal-model folder; `file` is the path inside the zip/folder. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

const MANIFEST = 'index.json';

/** The folder a manifest entry's model lives in ("my-cnn/model.json" -> "my-cnn"). */
export function folderOf(entry: Pick<ModelEntry, 'path'>): string {
  const i = entry.path.lastIndexOf('/');
  return i < 0 ? '' : entry.path.slice(0, i);
}

/** The .zip's bytes: index.json plus each folder's files under its folder name. */
export function zipModelFolders(folders: readonly ModelFolder[], mtime: Date = new Date()): Uint8Array {
  if (folders.length === 0) throw new Error('no personal models to export: calibrate first');
  const tree: Zippable = {};
  for (const { entry, files } of folders) {
    const dir = folderOf(entry);
    if (!dir) throw new ModelFolderError(entry.path, `model "${entry.id}": its path "${entry.path}" must be "<folder>/model.json"`);
    for (const [name, bytes] of Object.entries(files)) tree[`${dir}/${name}`] = bytes;
  }
  tree[MANIFEST] = strToU8(serializeManifest({ models: folders.map((f) => f.entry) }));
  // Weights barely compress; level 6 still shrinks the JSON files. The fixed mtime keeps the
  // bytes reproducible for a given export time.
  return zipSync(tree, { level: 6, mtime });
}

/** Reads an exported .zip back into folders (validated: see readModelFiles). */
export async function unzipModelFolders(zip: Uint8Array, zipName: string): Promise<ModelFolder[]> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw new ModelFolderError(zipName, `${zipName}: not a readable .zip (${(error as Error).message}); export the models again`);
  }
  return readModelFiles(files, zipName);
}

/**
 * Files of a models folder (path inside the folder -> bytes) as validated ModelFolders: index.json
 * parsed by the manifest parser, every entry's files present, its weights checked (CNN: byte
 * lengths, sha256 and finite weights against model.json; SVM: the emotion-svm format's own checks).
 * `source` names the zip or folder in messages ("my-models.zip: my-cnn/weights.bin: ...").
 */
export async function readModelFiles(input: Record<string, Uint8Array>, source: string): Promise<ModelFolder[]> {
  const files = stripTopFolder(input);
  const manifestBytes = files[MANIFEST];
  if (!manifestBytes) {
    const seen = Object.keys(input).slice(0, 5).join(', ') || 'nothing';
    throw new ModelFolderError(
      MANIFEST,
      `${source}: no ${MANIFEST} (the models list) at its top (found ${seen}); choose a .zip made by Export, or the folder unzipped from one`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(strFromU8(manifestBytes));
  } catch (error) {
    throw new ModelFolderError(MANIFEST, `${source}: ${MANIFEST} is not JSON (${(error as Error).message})`);
  }
  let entries: ModelEntry[];
  try {
    entries = parseManifest(json, `${source}: ${MANIFEST}`).models;
  } catch (error) {
    throw new ModelFolderError(MANIFEST, (error as Error).message);
  }
  if (entries.length === 0) throw new ModelFolderError(MANIFEST, `${source}: ${MANIFEST} lists no model`);
  const folders: ModelFolder[] = [];
  for (const entry of entries) {
    const dir = folderOf(entry);
    if (!dir)
      throw new ModelFolderError(
        MANIFEST,
        `${source}: ${MANIFEST}: model "${entry.id}" path "${entry.path}" must be "<folder>/model.json"`,
      );
    const prefix = `${dir}/`;
    const own: Record<string, Uint8Array> = {};
    for (const [path, bytes] of Object.entries(files)) if (path.startsWith(prefix)) own[path.slice(prefix.length)] = bytes;
    const folder: ModelFolder = { entry, files: own };
    await checkModelFolder(folder, source);
    folders.push(folder);
  }
  return folders;
}

/** When every path is under one top folder and index.json is not at the top, that folder is dropped. */
function stripTopFolder(files: Record<string, Uint8Array>): Record<string, Uint8Array> {
  // Directory entries of a zip come as empty "dir/" names: not files.
  const paths = Object.keys(files).filter((p) => !p.endsWith('/'));
  if (paths.includes(MANIFEST)) return pick(files, paths);
  const tops = new Set(paths.map((p) => p.split('/')[0]));
  if (tops.size !== 1 || !paths.every((p) => p.includes('/'))) return pick(files, paths);
  const top = `${[...tops][0]}/`;
  return Object.fromEntries(paths.map((p) => [p.slice(top.length), files[p]!]));
}

function pick(files: Record<string, Uint8Array>, paths: string[]): Record<string, Uint8Array> {
  return Object.fromEntries(paths.map((p) => [p, files[p]!]));
}

/**
 * Checks one folder's files against its manifest entry; throws a ModelFolderError naming the file.
 * model.json must be the entry's file; its weights must be there and intact.
 */
export async function checkModelFolder(folder: ModelFolder, source: string): Promise<void> {
  const { entry, files } = folder;
  const dir = folderOf(entry);
  const modelName = entry.path.slice(dir.length + 1);
  const at = (name: string) => `${source}: ${dir}/${name}`;
  const modelBytes = files[modelName];
  if (!modelBytes)
    throw new ModelFolderError(`${dir}/${modelName}`, `${at(modelName)} is missing (model "${entry.id}" in ${MANIFEST} points to it)`);
  let json: unknown;
  try {
    json = JSON.parse(strFromU8(modelBytes));
  } catch (error) {
    throw new ModelFolderError(`${dir}/${modelName}`, `${at(modelName)} is not JSON (${(error as Error).message})`);
  }
  if (entry.report !== undefined) {
    const reportName = entry.report.startsWith(`${dir}/`) ? entry.report.slice(dir.length + 1) : undefined;
    if (!reportName || !files[reportName])
      throw new ModelFolderError(
        entry.report,
        `${source}: ${entry.report} is missing (model "${entry.id}" in ${MANIFEST} names it as its report)`,
      );
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format === 'emotion-svm') {
    const weightsName = (json as { weights?: { file?: unknown } }).weights?.file;
    const name = typeof weightsName === 'string' ? weightsName : 'weights.bin';
    const weights = files[name];
    if (!weights) throw new ModelFolderError(`${dir}/${name}`, `${at(name)} is missing (the weights of SVM "${entry.id}")`);
    try {
      parseSvmModel(json, weights);
    } catch (error) {
      throw new ModelFolderError(`${dir}/${modelName}`, `${at(modelName)}: ${(error as Error).message}`);
    }
    return;
  }
  try {
    const parsed = parseLayersModelJson(json, at(modelName));
    const actual: WeightsFileActual[] = [];
    const parts: Uint8Array[] = [];
    for (const path of parsed.paths) {
      const bytes = files[path];
      if (!bytes)
        throw new ModelFolderError(`${dir}/${path}`, `${at(path)} is missing (a weight file of "${entry.id}", listed in its model.json)`);
      parts.push(bytes);
      actual.push({ path, display: at(path), byteLength: bytes.byteLength, ...(await sha256(bytes)) });
    }
    verifyWeightFiles(parsed, actual, at(modelName));
    const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.byteLength;
    }
    checkFiniteWeights(parsed.weightSpecs, all, at(modelName));
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    const file = (error as { file?: unknown }).file;
    throw new ModelFolderError(typeof file === 'string' ? file : `${dir}/${modelName}`, (error as Error).message);
  }
}

async function sha256(bytes: Uint8Array): Promise<{ sha256?: string }> {
  if (!globalThis.crypto?.subtle) return {};
  return { sha256: toHex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) };
}
