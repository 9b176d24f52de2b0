import { describe, it, expect } from 'vitest';
import { EMOTIONS } from '../../../src/core/labels.ts';
import { buildReport } from '../../../src/train/report/report.ts';
import { buildComparison, type ComparisonInput, type ComparisonReportInput } from '../../../src/train/report/comparison.ts';
import { parseComparison } from '../../../src/app/report.ts';

/** A report from a confusion matrix over EMOTIONS, through the real report builder. */
function reportFromCm(cm: number[][], extra: { note?: string; notes?: string } = {}): ComparisonReportInput {
  return buildReport({
    id: 'x',
    name: 'x',
    kind: 'cnn',
    arch: 'a',
    datasetPath: 'p',
    splits: { train: 0, val: 0, test: 0 },
    confusionMatrix: cm,
    createdAt: '2024-01-01T00:00:00.000Z',
    ...(extra.note ? { datasetNote: extra.note } : {}),
    ...(extra.notes ? { notes: extra.notes } : {}),
  });
}

/** Diagonal `right[c]` of `n[c]` per class; the wrong ones go to the next class. */
function cmFrom(n: number[], right: number[]): number[][] {
  return EMOTIONS.map((_, t) => EMOTIONS.map((_, p) => (p === t ? right[t]! : p === (t + 1) % 7 ? n[t]! - right[t]! : 0)));
}

// JAFFE-like validation set: 38 images, no "disgust" image at all (a class missing from a personal set).
const N = [6, 0, 6, 6, 6, 7, 7];
const fer = (acc: number): ComparisonReportInput => ({
  accuracy: acc,
  macroAvg: { f1: acc - 0.05 },
  perClass: EMOTIONS.map((label, i) => ({ label, f1: 0.5 + i / 100, support: 100 })),
});

function baseInput(): ComparisonInput {
  return {
    generatedAt: '2024-05-01T12:00:00.000Z',
    models: [
      {
        id: 'svm',
        name: 'HOG SVM',
        kind: 'svm',
        sizeBytes: 2_500_000,
        latencyMsPerFace: 0.8,
        reports: { 'JAFFE validation split': reportFromCm(cmFrom(N, [4, 0, 3, 6, 4, 6, 5]), { note: 'no face in 0 images' }) },
      },
      {
        id: 'cnn',
        name: 'FER2013 CNN',
        kind: 'cnn',
        sizeBytes: 1_234_567,
        latencyMsPerFace: 3.2,
        reports: {
          'FER2013 PrivateTest': fer(0.6553),
          'JAFFE validation split': reportFromCm(cmFrom(N, [5, 0, 4, 6, 5, 7, 6])),
        },
      },
      { id: 'cnn-seed', name: 'Reference CNN', kind: 'cnn', sizeBytes: 5_000_000, reports: { 'FER2013 PrivateTest': fer(0.62) } },
    ],
    unknown: {
      images: [
        {
          file: 'unknown_02.png',
          predictions: { cnn: { label: 'angry', prob: 0.7 }, svm: { label: 'sad', prob: 0.4 }, 'cnn-seed': { label: 'angry', prob: 0.5 } },
        },
        {
          file: 'unknown_01.png',
          predictions: { cnn: { label: 'fear', prob: 0.61 }, svm: null, 'cnn-seed': { label: 'fear', prob: 0.9 } },
        },
        {
          file: 'unknown_03.png',
          predictions: {
            cnn: { label: 'happy', prob: 0.99 },
            svm: { label: 'happy', prob: 0.8 },
            'cnn-seed': { label: 'happy', prob: 0.95 },
          },
        },
      ],
      labels: { 'unknown_01.png': 'fear', 'unknown_02.png': 'Anger', 'unknown_03.png': 'sad' },
    },
  };
}

