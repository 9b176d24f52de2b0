/** The live view's pure helpers: model input checks, TTA averaging, reports, agreement, camera errors. */
import { describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../../src/core/labels.ts';
import type { ModelEntry } from '../../../src/app/manifest.ts';
import { parseBackendParam } from '../../../src/app/live/backend-param.ts';
import { cameraMessage, classifyCameraError } from '../../../src/app/live/camera.ts';
import { argmax, checkModelInput, checkSvmInput, meanOfHalves, rowsOf } from '../../../src/app/live/model-input.ts';
import { FEATURE_VERSION } from '../../../src/core/features/index.ts';
import { FrameStats } from '../../../src/app/live/stats.ts';
import { agreement, EMOTION_COLORS, emotionColor, percent } from '../../../src/app/present.ts';
import { parseReportView } from '../../../src/app/report.ts';

// Entries as they may arrive unchecked (not through parseManifest): the checkers reject bad inputs themselves.
const entry = (over: Record<string, unknown> = {}): ModelEntry =>
  ({
    id: 'm',
    name: 'M',
    kind: 'cnn',
    path: 'm/model.json',
    input: { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: 'hflip-mean' },
    ...over,
  }) as ModelEntry;

describe('checkModelInput', () => {
  it('accepts the FER2013 CNN input and reads tta', () => {
    expect(checkModelInput(entry())).toEqual({ ok: true, spec: { size: 48, hflipMean: true } });
    expect(checkModelInput(entry({ input: { size: 64, tta: 'none' } }))).toEqual({ ok: true, spec: { size: 64, hflipMean: false } });
    expect(checkModelInput(entry({ input: { shape: [null, 32, 32, 1] } }))).toEqual({ ok: true, spec: { size: 32, hflipMean: false } });
  });

  it('names what it cannot run', () => {
    expect(checkModelInput(entry({ kind: 'svm' }))).toEqual({ ok: false, reason: 'SVM models are not CNNs' });
    expect(checkModelInput(entry({ input: { color: 'rgb' } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/colour "rgb"/) });
    expect(checkModelInput(entry({ input: { range: [-1, 1] } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/range/) });
    expect(checkModelInput(entry({ input: { size: 3 } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/size/) });
    expect(checkModelInput(entry({ input: { tta: 'ten-crop' } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/tta/) });
  });
});

describe('checkSvmInput', () => {
  it('accepts AU features of the current version and 48x48 pixels, and names what it cannot run', () => {
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'au-features', featureVersion: FEATURE_VERSION } }))).toEqual({
      ok: true,
      input: { type: 'au-features' },
    });
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'pixels', size: 48 } }))).toEqual({
      ok: true,
      input: { type: 'pixels', size: 48, descriptor: 'raw' },
    });
    expect(
      checkSvmInput(entry({ kind: 'svm', input: { type: 'pixels', size: 48, descriptor: 'hog', hog: { cell: 6, bins: 9 } } })),
    ).toEqual({
      ok: true,
      input: { type: 'pixels', size: 48, descriptor: 'hog', hog: { size: 48, cell: 6, bins: 9 } },
    });
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'pixels', size: 48, descriptor: 'hog', hog: { cell: 7 } } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/hog.cell must divide/),
    });
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'au-features', featureVersion: FEATURE_VERSION + 1 } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/feature version .* retrain/),
    });
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: 3 } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expects 3 features/),
    });
    expect(checkSvmInput(entry({ kind: 'svm', input: { type: 'hog' } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown SVM input type "hog"/),
    });
  });
});

