/**
 * A personal folder's labelled images through the batch extraction (the app's own face pipeline),
 * as crops and features ready for training. Images with no face, several faces or unreadable
 * files are reported and left out.
 */
import { relative, sep } from 'node:path';
import { IMAGE_PIXELS } from '../../core/labels.ts';
import { decodeFace, currentFeatures, readChunks } from '../extract/cache.ts';
import { runExtraction } from '../extract/extract.ts';
import { openFolder } from '../extract/sources.ts';
import { checkTrainingFolder, scanPersonalFolder, type PersonalScan } from './personal-dataset.ts';

export interface PersonalSample {
  /** Path relative to the folder, '/'-separated. */
  file: string;
  label: number;
  subject?: string;
}

export interface PersonalData {
  scan: PersonalScan;
  samples: PersonalSample[];
  /** samples.length * 2304 gray bytes, in sample order. */
  pixels: Uint8Array;
  /** One feature vector per sample. */
  features: Float32Array[];
  /** Labelled images left out, with why. */
  skipped: { file: string; reason: string }[];
}

export async function loadPersonalData(dir: string, log: (line: string) => void = () => undefined): Promise<PersonalData> {
  const scan = await scanPersonalFolder(dir);
  // Before the (slow) extraction: misspelled class folders, too few photos, a single class.
  const check = checkTrainingFolder(scan);
  for (const w of check.warnings) log(`warning: ${w}`);
  if (check.error) throw new Error(check.error);
  const source = await openFolder(scan.dir);
  const summary = await runExtraction(source, { log });
  const chunks = await readChunks(summary.dir);
  const byId = new Map(chunks.flatMap((c) => c.records.map((r) => [r.id, { r, names: c.blendshapeNames }] as const)));
  const samples: PersonalSample[] = [];
  const crops: Uint8Array[] = [];
  const features: Float32Array[] = [];
  const skipped: { file: string; reason: string }[] = scan.skippedFiles.map((s) => ({ file: relative(scan.dir, s.path).split(sep).join('/'), reason: s.reason }));
  for (const item of scan.items) {
    const file = relative(scan.dir, item.path).split(sep).join('/');
    const entry = byId.get(file);
    if (!entry) {
      skipped.push({ file, reason: 'not extracted' });
      continue;
    }
    const { r, names } = entry;
    if (r.status !== 'face') {
      skipped.push({ file, reason: r.status === 'no-face' ? 'no face found' : (r.error ?? r.status) });
      continue;
    }
    if (r.faces > 1) {
      skipped.push({ file, reason: `${r.faces} faces (a training photo must show one person)` });
      continue;
    }
    const face = decodeFace(r, names)!;
    samples.push({ file, label: item.label, ...(item.subject !== undefined ? { subject: item.subject } : {}) });
    crops.push(face.crop);
    features.push(currentFeatures(face));
  }
  const pixels = new Uint8Array(samples.length * IMAGE_PIXELS);
  crops.forEach((c, i) => pixels.set(c, i * IMAGE_PIXELS));
  return { scan, samples, pixels, features, skipped };
}
