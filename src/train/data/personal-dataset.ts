/**
 * A user's own labelled photos: one folder per emotion, plus an optional `unknown/` folder of
 * photos to predict and an optional `unknown_labels.csv` answer key for them.
 *
 *   <dir>/
 *     happy/ sad/ Anger/ ...   labelled photos (*.jpg, *.jpeg, *.png, any case); folder names are
 *                              matched with src/core/label-aliases.ts
 *     unknown/                 photos to predict (not training data)
 *     unknown_labels.csv       optional: `file,label` lines for the photos in unknown/
 *
 * Also the splits that give honest figures on such small sets: a seeded stratified split,
 * repeated stratified splits, and leave-one-subject-out folds.
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { EMOTIONS } from '../../core/labels.ts';
import { LABEL_ALIASES, labelFromFolderName } from '../../core/label-aliases.ts';
import { mulberry32 } from '../../core/random.ts';
import { MAX_IMAGE_BYTES, unreadableReason } from './file-scan.ts';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];
/** Folder (matched case-insensitively) that holds the photos to predict. */
export const UNKNOWN_FOLDER = 'unknown';
/** Optional answer key for unknown/, at the top level of the folder. */
export const UNKNOWN_LABELS_FILE = 'unknown_labels.csv';

export interface PersonalItem {
  path: string;
  /** Label index, EMOTIONS order. */
  label: number;
  /** Person in the photo, when the file name carries one (see subjectFromFileName). */
  subject?: string;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface PersonalScan {
  /** Absolute folder that was scanned. */
  dir: string;
  /** Labelled images, sorted by folder name, then file name. */
  items: PersonalItem[];
  /** Top-level folders that are not labels (unknown/ included), sorted. */
  ignoredFolders: string[];
  /** Image paths in unknown/, sorted. */
  unknown: string[];
  /** unknown_labels.csv as file name -> label index, when the file exists. */
  unknownLabels?: Map<string, number>;
  /** Label indices with at least one labelled image, ascending. */
  classesPresent: number[];
  /** Files in the class folders and unknown/ that were not used, with the reason. */
  skippedFiles: SkippedFile[];
}

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/**
 * The subject (person) encoded in a JAFFE-style file name, e.g. `KA.AN1.39.tiff` or
 * `KA.AN2.40.png` -> `KA`.
 *
 * Rule: the name (directories stripped) must be `<letters>.<2 letters><digits>.<digits>` with an
 * optional final `.<extension>`; the subject is the part before the first '.'. Any other name
 * (`IMG_0042.jpg`, `me.smile.png`, ...) gives undefined.
 */
export function subjectFromFileName(name: string): string | undefined {
  const file = name.split(/[\\/]/).pop() ?? '';
  const m = /^([A-Za-z]+)\.[A-Za-z]{2}\d+\.\d+(?:\.[A-Za-z0-9]+)?$/.exec(file);
  return m ? m[1] : undefined;
}

/** The layout help shown with scan errors. */
export function expectedLayout(dir: string): string {
  const aliases = EMOTIONS.map((e) => LABEL_ALIASES[e].join('/')).join(', ');
  return [
    'Expected layout:',
    `  ${dir}/`,
    '    happy/                photos of that emotion (.jpg, .jpeg or .png)',
    '    sad/                  ... one folder per emotion; any subset of the 7 classes',
    '    unknown/              optional: photos to predict (not used for training)',
    '    unknown_labels.csv    optional: "file,label" answer key for unknown/',
    `  Folder names (case-insensitive): ${aliases}.`,
  ].join('\n');
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface DirEntry {
  name: string;
  path: string;
  isDir: boolean;
  isFile: boolean;
  /** Set when the entry must not be opened: a FIFO, a device, a socket, a broken link, or a file over MAX_IMAGE_BYTES. */
  unreadable?: string;
}

/**
 * Directory entries sorted by name, each classified with lstat (links: stat of what they point
 * at) before anything is opened.
 */
async function listDir(dir: string): Promise<DirEntry[]> {
  const names = (await readdir(dir)).sort(byName);
  const out: DirEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let s: Stats;
    try {
      s = await lstat(path);
      if (s.isSymbolicLink()) s = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      out.push({ name, path, isDir: false, isFile: false, unreadable: code === 'ENOENT' ? 'a broken link' : `could not be read (${code})` });
      continue;
    }
    const isDir = s.isDirectory();
    const reason = isDir ? undefined : unreadableReason(s, MAX_IMAGE_BYTES);
    out.push({ name, path, isDir, isFile: s.isFile(), ...(reason ? { unreadable: reason } : {}) });
  }
  return out;
}

/** Minimal CSV field split: commas, optional double quotes around a field. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  fields.push(cur.trim());
  return fields;
}

/**
 * Parses an unknown_labels.csv: an optional `file,label` header, then one `file,label` line per
 * photo. The label is an emotion name or alias (case-insensitive) or an index 0..6; the file is
 * keyed by its base name. Throws with the line number on a bad line.
 */
export function parseUnknownLabels(text: string, source = UNKNOWN_LABELS_FILE): Map<string, number> {
  const labels = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const [file = '', label = ''] = csvFields(line);
    if (i === 0 && file.toLowerCase() === 'file' && label.toLowerCase() === 'label') return;
    const index = /^\d+$/.test(label) ? Number(label) : labelFromFolderName(label);
    if (file === '' || index === undefined || index >= EMOTIONS.length) {
      throw new Error(`${source}:${i + 1}: expected "file,label" with a label among ${EMOTIONS.join(', ')} (or 0-${EMOTIONS.length - 1}), got "${line}"`);
    }
    labels.set(basename(file.replace(/\\/g, '/')), index);
  });
  return labels;
}

