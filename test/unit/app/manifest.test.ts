import { describe, expect, it } from 'vitest';
import {
  describeDataset,
  formatAccuracy,
  isSafeRelativePath,
  loadManifest,
  loadReport,
  parseManifest,
  summariseReport,
} from '../../../src/app/manifest.ts';

const input = { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: 'hflip-mean' };
const entry = { id: 'fer-cnn', name: 'FER CNN', kind: 'cnn', path: 'fer-cnn/model.json', input, report: 'fer-cnn/report.json' };

function fakeFetch(routes: Record<string, unknown>) {
  return async (url: string) => {
    if (!(url in routes)) return { ok: false, status: 404, json: async () => ({}) };
    return { ok: true, status: 200, json: async () => routes[url] };
  };
}

describe('manifest', () => {
  // The contract itself (src/core/contracts/manifest.ts) is tested in test/contracts.test.ts.
  it('parses a valid manifest and defaults the name', () => {
    const svm = { id: 'svm', kind: 'svm', path: 'svm/model.json', input: { type: 'pixels', size: 48 } };
    const m = parseManifest({ models: [entry, svm] });
    expect(m.models[0]).toEqual(entry);
    expect(m.models[1]).toEqual({ ...svm, name: 'svm' });
  });

  it('rejects bad manifests with a message naming the file and entry', () => {
    expect(() => parseManifest({})).toThrow(/^models\/index\.json: must be an object with a "models" array/);
    expect(() => parseManifest({ models: [{ ...entry, kind: 'rnn' }] })).toThrow(/models\[0\] \(fer-cnn\)\.kind/);
    expect(() => parseManifest({ models: [entry, entry] })).toThrow(/used twice/);
    expect(() => parseManifest({ models: [{ ...entry, path: '../x.json' }] })).toThrow(/path/);
  });

  it('only accepts paths that stay inside models/', () => {
    expect(isSafeRelativePath('a/b.json')).toBe(true);
    for (const bad of ['', '/a.json', '../a', 'a/../../b', 'https://x.y/a', 'a//b', 'a\\b']) {
      expect(isSafeRelativePath(bad)).toBe(false);
    }
  });

  it('summarises reports', () => {
    expect(summariseReport({ accuracy: 0.6543, dataset: { name: 'FER2013', split: 'PrivateTest', samples: 3589 } })).toEqual({
      accuracy: 0.6543,
      dataset: 'FER2013, split: PrivateTest, samples: 3589',
    });
    expect(summariseReport({ accuracy: 65.4 }).accuracy).toBeCloseTo(0.654);
    expect(summariseReport({ accuracy: 'high' })).toEqual({});
    expect(describeDataset('FER2013 test')).toBe('FER2013 test');
    expect(formatAccuracy(0.6543)).toBe('65.4 %');
    expect(formatAccuracy(undefined)).toBe('—');
  });

  it('loads the manifest and reports through fetch', async () => {
    expect(await loadManifest(fakeFetch({}))).toEqual({ status: 'missing' });
    const fetchJson = fakeFetch({
      '/models/index.json': { models: [entry] },
      '/models/fer-cnn/report.json': { accuracy: 0.5 },
    });
    const state = await loadManifest(fetchJson);
    expect(state.status).toBe('ready');
    if (state.status !== 'ready') return;
    expect(await loadReport(fetchJson, state.manifest.models[0])).toEqual({ status: 'ready', accuracy: 0.5 });
    expect(await loadReport(fakeFetch({}), state.manifest.models[0])).toEqual({ status: 'none' });
    const broken = await loadManifest(fakeFetch({ '/models/index.json': { models: [{ ...entry, path: '/abs' }] } }));
    expect(broken).toEqual({
      status: 'error',
      message: expect.stringMatching(/^\/models\/index\.json: models\[0\] \(fer-cnn\)\.path must be/),
    });
  });
});
