/** The library's surface (src/lib): exports, defaults, and validateConfig's errors. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as lib from '../../../src/lib/index.ts';
import { ConfigError, consensusOf, createEmotionLens, DEFAULT_CONFIG, EMOTIONS, validateConfig } from '../../../src/lib/index.ts';

describe('the library entry point', () => {
  it('exports exactly the documented surface', () => {
    expect(Object.keys(lib).sort()).toEqual([
      'ConfigError',
      'DEFAULT_CONFIG',
      'EMOTIONS',
      'MAX_FACES_LIMIT',
      'MAX_SMOOTHING_MS',
      'consensusOf',
      'createEmotionLens',
      'validateConfig',
    ]);
    expect(DEFAULT_CONFIG).toEqual({
      modelsUrl: '/models/',
      mediapipeWasmUrl: '/mediapipe/wasm',
      faceLandmarkerUrl: '/mediapipe/face_landmarker.task',
      tfjsWasmUrl: '/tfjs-wasm/',
      backend: 'auto',
      maxFaces: 4,
      smoothing: 250,
      models: 'all',
      worker: 'split',
      landmarks: false,
    });
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(EMOTIONS).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
  });

  it('createEmotionLens validates at once and returns an unloaded lens with load/detect/reset/dispose', () => {
    const lens = createEmotionLens({ maxFaces: 2, models: ['fer-cnn'] });
    expect(lens.config).toMatchObject({ maxFaces: 2, models: ['fer-cnn'], smoothing: 250 });
    for (const method of ['load', 'detect', 'reset', 'dispose'] as const) expect(typeof lens[method]).toBe('function');
    expect(() => createEmotionLens({ maxFaces: 0 })).toThrow(ConfigError);
    lens.dispose();
    return expect(lens.detect({} as HTMLCanvasElement)).rejects.toThrow(/after dispose\(\)/);
  });
});

describe('validateConfig', () => {
  afterEach(() => vi.unstubAllGlobals());

  const fails = (options: unknown, field: string, message: RegExp) => {
    let error: unknown;
    try {
      validateConfig(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^EmotionLensConfig\\.${field.replace(/[()]/g, '\\$&')}: `));
    expect((error as Error).message).toMatch(message);
  };

  it('fills in the defaults and normalises the folders', () => {
    expect(validateConfig()).toEqual(DEFAULT_CONFIG);
    expect(
      validateConfig({
        modelsUrl: 'assets/models',
        tfjsWasmUrl: '/wasm',
        mediapipeWasmUrl: '/mp/wasm/',
        smoothing: 0,
        backend: 'wasm',
        models: undefined,
      }),
    ).toMatchObject({
      modelsUrl: 'assets/models/',
      tfjsWasmUrl: '/wasm/',
      mediapipeWasmUrl: '/mp/wasm',
      smoothing: 0,
      backend: 'wasm',
      models: 'all',
    });
  });

  it('names the field at fault, what it got and what it takes', () => {
    fails(null, '(config)', /expected an object of options, got null/);
    fails({ maxFaces: 0 }, 'maxFaces', /integer from 1 to 10, got 0/);
    fails({ maxFaces: 2.5 }, 'maxFaces', /got 2\.5/);
    fails({ smoothing: -1 }, 'smoothing', /from 0 \(off\) to 5000, got -1/);
    fails({ smoothing: true }, 'smoothing', /got true/);
    fails({ backend: 'webgl2' }, 'backend', /"auto" or one of "webgpu", "webgl", "wasm", "cpu", got "webgl2"/);
    fails({ models: [] }, 'models', /non-empty array of model ids/);
    fails({ models: 'fer-cnn' }, 'models', /got "fer-cnn"/);
    fails({ worker: true }, 'worker', /"split", "page" or "worker", got true/);
    fails({ landmarks: 'yes' }, 'landmarks', /true or false/);
    fails({ modelsUrl: '' }, 'modelsUrl', /expected a URL string, got ""/);
    fails({ modelsUrl: 'javascript:alert(1)' }, 'modelsUrl', /not an http\(s\) URL/);
    fails({ modelUrl: '/models/' }, 'modelUrl', /unknown option; did you mean "modelsUrl"\?/);
  });

  it('in a page: resolves URLs against it and refuses other origins', () => {
    vi.stubGlobal('location', { href: 'http://127.0.0.1:5173/demo/index.html' });
    expect(validateConfig({ modelsUrl: 'models' }).modelsUrl).toBe('http://127.0.0.1:5173/demo/models/');
    expect(validateConfig().faceLandmarkerUrl).toBe('http://127.0.0.1:5173/mediapipe/face_landmarker.task');
    fails(
      { faceLandmarkerUrl: 'https://cdn.example.com/face_landmarker.task' },
      'faceLandmarkerUrl',
      /another origin; Emotion Lens fetches only from the page's own \(http:\/\/127\.0\.0\.1:5173\)/,
    );
  });
});

describe('consensusOf', () => {
  const HAPPY = [0, 0, 0, 0.8, 0.1, 0, 0.1];
  const SAD = [0, 0, 0, 0.3, 0.6, 0, 0.1];
  it('averages the models, names the top label and whether all agree', () => {
    expect(consensusOf([])).toBeNull();
    expect(consensusOf([{ label: 'happy', probs: HAPPY }])).toEqual({ label: 'happy', probs: HAPPY, agree: true });
    const mixed = consensusOf([
      { label: 'happy', probs: HAPPY },
      { label: 'sad', probs: SAD },
    ])!;
    expect(mixed.label).toBe('happy');
    expect(mixed.probs[3]).toBeCloseTo(0.55);
    expect(mixed.agree).toBe(false);
  });
});
