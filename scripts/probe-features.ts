/**
 * npm run probe:features -- --faces DIR [--class angry] [--top 12]
 *
 * A diagnosis for real-face accuracy, not a model: does each expression show in the AU-style
 * features (src/core/features) of a labelled photo folder as it does in FER2013, which every general
 * model learnt from? On both extraction caches (the app's own landmarks and blendshapes: npm run
 * extract -- DIR, and -- the FER2013 file), features recomputed by the current code, it prints:
 *   1. per class: how alike the class's departure from neutral is in the two sets (the correlation,
 *      over the features, of the effect sizes below), and which feature departs most in each;
 *   2. for --class: the features that depart most from neutral in FER2013 and in the folder, each
 *      as an effect size, (class mean - neutral mean) / the standard deviation of FER2013's neutral
 *      faces, beside where the folder's neutral faces sit against FER2013's, in the same unit.
 * FER2013's side is its Training and PublicTest faces (never PrivateTest).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FEATURE_NAMES } from '../src/core/features/index.ts';
import { EMOTIONS, NUM_CLASSES } from '../src/core/labels.ts';
import { resolveFer2013Path } from '../src/train/data/fer2013.ts';
import { parseChoice, parseInteger, parseOptions, readCommandLine, UsageError } from '../src/train/util/cli-args.ts';
import { currentFeatures, decodeFace, readChunks } from '../src/train/extract/cache.ts';
import { cacheDirFor } from '../src/train/extract/extract.ts';
import { openFer2013, openFolder } from '../src/train/extract/sources.ts';

const USAGE = `usage: npm run probe:features -- --faces DIR [--class angry] [--top 12]

  --faces    a labelled photo folder (<dir>/<emotion>/*) already extracted (npm run extract -- DIR);
             FER2013 must be extracted too (npm run extract -- ../shared/data/fer2013/fer2013.csv.gz)
  --class    also list, for this class, the features that depart most from neutral in each set
  --top      how many features to list (default 12)`;

export const NEUTRAL = EMOTIONS.indexOf('neutral');

/** Feature rows grouped by class (EMOTIONS order). */
export type ByClass = Float32Array[][];

