/**
 * The real-face evaluation as text: the markdown table for models/REPORT.md ("Real faces") and
 * the per-model confusion matrices the command prints.
 */
import { EMOTIONS } from '../../core/labels.ts';
import type { ModelScore, RealFacesResult } from './evaluate-faces.ts';

const fixed = (v: number | null, digits = 3): string => (v === null ? '–' : v.toFixed(digits));

function inSampleCell(m: ModelScore): string {
  if (m.inSample === true) return `**yes** (trained on ${m.trainedOn?.name ?? 'this folder'})`;
  if (m.inSample === null) return 'unknown';
  return 'no';
}

/**
 * A caption, one row per model (accuracy, macro F1, recall per emotion, in-sample flag; the best
 * out-of-sample model in bold) and the command that produced it, when the result records one.
 */
export function renderRealFacesTable(result: RealFacesResult): string {
  const c = result.counts;
  const nb = result.neutralBaseline;
  const caption =
    `**${result.set}**${nb ? ` with each person's neutral baseline (leave-one-out${nb.pick === 'auto' ? ', picked without labels' : ''})` : ''}: ${c.scored} labelled photos through the app's pipeline; no face found in ${c.noFace} (counted wrong for every model)` +
    `${c.unreadable ? `; ${c.unreadable} unreadable file${c.unreadable === 1 ? '' : 's'} left out` : ''}. ` +
    `Per-emotion columns are recall (photos per emotion: ${EMOTIONS.map((e) => `${e} ${result.support[e]}`).join(', ')}). ` +
    (result.best ? `Best out-of-sample model: **${result.best}**.` : 'No out-of-sample model to name best.') +
    (nb
      ? ` Each photo moved by the mean of ${nb.pick === 'auto' ? "the most relaxed of the same person's other photos (by the models' p(neutral), no labels)" : "the same person's other neutral photos"}: ${nb.moved} of ${c.withFace} photos with a face moved` +
        ` (${nb.people} people; ${nb.noSubject} name${nb.noSubject === 1 ? '' : 's'} naming no person, ${nb.noOtherNeutral} without another ${nb.pick === 'auto' ? '' : 'neutral '}photo of the person)` +
        `${nb.withoutReference.length ? `; no neutral reference, scored as they are: ${nb.withoutReference.join(', ')}` : ''}.`
      : '');
  const header = `| model | kind | accuracy | macro F1 | ${EMOTIONS.join(' | ')} | in-sample |`;
  const rule = `|---|---|---:|---:|${EMOTIONS.map(() => '---:|').join('')}---|`;
  const rows = result.models.map((m) => {
    const id = m.id === result.best ? `**${m.id}**` : m.id;
    return `| ${id} | ${m.kind} | ${fixed(m.accuracy)} | ${fixed(m.macroF1)} | ${EMOTIONS.map((e) => fixed(m.recall[e], 2)).join(' | ')} | ${inSampleCell(m)} |`;
  });
  const lines = [caption, '', header, rule, ...rows];
  if (result.notRun.length) lines.push('', `Not run: ${result.notRun.map((m) => `${m.id} (${m.status})`).join(', ')}.`);
  if (result.command) lines.push('', `Command: \`${result.command}\``);
  return lines.join('\n') + '\n';
}

/** One model's confusion matrix as aligned text: rows are the true emotion. */
export function renderConfusion(result: RealFacesResult, m: ModelScore): string {
  const cols = result.confusionColumns;
  const w = Math.max(...cols.map((s) => s.length), ...EMOTIONS.map((e) => e.length)) + 1;
  const head = `${'true \\ predicted'.padEnd(w + 8)}${cols.map((s) => s.padStart(w)).join('')}`;
  const body = m.confusion.map((row, t) => `${EMOTIONS[t]!.padEnd(w + 8)}${row.map((v) => String(v).padStart(w)).join('')}`);
  return [`${m.id}: ${m.correct}/${m.images} right (accuracy ${fixed(m.accuracy)}, macro F1 ${fixed(m.macroF1)})`, head, ...body].join(
    '\n',
  );
}
