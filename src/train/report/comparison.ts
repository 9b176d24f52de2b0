/**
 * Model comparison for `npm run report`: models/REPORT.md and models/report.json, built from each
 * model's report(s), its size and measured latency, and its predictions on the user's unknown/
 * photos (pure; no I/O). Every sentence of the summary is computed from the numbers.
 *
 * Ordering is fixed, so the same input gives byte-identical output: models by id, evaluation sets
 * by name, unknown images by file name, classes in EMOTIONS order (other labels after, sorted).
 */
import { EMOTIONS } from '../../core/labels.ts';
import { labelFromFolderName } from '../../core/label-aliases.ts';
import type {
  ComparisonJson,
  ComparisonModel,
  ComparisonRow,
  ComparisonSet,
  ComparisonUnknown,
  Leader,
  UnknownImageRow,
} from '../../core/contracts/index.ts';
// The output (models/report.json) is a contract the app reads: its types live in core/contracts.

/** The parts of a ModelReport (contracts/report.ts) the comparison reads; a ModelReport fits. */
export interface ComparisonReportInput {
  accuracy: number;
  macroAvg: { f1: number };
  perClass: { label: string; f1: number; support?: number }[];
  labels?: string[];
  dataset?: { name?: string; evaluatedOn?: string; note?: string };
  notes?: string;
}

export interface ComparisonModelInput {
  id: string;
  name: string;
  kind: string;
  sizeBytes: number;
  latencyMsPerFace?: number;
  /** Evaluation set name (e.g. 'FER2013 PrivateTest') -> that model's report on it. */
  reports: Record<string, ComparisonReportInput>;
}

export interface UnknownPrediction {
  label: string;
  prob: number;
}

export interface ComparisonInput {
  models: ComparisonModelInput[];
  unknown?: {
    images: { file: string; predictions: Record<string, UnknownPrediction | null> }[];
    /** Held-back labels, file -> label name (an alias or another case is fine). */
    labels?: Record<string, string>;
  };
  generatedAt: string;
}

const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Canonical form for comparing labels: the emotion name for names and aliases, else lower case. */
function canonicalLabel(label: string): string {
  const idx = labelFromFolderName(label);
  return idx === undefined ? label.trim().toLowerCase() : EMOTIONS[idx]!;
}