describe('buildComparison', () => {
  it('orders models by id, sets by name, images by file; one row per model per set', () => {
    const { json } = buildComparison(baseInput());
    expect(json.version).toBe(1);
    expect(json.models.map((m) => m.id)).toEqual(['cnn', 'cnn-seed', 'svm']);
    expect(json.evaluationSets.map((s) => s.name)).toEqual(['FER2013 PrivateTest', 'JAFFE validation split']);
    expect(json.classes).toEqual([...EMOTIONS]);
    for (const set of json.evaluationSets) expect(set.rows.map((r) => r.modelId)).toEqual(['cnn', 'cnn-seed', 'svm']);
    expect(json.unknown!.images.map((i) => i.file)).toEqual(['unknown_01.png', 'unknown_02.png', 'unknown_03.png']);
  });

  it('fills the JAFFE table: accuracy, images, per-class F1 with null for an absent class, missing models', () => {
    const { json, markdown } = buildComparison(baseInput());
    const jaffe = json.evaluationSets[1]!;
    const cnn = jaffe.rows[0]!;
    expect(cnn.evaluated).toBe(true);
    expect(cnn.images).toBe(38);
    expect(cnn.accuracy).toBeCloseTo(33 / 38, 12);
    expect(cnn.perClassF1[1]).toBeNull(); // no disgust image
    expect(cnn.perClassF1.filter((f) => f === null)).toHaveLength(1);
    const seed = jaffe.rows[1]!;
    expect(seed).toEqual({
      modelId: 'cnn-seed',
      evaluated: false,
      accuracy: null,
      macroF1: null,
      perClassF1: Array(7).fill(null),
      images: null,
      note: null,
    });
    expect(jaffe.rows[2]!.note).toBe('no face in 0 images');

    const section = markdown.split('## JAFFE validation split')[1]!.split('\n## ')[0]!;
    const lines = section.split('\n').filter((l) => l.startsWith('|'));
    expect(lines[0]).toBe(
      '| Model | Images | Accuracy | Macro F1 | angry F1 | disgust F1 | fear F1 | happy F1 | sad F1 | surprise F1 | neutral F1 | Size | Latency |',
    );
    const cells = (l: string) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, ''));
    const cnnRow = cells(lines[2]!);
    expect(cnnRow[0]).toBe('FER2013 CNN');
    expect(cnnRow[1]).toBe('38');
    expect(cnnRow[2]).toBe('**86.8%**');
    expect(cnnRow[5]).toBe('—');
    expect(cnnRow[11]).toBe('1.23 MB');
    expect(cnnRow[12]).toBe('3.20 ms');
    const seedRow = cells(lines[3]!);
    expect(seedRow[0]).toBe('Reference CNN (not evaluated)');
    expect(seedRow.slice(1, 11)).toEqual(Array(10).fill('—'));
    expect(seedRow[12]).toBe('—'); // latency not measured
    expect(section).toContain('- HOG SVM: no face in 0 images');
    expect(jaffe.absentClasses).toEqual(['disgust']);
    expect(json.evaluationSets[0]!.absentClasses).toEqual([]);
    expect(section).toContain('No image of disgust in this set.');
  });

  it('writes a summary derived from the numbers', () => {
    const { json, markdown } = buildComparison(baseInput());
    expect(json.summary).toEqual([
      'FER2013 PrivateTest: FER2013 CNN is best at 65.5% accuracy (459/700), 3.5 percentage points, 25 images ahead of Reference CNN (62.0%). It also has the best macro F1 (0.61).',
      'JAFFE validation split: FER2013 CNN is best at 86.8% accuracy (33/38), 13.2 percentage points, 5 images ahead of HOG SVM (73.7%). It also has the best macro F1 (0.75). With 38 images, one image is 2.6%.',
      'Unknown images with a held-back label: FER2013 CNN and Reference CNN tie for the most right: 2/3 (66.7%); HOG SVM 0/3.',
      'All models give the same label on 1 of 3 unknown images.',
      'Fastest: HOG SVM at 0.80 ms per face (next: FER2013 CNN at 3.20 ms, 4.0x slower); not measured: Reference CNN.',
    ]);
    for (const s of json.summary) expect(markdown).toContain(`- ${s}`);
  });

  it('changes the summary when the numbers change', () => {
    const input = baseInput();
    input.models[0]!.reports['JAFFE validation split'] = reportFromCm(cmFrom(N, [6, 0, 6, 6, 6, 7, 6]));
    input.models[0]!.latencyMsPerFace = 5;
    input.models[2]!.reports['FER2013 PrivateTest'] = fer(0.7);
    const { json } = buildComparison(input);
    expect(json.summary[0]).toMatch(
      /^FER2013 PrivateTest: Reference CNN is best at 70\.0% accuracy \(490\/700\), 4\.5 percentage points, 31 images ahead of FER2013 CNN \(65\.5%\)/,
    );
    expect(json.summary[1]).toMatch(
      /^JAFFE validation split: HOG SVM is best at 97\.4% accuracy \(37\/38\), 10\.5 percentage points, 4 images ahead of FER2013 CNN \(86\.8%\)/,
    );
    expect(json.summary[4]).toBe(
      'Fastest: FER2013 CNN at 3.20 ms per face (next: HOG SVM at 5.00 ms, 1.6x slower); not measured: Reference CNN.',
    );
    expect(json.evaluationSets[1]!.bestAccuracy!.modelIds).toEqual(['svm']);
  });

  it('reports a different macro-F1 leader', () => {
    const input = baseInput();
    input.models[2]!.reports['FER2013 PrivateTest'] = { ...fer(0.62), macroAvg: { f1: 0.64 } };
    const { json } = buildComparison(input);
    expect(json.summary[0]).toContain('By macro F1 the best is Reference CNN (0.64 vs 0.61).');
    expect(json.evaluationSets[0]!.bestMacroF1!.modelIds).toEqual(['cnn-seed']);
  });

  it('says when the best and the runner-up were scored on different images (faces found vs every image)', () => {
    const input = baseInput();
    // 690 of the 700 images: a features model scored only where the pipeline found a face.
    input.models[2]!.reports['FER2013 PrivateTest'] = {
      ...fer(0.7),
      perClass: EMOTIONS.map((label) => ({ label, f1: 0.6, support: 690 / 7 })),
    };
    const { json } = buildComparison(input);
    expect(json.summary[0]).toMatch(/4\.5 percentage points ahead of FER2013 CNN \(65\.5% on 700 images vs 690: not the same images\)/);
    expect(json.summary[0]).not.toMatch(/images ahead/);
  });

  it('handles ties on a set and on latency', () => {
    const input = baseInput();
    input.models[2]!.reports['FER2013 PrivateTest'] = fer(0.6553);
    input.models[2]!.latencyMsPerFace = 0.8;
    const { json, markdown } = buildComparison(input);
    const best = json.evaluationSets[0]!.bestAccuracy!;
    expect(best.modelIds).toEqual(['cnn', 'cnn-seed']);
    expect(best.runnerUp).toBeNull();
    expect(best.margin).toBeNull();
    expect(json.summary[0]).toBe(
      'FER2013 PrivateTest: FER2013 CNN and Reference CNN tie at 65.5% accuracy. They also share the best macro F1 (0.61).',
    );
    expect(json.fastest!.modelIds).toEqual(['cnn-seed', 'svm']);
    expect(json.summary.at(-1)).toBe('Fastest: Reference CNN and HOG SVM at 0.80 ms per face (next: FER2013 CNN at 3.20 ms, 4.0x slower).');
    // Both tied leaders are bold.
    const section = markdown.split('## FER2013 PrivateTest')[1]!.split('\n## ')[0]!;
    expect(section.match(/\*\*65\.5%\*\*/g)).toHaveLength(2);
  });

  it('a three-way set with a tie at the top names the runner-up', () => {
    const input = baseInput();
    input.models[1]!.reports['JAFFE validation split'] = reportFromCm(cmFrom(N, [4, 0, 3, 6, 4, 6, 5]));
    input.models[2]!.reports['JAFFE validation split'] = reportFromCm(cmFrom(N, [3, 0, 3, 6, 4, 6, 5]));
    const { json } = buildComparison(input);
    expect(json.summary[1]).toMatch(
      /^JAFFE validation split: FER2013 CNN and HOG SVM tie for best at 73\.7% accuracy, 2\.6 percentage points, 1 image ahead of Reference CNN \(71\.1%\)\. They also share the best macro F1 \(0\.64\)\. With 38 images, one image is 2\.6%\.$/,
    );
  });

  it('scores unknown images against held-back labels (aliases, missing predictions)', () => {
    const { json, markdown } = buildComparison(baseInput());
    const u = json.unknown!;
    expect(u.images[1]!.label).toBe('angry'); // 'Anger' -> angry
    expect(u.scores).toEqual([
      { modelId: 'cnn', right: 2, total: 3, predicted: 3 },
      { modelId: 'cnn-seed', right: 2, total: 3, predicted: 3 },
      { modelId: 'svm', right: 0, total: 3, predicted: 2 },
    ]);
    expect(u.best).toEqual({ modelIds: ['cnn', 'cnn-seed'], right: 2, total: 3 });
    expect(u.agreed).toBe(1);
    const section = markdown.split('## Unknown images')[1]!;
    expect(section).toContain('| File | Label | FER2013 CNN | Reference CNN | HOG SVM |');
    expect(section).toContain('| unknown_01.png | fear | fear (61%) ✓ | fear (90%) ✓ | no prediction ✗ |');
    expect(section).toContain('| unknown_03.png | sad | happy (99%) ✗ | happy (95%) ✗ | happy (80%) ✗ |');
    expect(section).toContain('| **right/total** |  | **2/3** | **2/3** | **0/3** |');
  });

  it('without labels: predictions only, no scores, agreement still counted', () => {
    const input = baseInput();
    delete input.unknown!.labels;
    const { json, markdown } = buildComparison(input);
    expect(json.unknown!.scores).toBeNull();
    expect(json.unknown!.best).toBeNull();
    expect(json.unknown!.images[0]!.predictions[0]!.correct).toBeNull();
    expect(markdown).toContain('| File | FER2013 CNN | Reference CNN | HOG SVM |');
    expect(markdown).toContain('| unknown_01.png | fear (61%) | fear (90%) | no prediction |');
    expect(markdown).not.toContain('right/total');
    expect(json.summary).toContain('Unknown images: no held-back labels, so no model can be scored on them.');
    expect(json.summary).toContain('All models give the same label on 1 of 3 unknown images.');
  });

  it('is deterministic and independent of input order', () => {
    const a = buildComparison(baseInput());
    const input = baseInput();
    input.models.reverse();
    input.unknown!.images.reverse();
    const b = buildComparison(input);
    expect(b.markdown).toBe(a.markdown);
    expect(JSON.stringify(b.json)).toBe(JSON.stringify(a.json));
    expect(a.markdown.startsWith('# Model comparison\n\nGenerated 2024-05-01T12:00:00.000Z')).toBe(true);
    expect(a.markdown.endsWith('\n')).toBe(true);
    expect(a.markdown.endsWith('\n\n')).toBe(false);
  });

  it('handles a single model, no latency, no unknown, escaped names', () => {
    const { json, markdown } = buildComparison({
      generatedAt: 't',
      models: [{ id: 'm', name: 'A | B', kind: 'svm', sizeBytes: 900, reports: { S: fer(0.5) } }],
    });
    expect(json.unknown).toBeNull();
    expect(json.fastest).toBeNull();
    expect(json.summary).toEqual([
      'S: A | B is the only model evaluated, at 50.0% accuracy (350/700).',
      'No model has a measured latency.',
    ]);
    expect(markdown).toContain('| A \\| B | `m` | svm | 900 B | — |');
    expect(markdown).not.toContain('## Unknown images');
    expect(markdown).toContain('| A \\| B | 700 | 50.0% |'); // a single model is not bolded
  });

  it('rejects duplicate model ids', () => {
    const input = baseInput();
    input.models.push({ ...input.models[0]! });
    expect(() => buildComparison(input)).toThrow(/appears twice/);
  });

  it('keeps labels outside EMOTIONS as extra columns after the seven', () => {
    const input = baseInput();
    input.models[2]!.reports['FER2013 PrivateTest'] = {
      ...fer(0.62),
      perClass: [...fer(0.62).perClass, { label: 'contempt', f1: 0.3, support: 5 }],
    };
    const { json } = buildComparison(input);
    expect(json.classes).toEqual([...EMOTIONS, 'contempt']);
    expect(json.evaluationSets[0]!.rows[1]!.perClassF1[7]).toBe(0.3);
    expect(json.evaluationSets[0]!.rows[0]!.perClassF1[7]).toBeNull();
  });
});

