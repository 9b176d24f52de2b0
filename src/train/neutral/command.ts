/**
 * npm run train -- neutral-reference [--models a,b] [--models-dir models] [--data PATH]
 *
 * Writes each general model's neutral reference (its mean log-probabilities over the FER2013
 * Training neutral faces, src/core/neutral-baseline.ts) into its models/index.json entry: what a
 * person's captured neutral face is moved to. Default models: every entry whose report.json says
 * it was trained on FER2013 (a personal model is the person's own and is never moved).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelEntry } from '../../core/contracts/index.ts';
import { EMOTIONS } from '../../core/labels.ts';
import { resolveFer2013Path } from '../data/fer2013.ts';
import { initWasm } from '../kernels/backend.ts';
import { UsageError } from '../util/cli-args.ts';
import { readManifest, setEntryField } from '../util/manifest.ts';
import { loadNeutralTrainingFaces, neutralReferences } from './reference.ts';

export interface NeutralReferenceOptions {
  /** Model ids; default: the entries trained on FER2013. */
  models?: string[];
  modelsDir: string;
  data?: string;
  log: (line: string) => void;
}

/** Whether an entry's report.json names FER2013 as its training data. */
async function trainedOnFer2013(modelsDir: string, e: ModelEntry): Promise<boolean> {
  if (!e.report) return false;
  try {
    const report = JSON.parse(await readFile(join(modelsDir, e.report), 'utf8')) as { dataset?: { name?: unknown } };
    return report.dataset?.name === 'FER2013';
  } catch {
    return false;
  }
}

export async function runNeutralReference(o: NeutralReferenceOptions): Promise<void> {
  const all = await readManifest(o.modelsDir);
  const file = join(o.modelsDir, 'index.json');
  if (all.length === 0) throw new UsageError(`${file} lists no models`);
  let entries: ModelEntry[];
  if (o.models) {
    entries = o.models.map((id) => {
      const e = all.find((x) => x.id === id);
      if (!e) throw new UsageError(`--models: no model "${id}" in ${file} (it lists ${all.map((x) => x.id).join(', ')})`);
      return e;
    });
  } else {
    entries = [];
    for (const e of all) if (await trainedOnFer2013(o.modelsDir, e)) entries.push(e);
    if (entries.length === 0)
      throw new UsageError(`no model of ${file} was trained on FER2013 (by its report.json); name them with --models`);
  }
  o.log(`models: ${entries.map((e) => e.id).join(', ')}`);
  const faces = await loadNeutralTrainingFaces(resolveFer2013Path(o.data), o.log);
  await initWasm(true);
  const refs = await neutralReferences(entries, all, o.modelsDir, faces, o.log);
  for (const [id, ref] of refs) {
    const p = ref.logProbs.map((v) => Math.exp(v).toFixed(3));
    o.log(`  ${id.padEnd(22)} geometric-mean probabilities: ${EMOTIONS.map((e, k) => `${e} ${p[k]}`).join(', ')}`);
  }
  await setEntryField(o.modelsDir, 'neutral', refs);
  o.log(`wrote the "neutral" field of ${refs.size} entries of ${file}`);
}