/** Column mean and standard deviation over the finite values (NaN where there are none). */
export function columnStats(rows: readonly Float32Array[], j: number): { mean: number; sd: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (const r of rows) {
    const v = r[j]!;
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

export interface FeatureContrast {
  name: string;
  /** (class mean - neutral mean) / FER2013 neutral sd, in FER2013 and in the folder. */
  fer: number;
  folder: number;
  /** (folder neutral mean - FER2013 neutral mean) / FER2013 neutral sd. */
  neutralOffset: number;
}

/**
 * Each feature's departure from neutral for class `k` in both sets, in standard deviations of
 * FER2013's neutral faces (features constant there are left out).
 */
export function featureContrasts(fer: ByClass, folder: ByClass, k: number, names: readonly string[]): FeatureContrast[] {
  const out: FeatureContrast[] = [];
  names.forEach((name, j) => {
    const fn = columnStats(fer[NEUTRAL]!, j);
    if (!(fn.sd > 1e-9)) return;
    const unit = (v: number) => v / fn.sd;
    const on = columnStats(folder[NEUTRAL]!, j).mean;
    out.push({
      name,
      fer: unit(columnStats(fer[k]!, j).mean - fn.mean),
      folder: unit(columnStats(folder[k]!, j).mean - on),
      neutralOffset: unit(on - fn.mean),
    });
  });
  return out.filter((c) => Number.isFinite(c.fer) && Number.isFinite(c.folder));
}

/** Pearson correlation of two equally long lists. */
export function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

async function featuresByClass(dir: string, keep: (split: string | undefined) => boolean): Promise<ByClass> {
  const out: ByClass = Array.from({ length: NUM_CLASSES }, () => []);
  for (const chunk of await readChunks(dir))
    for (const r of chunk.records) {
      if (r.label === undefined || r.status !== 'face' || !keep(r.split)) continue;
      const face = decodeFace(r, chunk.blendshapeNames);
      if (face) out[r.label]!.push(currentFeatures(face));
    }
  return out;
}

const signed = (v: number): string => (v >= 0 ? '+' : '') + v.toFixed(2);

/** The options, checked; a UsageError says what is wrong. */
export function parseCommandLine(args: readonly string[]): { faces: string; k: number | undefined; top: number } {
  const { values } = parseOptions(args, { faces: { type: 'string' }, class: { type: 'string' }, top: { type: 'string', default: '12' } });
  if (!values.faces) throw new UsageError('--faces DIR is required');
  if (!statSync(values.faces, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--faces ${values.faces}: not a folder`);
  const classes = EMOTIONS.filter((e) => e !== 'neutral');
  const k = values.class === undefined ? undefined : EMOTIONS.indexOf(parseChoice('class', values.class, classes));
  return { faces: values.faces, k, top: parseInteger('top', values.top, { min: 1 }) };
}

async function main(): Promise<number> {
  const line = readCommandLine('probe:features', USAGE, process.argv.slice(2), parseCommandLine);
  if ('exitCode' in line) return line.exitCode;
  const { k, top } = line.options;
  const values = { faces: line.options.faces };
  const root = resolve(import.meta.dirname, '..');
  const folderDir = cacheDirFor(await openFolder(values.faces));
  const ferPath = resolveFer2013Path(undefined, root);
  const ferDir = cacheDirFor(await openFer2013(ferPath));
  for (const [dir, what] of [
    [folderDir, values.faces],
    [ferDir, ferPath],
  ] as const)
    if (!existsSync(join(dir, 'meta.json'))) {
      console.error(`probe:features: no extraction cache for ${what} at ${dir}: run npm run extract -- ${what} first`);
      return 1;
    }
  const folder = await featuresByClass(folderDir, () => true);
  const fer = await featuresByClass(ferDir, (split) => split === 'train' || split === 'val');
  if (folder[NEUTRAL]!.length === 0) {
    console.error(`probe:features: ${values.faces} has no neutral face with a face found: every figure is against neutral`);
    return 1;
  }
  const names = [...FEATURE_NAMES];
  console.log(
    `AU-style features (${names.length}), each class against neutral, in standard deviations of FER2013's neutral faces ` +
      `(FER2013 Training + PublicTest: ${fer.map((r) => r.length).join('/')} faces; ${values.faces}: ${folder.map((r) => r.length).join('/')}, in ${EMOTIONS.join('/')} order)`,
  );
  console.log(`class     alike (r)  ${'departs most in FER2013'.padEnd(42)} departs most in the folder`);
  EMOTIONS.forEach((e, c) => {
    if (c === NEUTRAL || folder[c]!.length === 0) return;
    const cs = featureContrasts(fer, folder, c, names);
    const most = (key: 'fer' | 'folder') => cs.reduce((a, b) => (Math.abs(b[key]) > Math.abs(a[key]) ? b : a));
    const f = most('fer');
    const g = most('folder');
    const r = correlation(
      cs.map((x) => x.fer),
      cs.map((x) => x.folder),
    );
    console.log(
      `${e.padEnd(9)} ${r.toFixed(2).padStart(9)}  ${`${f.name} ${signed(f.fer)} (folder ${signed(f.folder)})`.padEnd(42)} ${g.name} ${signed(g.folder)} (FER2013 ${signed(g.fer)})`,
    );
  });
  if (k !== undefined) {
    const cs = featureContrasts(fer, folder, k, names);
    const table = (title: string, key: 'fer' | 'folder') => {
      console.log(`\n${EMOTIONS[k]}: the ${top} features that depart most from neutral in ${title}`);
      console.log(`${'feature'.padEnd(28)} ${'FER2013'.padStart(8)} ${'folder'.padStart(8)}   folder neutral - FER2013 neutral`);
      for (const c of [...cs].sort((a, b) => Math.abs(b[key]) - Math.abs(a[key])).slice(0, top))
        console.log(
          `${c.name.padEnd(28)} ${signed(c.fer).padStart(8)} ${signed(c.folder).padStart(8)}   ${signed(c.neutralOffset).padStart(8)}`,
        );
    };
    table('FER2013', 'fer');
    table('the folder', 'folder');
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