export function formatPercent(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

/** A percentage-point difference, with enough digits not to print 0.0 for a real difference. */
function formatPoints(diff: number): string {
  const pp = diff * 100;
  return `${pp >= 0.1 ? pp.toFixed(1) : pp.toFixed(2)} percentage point${pp.toFixed(1) === '1.0' ? '' : 's'}`;
}

/** Values are equal for ranking when they differ by less than this (float noise, not data). */
const EPS = 1e-9;

interface Ranking {
  modelIds: string[];
  value: number;
  runnerUp: { modelIds: string[]; value: number } | null;
  margin: number | null;
}

/** Best value (ties share it) and the next distinct value; ids in code-unit order. */
function rank(entries: { id: string; value: number }[], higherIsBetter = true): Ranking | null {
  if (entries.length === 0) return null;
  const sorted = [...entries].sort((a, b) => (higherIsBetter ? b.value - a.value : a.value - b.value) || byCode(a.id, b.id));
  const top = sorted[0]!.value;
  const tied = sorted.filter((e) => Math.abs(e.value - top) < EPS);
  const rest = sorted.filter((e) => Math.abs(e.value - top) >= EPS);
  const second = rest[0]?.value;
  const runnerUp =
    second === undefined ? null : { modelIds: rest.filter((e) => Math.abs(e.value - second) < EPS).map((e) => e.id), value: second };
  return { modelIds: tied.map((e) => e.id), value: top, runnerUp, margin: runnerUp ? Math.abs(top - runnerUp.value) : null };
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function mdCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function mdTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string[] {
  return [
    `| ${header.map(mdCell).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

/** Builds report.json's structure and REPORT.md's text from the same numbers. */
export function buildComparison(input: ComparisonInput): { json: ComparisonJson; markdown: string } {
  const inputs = [...input.models].sort((a, b) => byCode(a.id, b.id));
  const ids = new Set<string>();
  for (const m of inputs) {
    if (ids.has(m.id)) throw new Error(`buildComparison: model id "${m.id}" appears twice`);
    ids.add(m.id);
  }
  const models: ComparisonModel[] = inputs.map((m) => ({
    id: m.id,
    name: m.name,
    kind: m.kind,
    sizeBytes: m.sizeBytes,
    latencyMsPerFace: finite(m.latencyMsPerFace) ? m.latencyMsPerFace : null,
  }));
  const nameOf = (id: string): string => models.find((m) => m.id === id)?.name ?? id;
  const names = (ids: string[]): string => joinNames(ids.map(nameOf));

  // Classes: EMOTIONS order, then any other label found in a report, sorted.
  const extra = new Set<string>();
  for (const m of inputs) {
    for (const r of Object.values(m.reports)) {
      for (const label of [...(r.labels ?? []), ...r.perClass.map((c) => c.label)]) {
        if (!(EMOTIONS as readonly string[]).includes(label)) extra.add(label);
      }
    }
  }
  const classes = [...EMOTIONS, ...[...extra].sort(byCode)];

  const setNames = [...new Set(inputs.flatMap((m) => Object.keys(m.reports)))].sort(byCode);
  const evaluationSets: ComparisonSet[] = setNames.map((name) => {
    const rows: ComparisonRow[] = inputs.map((m) => {
      const r = m.reports[name];
      if (!r)
        return {
          modelId: m.id,
          evaluated: false,
          accuracy: null,
          macroF1: null,
          perClassF1: classes.map(() => null),
          images: null,
          note: null,
        };
      const perClassF1 = classes.map((label) => {
        const c = r.perClass.find((p) => p.label === label);
        // A class with no true sample in the set has no meaningful F1.
        return c && finite(c.f1) && c.support !== 0 ? c.f1 : null;
      });
      const supports = r.perClass.map((c) => c.support);
      const images = r.perClass.length > 0 && supports.every(finite) ? supports.reduce((a, b) => a + b, 0) : null;
      const notes = [r.dataset?.note, r.notes].filter((n): n is string => typeof n === 'string' && n.trim() !== '');
      return {
        modelId: m.id,
        evaluated: true,
        accuracy: finite(r.accuracy) ? r.accuracy : null,
        macroF1: finite(r.macroAvg?.f1) ? r.macroAvg.f1 : null,
        perClassF1,
        images,
        note: notes.length ? notes.map((n) => n.trim()).join('; ') : null,
      };
    });
    const pick = (metric: 'accuracy' | 'macroF1'): Leader | null => {
      const r = rank(rows.flatMap((row) => (row[metric] === null ? [] : [{ id: row.modelId, value: row[metric] }])));
      return r ? { metric, ...r } : null;
    };
    const evaluatedRows = rows.filter((r) => r.evaluated);
    const absentClasses = evaluatedRows.length ? classes.filter((_, k) => evaluatedRows.every((r) => r.perClassF1[k] === null)) : [];
    return { name, rows, absentClasses, bestAccuracy: pick('accuracy'), bestMacroF1: pick('macroF1') };
  });

  const unknown = input.unknown ? scoreUnknown(input.unknown, models) : null;

  const latencies = models.flatMap((m) => (m.latencyMsPerFace === null ? [] : [{ id: m.id, value: m.latencyMsPerFace }]));
  const fastLeader = rank(latencies, false);
  const fastest = fastLeader
    ? {
        modelIds: fastLeader.modelIds,
        latencyMsPerFace: fastLeader.value,
        runnerUp: fastLeader.runnerUp ? { modelIds: fastLeader.runnerUp.modelIds, latencyMsPerFace: fastLeader.runnerUp.value } : null,
      }
    : null;

  // ---- Generated summary ----
  const summary: string[] = [];
  if (models.length === 0) summary.push('No models to compare.');
  for (const set of evaluationSets) {
    const best = set.bestAccuracy;
    if (!best) {
      summary.push(`${set.name}: no model has an accuracy figure.`);
      continue;
    }
    const rowOf = (id: string) => set.rows.find((r) => r.modelId === id)!;
    const counted = (id: string): string => {
      const row = rowOf(id);
      return row.images ? ` (${Math.round(row.accuracy! * row.images)}/${row.images})` : '';
    };
    const evaluated = set.rows.filter((r) => r.accuracy !== null).length;
    let s: string;
    if (evaluated === 1) {
      s = `${set.name}: ${names(best.modelIds)} is the only model evaluated, at ${formatPercent(best.value)} accuracy${counted(best.modelIds[0]!)}.`;
    } else if (best.modelIds.length > 1 && !best.runnerUp) {
      s = `${set.name}: ${names(best.modelIds)} tie at ${formatPercent(best.value)} accuracy.`;
    } else {
      const lead = best.modelIds.length > 1 ? `${names(best.modelIds)} tie for best` : `${names(best.modelIds)} is best`;
      s = `${set.name}: ${lead} at ${formatPercent(best.value)} accuracy${best.modelIds.length === 1 ? counted(best.modelIds[0]!) : ''}`;
      if (best.runnerUp && best.margin !== null) {
        const ru = best.runnerUp;
        const n = rowOf(best.modelIds[0]!).images;
        const sameImages = n !== null && n > 0 && ru.modelIds.every((id) => rowOf(id).images === n);
        const imagesAhead = sameImages ? Math.round(best.value * n) - Math.round(ru.value * n) : null;
        const imgNote = imagesAhead !== null ? `, ${imagesAhead} image${imagesAhead === 1 ? '' : 's'}` : '';
        // E.g. a features model scored on the faces the pipeline found vs a CNN on every image.
        const ruImages = rowOf(ru.modelIds[0]!).images;
        const otherSet = !sameImages && n !== null && ruImages !== null ? ` on ${ruImages} images vs ${n}: not the same images` : '';
        s += `, ${formatPoints(best.margin)}${imgNote} ahead of ${names(ru.modelIds)} (${formatPercent(ru.value)}${otherSet})`;
      }
      s += '.';
    }
    const f1 = set.bestMacroF1;
    if (f1 && evaluated > 1) {
      const sameLeader = f1.modelIds.length === best.modelIds.length && f1.modelIds.every((id) => best.modelIds.includes(id));
      if (sameLeader) s += ` ${f1.modelIds.length > 1 ? 'They also share' : 'It also has'} the best macro F1 (${f1.value.toFixed(2)}).`;
      else
        s += ` By macro F1 the best is ${names(f1.modelIds)} (${f1.value.toFixed(2)}${f1.runnerUp ? ` vs ${f1.runnerUp.value.toFixed(2)}` : ''}).`;
    }
    const small = set.rows.find((r) => r.modelId === best.modelIds[0])?.images;
    if (small !== null && small !== undefined && small < 100) {
      s += ` With ${small} images, one image is ${formatPercent(1 / small)}.`;
    }
    summary.push(s);
  }
  if (unknown) {
    const n = unknown.images.length;
    if (unknown.best && unknown.scores) {
      const b = unknown.best;
      const others = unknown.scores
        .filter((sc) => !b.modelIds.includes(sc.modelId))
        .sort((x, y) => y.right - x.right || byCode(x.modelId, y.modelId));
      const lead = `${names(b.modelIds)} ${b.modelIds.length > 1 ? 'tie for' : 'gets'} the most right:`;
      let s = `Unknown images with a held-back label: ${lead} ${b.right}/${b.total} (${formatPercent(b.total ? b.right / b.total : 0)})`;
      if (others.length) s += `; ${others.map((o) => `${nameOf(o.modelId)} ${o.right}/${o.total}`).join(', ')}`;
      summary.push(s + '.');
    } else if (n > 0) {
      summary.push(`Unknown images: no held-back labels, so no model can be scored on them.`);
    }
    if (n > 0 && models.length > 1)
      summary.push(`All models give the same label on ${unknown.agreed} of ${n} unknown image${n === 1 ? '' : 's'}.`);
  }
  if (fastest) {
    let s = `Fastest: ${names(fastest.modelIds)} at ${formatMs(fastest.latencyMsPerFace)} per face`;
    if (fastest.runnerUp) {
      const ratio = fastest.latencyMsPerFace > 0 ? fastest.runnerUp.latencyMsPerFace / fastest.latencyMsPerFace : null;
      s += ` (next: ${names(fastest.runnerUp.modelIds)} at ${formatMs(fastest.runnerUp.latencyMsPerFace)}${ratio !== null ? `, ${ratio.toFixed(1)}x slower` : ''})`;
    }
    const unmeasured = models.filter((m) => m.latencyMsPerFace === null).map((m) => m.name);
    if (unmeasured.length) s += `; not measured: ${joinNames(unmeasured)}`;
    summary.push(s + '.');
  } else if (models.length > 0) {
    summary.push('No model has a measured latency.');
  }

  const json: ComparisonJson = { version: 1, generatedAt: input.generatedAt, classes, models, evaluationSets, unknown, fastest, summary };
  return { json, markdown: renderMarkdown(json) };
}

function scoreUnknown(u: NonNullable<ComparisonInput['unknown']>, models: ComparisonModel[]): ComparisonUnknown {
  const labelFor = (file: string): string | null => {
    const base = file.split(/[\\/]/).pop() ?? file;
    const l = u.labels?.[file] ?? u.labels?.[base];
    return typeof l === 'string' && l.trim() !== '' ? canonicalLabel(l) : null;
  };
  const images: UnknownImageRow[] = [...u.images]
    .sort((a, b) => byCode(a.file, b.file))
    .map((img) => {
      const label = labelFor(img.file);
      return {
        file: img.file,
        label,
        predictions: models.map((m) => {
          const p = img.predictions[m.id];
          if (!p) return { modelId: m.id, label: null, prob: null, correct: label === null ? null : false };
          return { modelId: m.id, label: p.label, prob: p.prob, correct: label === null ? null : canonicalLabel(p.label) === label };
        }),
      };
    });
  const labelled = images.filter((i) => i.label !== null);
  const scores =
    labelled.length === 0
      ? null
      : models.map((m, k) => ({
          modelId: m.id,
          right: labelled.filter((i) => i.predictions[k]!.correct === true).length,
          total: labelled.length,
          predicted: labelled.filter((i) => i.predictions[k]!.label !== null).length,
        }));
  const lead = scores ? rank(scores.map((s) => ({ id: s.modelId, value: s.right }))) : null;
  const best = lead && scores ? { modelIds: lead.modelIds, right: lead.value, total: labelled.length } : null;
  const agreed = images.filter((i) => {
    const ls = i.predictions.map((p) => (p.label === null ? null : canonicalLabel(p.label)));
    return ls.length > 0 && ls.every((l) => l !== null && l === ls[0]);
  }).length;
  return { images, scores, best, agreed };
}

function renderMarkdown(c: ComparisonJson): string {
  const out: string[] = [];
  const nameOf = (id: string): string => c.models.find((m) => m.id === id)?.name ?? id;
  out.push('# Model comparison', '');
  out.push(`Generated ${c.generatedAt} by \`npm run report\` from each model's report.json. Do not edit by hand.`, '');
  out.push('## Summary', '');
  for (const s of c.summary) out.push(`- ${s}`);
  out.push('');

  out.push('## Models', '');
  out.push(
    ...mdTable(
      ['Model', 'id', 'Kind', 'Size', 'Latency per face'],
      ['l', 'l', 'l', 'r', 'r'],
      c.models.map((m) => [
        m.name,
        `\`${m.id}\``,
        m.kind,
        formatBytes(m.sizeBytes),
        m.latencyMsPerFace === null ? '—' : formatMs(m.latencyMsPerFace),
      ]),
    ),
    '',
  );

  for (const set of c.evaluationSets) {
    out.push(`## ${set.name}`, '');
    const header = ['Model', 'Images', 'Accuracy', 'Macro F1', ...c.classes.map((l) => `${l} F1`), 'Size', 'Latency'];
    const align: ('l' | 'r')[] = ['l', ...header.slice(1).map(() => 'r' as const)];
    const rows = set.rows.map((r) => {
      const m = c.models.find((x) => x.id === r.modelId)!;
      const best = set.bestAccuracy?.modelIds.includes(r.modelId) && set.rows.filter((x) => x.accuracy !== null).length > 1;
      return [
        r.evaluated ? m.name : `${m.name} (not evaluated)`,
        r.images === null ? '—' : String(r.images),
        r.accuracy === null ? '—' : best ? `**${formatPercent(r.accuracy)}**` : formatPercent(r.accuracy),
        r.macroF1 === null ? '—' : r.macroF1.toFixed(2),
        ...r.perClassF1.map((f) => (f === null ? '—' : f.toFixed(2))),
        formatBytes(m.sizeBytes),
        m.latencyMsPerFace === null ? '—' : formatMs(m.latencyMsPerFace),
      ];
    });
    out.push(...mdTable(header, align, rows), '');
    const notes = set.rows.filter((r) => r.note !== null);
    if (notes.length) {
      for (const r of notes) out.push(`- ${nameOf(r.modelId)}: ${r.note!.replace(/\r?\n/g, ' ')}`);
      out.push('');
    }
    if (set.absentClasses.length) {
      out.push(
        `No image of ${joinNames(set.absentClasses)} in this set. Macro F1 is each report's own figure, whatever it made of the missing class${set.absentClasses.length === 1 ? '' : 'es'}.`,
        '',
      );
    }
    out.push('— : not evaluated, or the class has no image in this set. Bold: best accuracy.', '');
  }

  if (c.unknown) {
    const u = c.unknown;
    out.push('## Unknown images', '');
    if (u.images.length === 0) out.push('No images in unknown/.', '');
    else {
      const hasLabels = u.scores !== null;
      const header = ['File', ...(hasLabels ? ['Label'] : []), ...c.models.map((m) => m.name)];
      const rows = u.images.map((img) => [
        img.file,
        ...(hasLabels ? [img.label ?? '—'] : []),
        ...img.predictions.map((p) => {
          if (p.label === null) return p.correct === false ? 'no prediction ✗' : 'no prediction';
          const mark = p.correct === null ? '' : p.correct ? ' ✓' : ' ✗';
          return `${p.label} (${Math.round(p.prob * 100)}%)${mark}`;
        }),
      ]);
      if (u.scores) rows.push(['**right/total**', '', ...u.scores.map((s) => `**${s.right}/${s.total}**`)]);
      out.push(
        ...mdTable(
          header,
          header.map(() => 'l' as const),
          rows,
        ),
        '',
      );
      out.push('Each cell: the top label and its probability. ✓/✗: against the held-back label. No prediction: no face was found.', '');
    }
  }
  return out.join('\n').replace(/\n+$/, '') + '\n';
}
