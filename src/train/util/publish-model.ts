/**
 * The one way a trained model reaches its folder (CNN training, finetune, SVMs): check the target
 * is safe to replace, swap the new folder in crash-safely, then add it to the parent index.json.
 * Publishing replaces the whole folder, so only an empty folder or one holding nothing but our
 * model artifacts may be replaced; never the working folder, the project, or anything above them.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelEntry, ModelEntryDraft } from '../../core/contracts/index.ts';
import { recoverDirLeftovers, replaceDirAtomic } from './atomic.ts';
import { UsageError } from './cli-args.ts';
import { readManifest, updateManifest } from './manifest.ts';

/**
 * Every file our model writers put in a model folder: saveLayersModel (model-io.ts) and
 * writeSvmModel (svm/export.ts) write model.json + weights.bin, writeReportFiles (report.ts) the
 * report and its two charts.
 */
export const MODEL_ARTIFACTS: readonly string[] = ['model.json', 'weights.bin', 'report.json', 'confusion.svg', 'curves.svg'];

/** writeFileAtomic's temp file for an artifact, left if a later in-place write was killed. */
const ARTIFACT_TEMP = new RegExp(`^\\.(${MODEL_ARTIFACTS.map((n) => n.replace(/\./g, '\\.')).join('|')})\\.tmp-\\d+-[0-9a-f]{8}$`);

const HOW = 'publishing replaces the whole folder; choose a new or empty folder, or an existing model folder (e.g. models/my-model)';

/** A refused output folder: a usage error (the CLIs exit 2); nothing was touched. */
export class OutFolderRefused extends UsageError {
  override name = 'OutFolderRefused';
}

function isInsideOrSame(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
}

/** realpath of `p`, or of its nearest existing ancestor joined with the rest (symlinked parents resolved). */
async function realOrResolved(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realOrResolved(parent), basename(abs));
  }
}

/** Folders holding a package.json: from `cwd` upwards, and this project's own root. */
async function projectRoots(cwd: string): Promise<string[]> {
  const roots = new Set<string>();
  const walk = (from: string) => {
    for (let d = from; ; d = dirname(d)) {
      if (existsSync(join(d, 'package.json'))) roots.add(d);
      if (dirname(d) === d) break;
    }
  };
  walk(cwd);
  // This file's project even when run from elsewhere (npm run sets cwd, a script may not).
  const here = await realOrResolved(dirname(fileURLToPath(import.meta.url)));
  for (let d = here; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) {
      roots.add(d);
      break;
    }
    if (dirname(d) === d) break;
  }
  return [...roots];
}

export interface OutCheckOptions {
  /** Defaults to process.cwd(). */
  cwd?: string;
  /** Also check the parent's index.json is ours or absent (default true). */
  manifest?: boolean;
  /** How the folder was given, for messages (default "--out"). */
  option?: string;
  log?: (line: string) => void;
}

/**
 * Throws OutFolderRefused unless `outDir` can be replaced without losing anything: missing, empty,
 * or holding only MODEL_ARTIFACTS; not the working folder, a project root, or a parent of either.
 * Leftovers of an interrupted publish are recovered first (a backup is put back if the folder
 * itself went missing). Returns the absolute path.
 */
export async function assertPublishableOut(outDir: string, o: OutCheckOptions = {}): Promise<string> {
  const out = resolve(outDir);
  const what = `${o.option ?? '--out'} ${out}`;
  const real = await realOrResolved(out);
  const cwd = await realOrResolved(o.cwd ?? process.cwd());
  for (const root of await projectRoots(cwd)) {
    if (isInsideOrSame(root, real)) {
      throw new OutFolderRefused(`${what} is the project folder ${root} (it holds package.json) or one of its parents; ${HOW}`);
    }
  }
  if (isInsideOrSame(cwd, real)) {
    throw new OutFolderRefused(`${what} is the current working folder or one of its parents; ${HOW}`);
  }
  for (const note of await recoverDirLeftovers(out)) (o.log ?? console.warn)(note);
  let info;
  try {
    info = await lstat(out);
  } catch {
    info = undefined;
  }
  if (info?.isSymbolicLink()) throw new OutFolderRefused(`${what} is a symbolic link; give the folder it points to, or a new folder`);
  if (info && !info.isDirectory()) throw new OutFolderRefused(`${what} is a file, not a folder; ${HOW}`);
  if (info) {
    const foreign = (await readdir(out)).filter((n) => !MODEL_ARTIFACTS.includes(n) && !ARTIFACT_TEMP.test(n)).sort();
    if (foreign.length > 0) {
      const list = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, ... (${foreign.length} in all)` : '');
      throw new OutFolderRefused(
        `${what} is not a model folder: it holds ${list}, which publishing would delete, so nothing was written. ` +
          `A model folder holds only ${MODEL_ARTIFACTS.join(', ')}; ${HOW}`,
      );
    }
  }
  if (o.manifest ?? true) {
    try {
      await readManifest(dirname(out));
    } catch (e) {
      throw new OutFolderRefused((e as Error).message);
    }
  }
  return out;
}

export interface PublishModelOptions extends Omit<OutCheckOptions, 'manifest'> {
  /** The parent folder's index.json entry; omit to leave index.json alone. */
  manifestEntry?: ModelEntryDraft;
}

/**
 * Checks `outDir` (assertPublishableOut), fills a new folder with `fill`, swaps it in, then adds or
 * replaces its entry in the parent's index.json (paths model.json and report.json inside it).
 */
export async function publishModelDir(
  outDir: string,
  fill: (tmpDir: string) => Promise<void>,
  o: PublishModelOptions = {},
): Promise<string> {
  const out = await assertPublishableOut(outDir, { ...o, manifest: o.manifestEntry !== undefined });
  await replaceDirAtomic(out, fill, { log: o.log });
  if (o.manifestEntry) {
    const id = basename(out);
    const { name, kind, input } = o.manifestEntry;
    // The key order of the committed entries, so republishing a model rewrites no bytes but its own.
    const members = 'members' in o.manifestEntry ? { members: o.manifestEntry.members } : {};
    const entry = {
      id: o.manifestEntry.id,
      name,
      kind,
      path: `${id}/model.json`,
      report: `${id}/report.json`,
      ...members,
      input,
    } as ModelEntry;
    const before = (await readManifest(dirname(out))).find((e) => e.id === entry.id);
    await updateManifest(dirname(out), entry);
    // The old model's neutral reference does not fit the new one: say how to make its own.
    if (before?.neutral)
      o.log?.(
        `${entry.id}: its neutral reference (for the live view's neutral face) was the old model's and was removed; ` +
          `npm run train -- neutral-reference --models ${entry.id} --models-dir ${dirname(out)} makes the new one's`,
      );
  }
  return out;
}
