/**
 * Features as a table for people to inspect: OpenFace-like columns (file_name, success, AU01_r,
 * ..., then the other named features, label), one row per item of an extraction.
 */
import { EMOTIONS } from '../../core/labels.ts';
import { FEATURE_NAMES } from '../../core/features/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { currentFeatures, decodeFace, readChunks } from './cache.ts';

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export async function exportFeaturesCsv(cacheDir: string, file: string): Promise<number> {
  const chunks = await readChunks(cacheDir);
  const lines = [['file_name', 'success', ...FEATURE_NAMES, 'label'].join(',')];
  for (const chunk of chunks) {
    for (const r of chunk.records) {
      const face = r.status === 'face' ? decodeFace(r, chunk.blendshapeNames) : undefined;
      const values = face ? Array.from(currentFeatures(face), (v) => v.toFixed(5)) : FEATURE_NAMES.map(() => '');
      const label = r.label !== undefined ? EMOTIONS[r.label]! : '';
      lines.push([csvCell(r.id), face ? '1' : '0', ...values, label].join(','));
    }
  }
  await writeFileAtomic(file, lines.join('\n') + '\n');
  return lines.length - 1;
}
