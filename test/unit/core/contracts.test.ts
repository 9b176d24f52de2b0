/** The data contracts (src/core/contracts): committed files pass them, and errors name file and field. */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BROWSER_BACKENDS,
  cnnInput,
  isBrowserBackend,
  isSafeRelativePath,
  parseCnnInput,
  parseComparison,
  parseManifest,
  parseReport,
  parseStoredSvmInput,
  serializeManifest,
  upsertEntry,
} from '../../../src/core/contracts/index.ts';
import { buildReport } from '../../../src/train/report/report.ts';
import { validate } from '../../helpers/json-schema.ts';
import { ROOT } from '../../helpers/shared-data.ts';

const root = ROOT;
const modelsDir = join(root, 'models');
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const schema = readJson(join(modelsDir, 'index.schema.json')) as Record<string, unknown>;
const committedText = readFileSync(join(modelsDir, 'index.json'), 'utf8');
const committed = JSON.parse(committedText) as { $schema?: string; models: ({ id: string } & Record<string, unknown>)[] };

const cnn = { id: 'c', name: 'C', kind: 'cnn', path: 'c/model.json', input: cnnInput({ size: 48, tta: 'none' }) };
const au = { id: 'a', kind: 'svm', path: 'a/model.json', input: { type: 'au-features', featureVersion: 1, dim: 168 } };

/** Both validators on one entry: [parseManifest accepts, the schema accepts]. */
function verdicts(entry: unknown): [boolean, boolean] {
  let parsed = true;
  try {
    parseManifest({ models: [entry] });
  } catch {
    parsed = false;
  }
  return [parsed, validate(schema, { models: [entry] }).length === 0];
}

describe('committed models/index.json', () => {
  it('passes parseManifest and the JSON Schema, entry by entry', () => {
    expect(committed.models.length).toBeGreaterThan(0);
    const manifest = parseManifest(committed);
    expect(manifest.models.map((m) => m.id)).toEqual(committed.models.map((m) => m.id));
    expect(validate(schema, committed)).toEqual([]);
    for (const entry of committed.models) expect(validate(schema, { models: [entry] }), String(entry.id)).toEqual([]);
  });

  it('parsing keeps committed entries as they are (they are complete)', () => {
    expect(JSON.parse(JSON.stringify(parseManifest(committed)))).toEqual(committed);
  });

  it('CNN entries hold exactly what cnnInput() builds, in the same key order', () => {
    for (const entry of committed.models.filter((m) => m.kind === 'cnn')) {
      const input = entry.input as { size: number; tta: 'none' | 'hflip-mean' };
      expect(JSON.stringify(cnnInput({ size: input.size, tta: input.tta }))).toBe(JSON.stringify(entry.input));
    }
  });

  it('upsertEntry + serializeManifest rewrite the file byte for byte', () => {
    let models = committed.models;
    for (const entry of committed.models) models = upsertEntry(models, entry);
    expect(committed.$schema).toBe('./index.schema.json');
    expect(serializeManifest({ $schema: committed.$schema, models })).toBe(committedText);
  });

  it('every report.json parses with parseReport, every SVM model.json input with parseStoredSvmInput', () => {
    for (const m of parseManifest(committed).models) {
      if (m.report) expect(parseReport(readJson(join(modelsDir, m.report)), m.report).id).toBe(m.id);
      if (m.kind === 'svm') {
        const input = (readJson(join(modelsDir, m.path)) as { input: unknown }).input;
        expect(parseStoredSvmInput(input, `${m.path}: input`).type).toBe(m.input.type);
      }
    }
  });

  it.skipIf(!existsSync(join(modelsDir, 'report.json')))('models/report.json parses with parseComparison', () => {
    expect(parseComparison(readJson(join(modelsDir, 'report.json'))).version).toBe(1);
  });
});