/**
 * Lists a personal photo folder (see the file comment for the layout). Throws, naming the folder
 * and showing the expected layout, when the folder is missing or holds no labelled image.
 * Hidden entries (names starting with '.') are passed over silently; top-level files other than
 * unknown_labels.csv (a README, a manifest) are not read.
 */
export async function scanPersonalFolder(dir: string): Promise<PersonalScan> {
  const root = resolve(dir);
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch {
    throw new Error(`Personal photo folder not found: ${root}\n${expectedLayout(root)}`);
  }
  if (!rootStat.isDirectory()) throw new Error(`Not a folder: ${root}\n${expectedLayout(root)}`);

  const items: PersonalItem[] = [];
  const ignoredFolders: string[] = [];
  const unknown: string[] = [];
  const skippedFiles: SkippedFile[] = [];
  let unknownLabels: Map<string, number> | undefined;

  /** Images directly inside `folder`; everything else goes to skippedFiles. */
  const imagesIn = async (folder: string): Promise<string[]> => {
    const images: string[] = [];
    for (const entry of await listDir(folder)) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDir) skippedFiles.push({ path: entry.path, reason: 'subfolder (only files directly in the folder are read)' });
      else if (!entry.isFile) skippedFiles.push({ path: entry.path, reason: entry.unreadable ?? 'not a regular file' });
      else if (!isImageFile(entry.name)) skippedFiles.push({ path: entry.path, reason: `not an image (${IMAGE_EXTENSIONS.join(', ')})` });
      else if (entry.unreadable) skippedFiles.push({ path: entry.path, reason: entry.unreadable });
      else images.push(entry.path);
    }
    return images;
  };

  for (const entry of await listDir(root)) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDir) {
      const label = labelFromFolderName(entry.name);
      if (label !== undefined) {
        for (const path of await imagesIn(entry.path)) {
          const subject = subjectFromFileName(basename(path));
          items.push(subject === undefined ? { path, label } : { path, label, subject });
        }
      } else {
        ignoredFolders.push(entry.name);
        if (entry.name.toLowerCase() === UNKNOWN_FOLDER) unknown.push(...(await imagesIn(entry.path)));
      }
    } else if (entry.isFile && !entry.unreadable && entry.name.toLowerCase() === UNKNOWN_LABELS_FILE) {
      unknownLabels = parseUnknownLabels(await readFile(entry.path, 'utf8'), entry.path);
    } else if (entry.isFile && isImageFile(entry.name)) {
      skippedFiles.push({ path: entry.path, reason: 'image outside a class folder' });
    }
  }

  if (items.length === 0) {
    const seen = ignoredFolders.length ? `Found only: ${ignoredFolders.map((f) => `${f}/`).join(', ')}.` : 'Found no class folders.';
    throw new Error(`No labelled images in ${root}. ${seen}\n${expectedLayout(root)}`);
  }
  const classesPresent = [...new Set(items.map((i) => i.label))].sort((a, b) => a - b);
  unknown.sort(byName);
  return { dir: root, items, ignoredFolders, unknown, ...(unknownLabels ? { unknownLabels } : {}), classesPresent, skippedFiles };
}

/** Classes with fewer photos than this get a warning: too few to learn from and to validate on. */
export const MIN_PHOTOS_PER_CLASS = 5;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The accepted folder names, for messages: "angry/anger, disgust/disgusted, ...". */
export function acceptedFolderNames(): string {
  return EMOTIONS.map((e) => LABEL_ALIASES[e].join('/')).join(', ');
}