describe('prediction rows', () => {
  it('averages crop and mirror rows, and splits plain rows', () => {
    const a = [0.7, 0, 0, 0.3, 0, 0, 0];
    const b = [0.1, 0, 0, 0.9, 0, 0, 0];
    const c = [0, 1, 0, 0, 0, 0, 0];
    const d = [0, 0, 1, 0, 0, 0, 0];
    // Rows: crop0, crop1, mirror0, mirror1.
    const mean = meanOfHalves([...a, ...c, ...b, ...d], 2);
    expect(mean[0]![0]).toBeCloseTo(0.4, 12);
    expect(mean[0]![3]).toBeCloseTo(0.6, 12);
    expect(mean[1]).toEqual([0, 0.5, 0.5, 0, 0, 0, 0]);
    expect(rowsOf([...a, ...b], 2)).toEqual([a, b]);
    expect(argmax(mean[0]!)).toBe(3);
    expect(argmax([0.2, 0.2])).toBe(0);
  });
});

describe('backend parameter', () => {
  it('accepts known backends only', () => {
    expect(parseBackendParam('wasm')).toBe('wasm');
    expect(parseBackendParam('webgpu')).toBe('webgpu');
    expect(parseBackendParam('cuda')).toBeUndefined();
    expect(parseBackendParam(null)).toBeUndefined();
  });
});

describe('camera errors', () => {
  const err = (name: string) => Object.assign(new Error('x'), { name });
  it('maps getUserMedia failures to states with a message and an action', () => {
    expect(classifyCameraError(err('NotAllowedError')).problem).toBe('denied');
    expect(classifyCameraError(err('NotFoundError')).problem).toBe('none');
    expect(classifyCameraError(err('OverconstrainedError')).problem).toBe('none');
    expect(classifyCameraError(err('NotReadableError')).problem).toBe('busy');
    expect(classifyCameraError(err('SecurityError')).problem).toBe('insecure');
    expect(classifyCameraError('weird').problem).toBe('other');
    for (const p of ['denied', 'none', 'busy', 'insecure', 'other'] as const) {
      const m = cameraMessage(p);
      expect(m.title.length).toBeGreaterThan(5);
      expect(m.action.length).toBeGreaterThan(10);
    }
  });
});

describe('presentation', () => {
  it('has one distinct colour per emotion', () => {
    expect(new Set(EMOTIONS.map((_, i) => emotionColor(i))).size).toBe(7);
    expect(Object.keys(EMOTION_COLORS)).toEqual([...EMOTIONS]);
    expect(percent(0.874)).toBe('87%');
  });
  it('reports agreement', () => {
    expect(agreement([3])).toEqual({ kind: 'single' });
    expect(agreement([3, 3])).toEqual({ kind: 'agree', label: 3 });
    expect(agreement([3, 6, 3])).toEqual({ kind: 'disagree', labels: [3, 6] });
  });
});

describe('FrameStats', () => {
  it('computes FPS over recent frames', () => {
    const s = new FrameStats();
    expect(s.fps()).toBe(0);
    const times = { landmarker: 1, crop: 1, features: 0, models: {}, total: 2 };
    for (let i = 0; i < 10; i++) s.record(times, i * 50);
    expect(s.fps()).toBeCloseTo(20, 9);
    expect(s.frames).toBe(10);
    s.reset();
    expect(s.log).toEqual([]);
  });
});

describe('parseReportView', () => {
  it('reads what the Report view shows and drops malformed parts', () => {
    const view = parseReportView({
      arch: 'default',
      accuracy: 0.66,
      macroAvg: { f1: 0.6 },
      dataset: { name: 'FER2013', evaluatedOn: 'PrivateTest' },
      perClass: [{ label: 'angry', precision: 0.5, recall: 0.4, f1: 0.45, support: 10 }, { label: 'bad' }],
      confusionMatrix: [[1, 2]],
      history: [{ epoch: 1, loss: 1, acc: 0.5, valLoss: 1.1, valAcc: 0.45 }, { epoch: 2 }],
    });
    expect(view.accuracy).toBe(0.66);
    expect(view.macroF1).toBe(0.6);
    expect(view.labels).toEqual([...EMOTIONS]);
    expect(view.perClass).toHaveLength(1);
    expect(view.confusion).toBeUndefined();
    expect(view.history).toHaveLength(1);
    expect(view.facts).toContainEqual(['evaluated on', 'FER2013 PrivateTest']);
    expect(() => parseReportView([])).toThrow(/object/);
  });
});