describe('parseComparison (the app side of models/report.json)', () => {
  it('accepts what buildComparison writes, after a JSON round trip', () => {
    for (const input of [baseInput(), { ...baseInput(), unknown: undefined }]) {
      const { json } = buildComparison(input);
      expect(parseComparison(JSON.parse(JSON.stringify(json)))).toEqual(JSON.parse(JSON.stringify(json)));
    }
  });

  it('rejects other JSON with a reason', () => {
    const good = JSON.parse(JSON.stringify(buildComparison(baseInput()).json));
    expect(() => parseComparison([])).toThrow(/version 1/);
    expect(() => parseComparison({ ...good, version: 2 })).toThrow(/version 1/);
    // A single model's report.json is not a comparison.
    expect(() =>
      parseComparison(
        buildReport({
          id: 'a',
          name: 'a',
          kind: 'cnn',
          arch: 'a',
          datasetPath: 'p',
          splits: { train: 0, val: 0, test: 0 },
          confusionMatrix: cmFrom(N, N),
        }),
      ),
    ).toThrow(/version 1/);
    expect(() => parseComparison({ ...good, classes: 'angry' })).toThrow(/classes/);
    const badRow = structuredClone(good);
    badRow.evaluationSets[0].rows[0].perClassF1.pop();
    expect(() => parseComparison(badRow)).toThrow(/FER2013 PrivateTest/);
    const badUnknown = structuredClone(good);
    badUnknown.unknown.images[0].predictions = [];
    expect(() => parseComparison(badUnknown)).toThrow(/unknown image/);
  });
});