describe('parseManifest', () => {
  it('names the file, the entry and the field at fault', () => {
    const bad = structuredClone(committed);
    const i = bad.models.findIndex((m) => m.id === 'svm-au');
    bad.models[i]!.path = '../svm-au/model.json';
    expect(() => parseManifest(bad)).toThrow(
      new RegExp(`^models/index\\.json: models\\[${i}\\] \\(svm-au\\)\\.path must be a relative path inside models/`),
    );
    expect(() => parseManifest(bad, 'my/models.json')).toThrow(/^my\/models\.json: /);
    expect(() => parseManifest({})).toThrow(/^models\/index\.json: must be an object with a "models" array/);
    expect(() => parseManifest({ models: [cnn, cnn] })).toThrow(/models\[1\]\.id "c" is used twice \(also models\[0\]\)/);
    expect(() => parseManifest({ models: [{ ...cnn, reprot: 'c/report.json' }] })).toThrow(
      /models\[0\] \(c\) has an unknown field "reprot"/,
    );
    expect(() => parseManifest({ models: [{ ...cnn, kind: 'rnn' }] })).toThrow(
      /models\[0\] \(c\)\.kind must be "cnn", "svm" or "fusion", got "rnn"/,
    );
    expect(() => parseManifest({ models: [{ ...cnn, input: { ...cnn.input, color: 'rgb' } }] })).toThrow(
      /models\[0\] \(c\)\.input\.color: unsupported input colour "rgb"/,
    );
    expect(() => parseManifest({ models: [{ ...au, input: { type: 'pixels', descriptor: 'hog', hog: { cell: 7 } } }] })).toThrow(
      /\(a\)\.input: hog\.cell must divide the size 48/,
    );
    expect(() => parseManifest({ models: [{ ...au, input: { type: 'au-features' } }] })).toThrow(/\(a\)\.input\.featureVersion must be/);
    expect(() => parseManifest({ models: [{ ...au, input: undefined }] })).toThrow(/\(a\)\.input must be an object with a "type"/);
  });

  it('completes entries: name defaults to the id, a CNN input to cnnInput() values', () => {
    const m = parseManifest({
      models: [
        { id: 'x', kind: 'cnn', path: 'x/model.json' },
        { ...cnn, input: { shape: [null, 32, 32, 1] } },
      ],
    });
    expect(m.models[0]).toEqual({ id: 'x', name: 'x', kind: 'cnn', path: 'x/model.json', input: cnnInput({ size: 48, tta: 'none' }) });
    expect(m.models[1]!.input).toEqual(cnnInput({ size: 32, tta: 'none' }));
  });

  it('agrees with the JSON Schema on what is valid', () => {
    const valid = [
      cnn,
      { id: 'x', kind: 'cnn', path: 'x/model.json' },
      { ...cnn, input: { size: 64, tta: 'hflip-mean' } },
      au,
      { ...au, input: { type: 'pixels', size: 48 } },
      { ...au, input: { type: 'pixels', size: 48, range: [0, 1], descriptor: 'hog', hog: { cell: 6, bins: 9 } } },
    ];
    for (const entry of valid) expect(verdicts(entry), JSON.stringify(entry)).toEqual([true, true]);
    const invalid = [
      { ...cnn, id: '' },
      { ...cnn, kind: 'rnn' },
      { ...cnn, path: '/abs/model.json' },
      { ...cnn, report: 'https://x.y/r.json' },
      { ...cnn, extra: 1 },
      { ...cnn, input: { ...cnn.input, tta: 'ten-crop' } },
      { ...cnn, input: { ...cnn.input, range: [-1, 1] } },
      { ...cnn, input: { ...cnn.input, size: 4 } },
      { ...cnn, input: { ...cnn.input, dtype: 'int32' } },
      { ...cnn, input: { ...cnn.input, type: 'pixels' } },
      { ...au, input: { type: 'hog' } },
      { ...au, input: { type: 'au-features', featureVersion: 1.5 } },
      { ...au, input: { type: 'pixels', descriptor: 'sift' } },
      { ...au, input: { type: 'pixels', hog: { cell: 6, size: 48 } } },
      { id: 'y', kind: 'svm', path: 'y/model.json' },
    ];
    for (const entry of invalid) expect(verdicts(entry), JSON.stringify(entry)).toEqual([false, false]);
  });

  it('the schema path pattern is isSafeRelativePath', () => {
    const pattern = new RegExp((schema.$defs as Record<string, { pattern?: string }>).path!.pattern!, 'u');
    const paths = [
      'a/b.json',
      'a.json',
      'a/b/c',
      '..a/b',
      'a..b',
      '',
      '/a.json',
      '../a',
      'a/..',
      'a/../../b',
      'https://x.y/a',
      'C:/a',
      'a//b',
      'a/',
      'a\\b',
      'x:y',
    ];
    for (const p of paths) expect(pattern.test(p), p).toBe(isSafeRelativePath(p));
    expect(paths.filter((p) => isSafeRelativePath(p))).toEqual(['a/b.json', 'a.json', 'a/b/c', '..a/b', 'a..b']);
  });
});