/**
 * What is wrong with a personal folder as training data, before any photo is processed:
 * warnings for top-level folders that are neither an emotion name or alias nor unknown/ (their
 * photos are not used: most likely a misspelling) and for classes with fewer than `minPerClass`
 * photos; an error when fewer than 2 classes have photos (nothing to tell apart).
 */
export function checkTrainingFolder(scan: PersonalScan, minPerClass = MIN_PHOTOS_PER_CLASS): { warnings: string[]; error?: string } {
  const warnings: string[] = [];
  const aliases = Object.values(LABEL_ALIASES).flat();
  for (const folder of scan.ignoredFolders) {
    if (folder.toLowerCase() === UNKNOWN_FOLDER) continue;
    const lower = folder.trim().toLowerCase();
    const near = aliases.filter((a) => editDistance(lower, a) <= 2).sort((a, b) => editDistance(lower, a) - editDistance(lower, b))[0];
    warnings.push(
      `folder "${folder}/" in ${scan.dir} is not an emotion name or alias, so its photos are not used` +
        `${near ? ` (did you mean "${near}"?)` : ''}. Accepted names (any case): ${acceptedFolderNames()}; ` +
        `${UNKNOWN_FOLDER}/ holds photos to predict.`,
    );
  }
  const byClass = new Map<number, { n: number; folders: Set<string> }>();
  for (const item of scan.items) {
    const c = byClass.get(item.label) ?? { n: 0, folders: new Set<string>() };
    c.n++;
    c.folders.add(basename(join(item.path, '..')));
    byClass.set(item.label, c);
  }
  const describe = (label: number) => {
    const c = byClass.get(label)!;
    return `${EMOTIONS[label]} (${c.n} photo${c.n === 1 ? '' : 's'} in ${[...c.folders].map((f) => `${f}/`).join(', ')})`;
  };
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    if (byClass.get(label)!.n < minPerClass) {
      warnings.push(`class ${describe(label)} has fewer than ${minPerClass} photos: too few to learn from or to validate on (20 or more per class is better)`);
    }
  }
  if (byClass.size < 2) {
    const only = byClass.size === 1 ? `only one class has photos: ${describe([...byClass.keys()][0]!)}` : 'no class has photos';
    return {
      warnings,
      error: `${scan.dir}: ${only}. Training needs photos of at least 2 emotions, in folders named after them (any case): ${acceptedFolderNames()}.`,
    };
  }
  return { warnings };
}

export interface Split {
  /** Indices into the input arrays, ascending. */
  train: number[];
  val: number[];
}

function checkFraction(valFraction: number): void {
  if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
}

/**
 * Seeded stratified split: each class puts round(n * valFraction) of its n items in `val`,
 * clamped so that a class with >= 2 items has at least one item in each part (a class with one
 * item stays in `train`). The same labels, fraction and seed always give the same split.
 */
export function stratifiedSplit(labels: readonly number[], valFraction: number, seed: number): Split {
  checkFraction(valFraction);
  const rand = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label);
    if (list) list.push(i);
    else byClass.set(label, [i]);
  });
  const train: number[] = [];
  const val: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(label)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const n = idx.length;
    const nVal = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
    val.push(...idx.slice(0, nVal));
    train.push(...idx.slice(nVal));
  }
  const asc = (a: number, b: number) => a - b;
  return { train: train.sort(asc), val: val.sort(asc) };
}

/**
 * `repeats` stratified splits with seeds derived from `seed`, for a mean and spread of the
 * validation score instead of one lucky (or unlucky) split.
 */
export function repeatedStratifiedSplits(labels: readonly number[], valFraction: number, repeats: number, seed: number): Split[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  const seeds = mulberry32(seed);
  return Array.from({ length: repeats }, () => stratifiedSplit(labels, valFraction, Math.floor(seeds() * 2 ** 32)));
}

export interface SubjectFold extends Split {
  /** The held-out subject: all of its items, and only those, are in `val`. */
  subject: string;
}

/**
 * One fold per subject (sorted by subject): that subject's items are the validation set, every
 * other item trains. This measures how a model does on a person it has never seen. Items without
 * a subject (undefined) are in `train` of every fold. Throws with fewer than 2 subjects.
 */
export function leaveOneSubjectOutFolds(subjects: readonly (string | undefined)[]): SubjectFold[] {
  const distinct = [...new Set(subjects.filter((s): s is string => s !== undefined))].sort(byName);
  if (distinct.length < 2) throw new Error(`leave-one-subject-out needs at least 2 subjects, found ${distinct.length}`);
  return distinct.map((subject) => {
    const train: number[] = [];
    const val: number[] = [];
    subjects.forEach((s, i) => (s === subject ? val : train).push(i));
    return { subject, train, val };
  });
}