describe('model inputs', () => {
  it('parseCnnInput fills defaults and names the field at fault', () => {
    expect(parseCnnInput(undefined, 'in')).toEqual(cnnInput({ size: 48, tta: 'none' }));
    expect(parseCnnInput({ size: 64, tta: 'hflip-mean' }, 'in')).toEqual(cnnInput({ size: 64, tta: 'hflip-mean' }));
    expect(() => parseCnnInput({ shape: [null, 32, 32, 1], size: 48 }, 'in')).toThrow(/^in\.shape \[null,32,32,1\] does not match size 48/);
    expect(() => parseCnnInput({ shape: [1, 48, 48, 1] }, 'in')).toThrow(/^in\.shape must be \[null, size, size, 1\]/);
    expect(() => parseCnnInput([], 'in')).toThrow(/^in must be an object/);
  });

  it('parseStoredSvmInput keeps the known fields only after checking them', () => {
    expect(parseStoredSvmInput({ type: 'pixels', size: 48, descriptor: 'hog', hog: { cell: 6, bins: 9 }, pca: 40 }, 'in')).toEqual({
      type: 'pixels',
      size: 48,
      descriptor: 'hog',
      hog: { cell: 6, bins: 9 },
      pca: 40,
    });
    expect(() => parseStoredSvmInput({ type: 'au-features', featureVersion: 1, dim: 0 }, 'in')).toThrow(
      /^in\.dim must be a positive integer/,
    );
    expect(() => parseStoredSvmInput({ type: 'pixels', range: [0, 255] }, 'in')).toThrow(/^in\.range/);
  });
});

describe('parseReport', () => {
  const report = buildReport({
    id: 'r',
    name: 'R',
    kind: 'cnn',
    arch: 'a',
    datasetPath: 'd',
    splits: { train: 3, val: 1, test: 2 },
    yTrue: [0, 1],
    yPred: [0, 2],
    tta: true,
    history: [{ epoch: 1, loss: NaN, acc: 0.5, valLoss: 1, valAcc: 0.5 }],
  });

  it('reads what buildReport writes, after a JSON round trip (a NaN loss comes back as NaN)', () => {
    const read = parseReport(JSON.parse(JSON.stringify(report)), 'r/report.json');
    expect(read).toEqual(report);
    expect(read.history[0]!.loss).toBeNaN();
  });

  it('names the file and the field at fault', () => {
    const bad = (patch: (r: any) => void) => {
      const copy = JSON.parse(JSON.stringify(report));
      patch(copy);
      return () => parseReport(copy, 'r/report.json');
    };
    expect(bad((r) => delete r.dataset.splits.train)).toThrow(
      /^r\/report\.json: dataset\.splits\.train must be a whole number >= 0, got nothing/,
    );
    expect(bad((r) => (r.accuracy = 65))).toThrow(/^r\/report\.json: accuracy must be a number in 0\.\.1, got 65/);
    expect(bad((r) => r.confusionMatrix.pop())).toThrow(/confusionMatrix must be 7x7/);
    expect(bad((r) => (r.history[0].valAcc = 'high'))).toThrow(/history\[0\]\.valAcc must be a number/);
    expect(bad((r) => (r.tta = 'yes'))).toThrow(/tta must be true or false/);
    expect(() => parseReport([], 'x.json')).toThrow(/^x\.json: the report must be an object/);
  });
});

describe('browser backends', () => {
  it('names the four tfjs backends the app can run on', () => {
    expect(BROWSER_BACKENDS.filter(isBrowserBackend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    for (const bad of ['cuda', 'tensorflow', '', null, undefined]) expect(isBrowserBackend(bad)).toBe(false);
  });
});

describe('src/core/contracts stays pure', () => {
  it('imports only other core modules (no tfjs, DOM framework or Node)', () => {
    const dir = join(root, 'src/core/contracts');
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\.?\//);
      expect(source, file).not.toMatch(/\b(document|window|navigator|process)\./);
    }
  });
});
