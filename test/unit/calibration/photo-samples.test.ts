/**
 * Calibrating from photos: CaptureStore.addPhoto (each photo kept, one face only, the cap, time =
 * order of addition so the held-out split is the last photos added), the photo minimum, the refusal
 * messages naming the file, addPhotos over files with a fake decoder and detector, and the live
 * session's detectStill (the detect stage alone, pausing the frame loop).
 */
import { describe, expect, it } from 'vitest';
import {
  addPhotos,
  CALIBRATION_STEPS,
  facesRefusal,
  photoFinetune,
  type Decode,
  type StillDetector,
} from '../../../src/app/calibration/photo-samples.ts';
import { CALIBRATION_FINETUNE } from '../../../src/learn/personal.ts';
import type { Detection, FrameSource } from '../../../src/app/live/pipeline.ts';
import type { SessionEngine } from '../../../src/app/live/session.ts';
import { fakeSession } from '../../helpers/fake-session.ts';
import {
  CaptureStore,
  MIN_FRAMES_PER_EMOTION,
  MIN_PHOTOS_PER_EMOTION,
  photoRefusal,
  type CaptureFace,
} from '../../../src/core/calibration/capture.ts';
import { splitByTime } from '../../../src/core/calibration/split.ts';

const HAPPY = 3;
const SAD = 4;

function face(gray: number): CaptureFace {
  return { crop: new Uint8Array(48 * 48).fill(gray), features: new Float32Array([gray, 1, 2]) };
}

describe('CaptureStore.addPhoto', () => {
  it('keeps every photo, even identical ones, with t = order of addition after the emotion’s latest sample', () => {
    const store = new CaptureStore();
    for (let i = 0; i < 3; i++) expect(store.addPhoto(HAPPY, [face(100)]).kept).toBe(true);
    expect(store.samples(HAPPY).map((s) => s.t)).toEqual([1, 2, 3]);
    // An emotion with recorded frames (camera-clock times): photos come after them.
    store.offer(SAD, 5000, [face(10)]);
    store.offer(SAD, 5033, [face(60)]);
    const r = store.addPhoto(SAD, [face(60)]);
    expect(r.kept && r.sample.t).toBe(5034);
    expect(store.isPhoto(r.kept ? r.sample : store.samples(SAD)[0]!)).toBe(true);
    expect(store.isPhoto(store.samples(SAD)[0]!)).toBe(false);
    // Photos do not count as recording drops, and do not change the distinct-frame reference.
    expect(store.drops).toEqual({ 'no-face': 0, 'several-faces': 0, 'too-similar': 0, full: 0 });
  });

  it('refuses a photo with no face or several, and one over the per-emotion cap', () => {
    const store = new CaptureStore({ maxPerEmotion: 2 });
    expect(store.addPhoto(HAPPY, [])).toEqual({ kept: false, reason: 'no-face' });
    expect(store.addPhoto(HAPPY, [face(1), face(2)])).toEqual({ kept: false, reason: 'several-faces' });
    store.addPhoto(HAPPY, [face(1)]);
    store.addPhoto(HAPPY, [face(2)]);
    expect(store.addPhoto(HAPPY, [face(3)])).toEqual({ kept: false, reason: 'full' });
    expect(store.count(HAPPY)).toBe(2);
    expect(() => store.addPhoto(7, [face(1)])).toThrow(/emotion index 7/);
  });

  it('holds out the last photos added of each emotion (by t), and an emotion with photos needs 3, not 5', () => {
    const store = new CaptureStore();
    for (const g of [10, 20, 30]) store.addPhoto(HAPPY, [face(g)]);
    for (const g of [40, 50]) store.addPhoto(SAD, [face(g)]);
    expect(store.minimum(HAPPY)).toBe(MIN_PHOTOS_PER_EMOTION);
    expect(store.minimum(0)).toBe(MIN_FRAMES_PER_EMOTION);
    expect(store.usableEmotions()).toEqual([HAPPY]); // sad has 2 photos: not used
    expect(store.notReady()).toMatch(/add 3 or more photos each \(1 so far\)/);
    store.addPhoto(SAD, [face(60)]);
    expect(store.notReady()).toBeUndefined();
    const set = store.toSet();
    const split = splitByTime(set.samples);
    const heldGray = split.heldOut.map((i) => set.samples[i]!.crop[0]);
    expect(heldGray.sort()).toEqual([30, 60]); // the last photo added of each emotion
    // Deleting the last one and adding another: the new one is the latest.
    store.remove(HAPPY, 2);
    store.addPhoto(HAPPY, [face(90)]);
    expect(store.samples(HAPPY).map((s) => s.crop[0])).toEqual([10, 20, 90]);
    expect(store.samples(HAPPY).at(-1)!.t).toBeGreaterThan(store.samples(HAPPY)[1]!.t);
    // Recording the emotion again replaces its photos (and the recorded minimum applies again).
    store.clear(HAPPY);
    store.offer(HAPPY, 100, [face(5)]);
    expect(store.minimum(HAPPY)).toBe(MIN_FRAMES_PER_EMOTION);
  });

  it('says why a photo was refused, naming the file', () => {
    expect(photoRefusal('a.jpg', 'no-face')).toMatch(/^"a\.jpg": no face found/);
    expect(photoRefusal('b.png', 'several-faces')).toMatch(/^"b\.png": several faces found/);
    expect(photoRefusal('c.png', 'full', 40)).toMatch(/^"c\.png": not added, this emotion already has 40 examples/);
  });
});

describe('addPhotos', () => {
  const decode: Decode = async (file) => {
    if ((file as Blob & { name: string }).name.startsWith('broken')) throw new Error('decode');
    return { image: {} as FrameSource, width: 100, height: 80, close: () => {} };
  };
  /** Faces per file name: "0-…" none, "2-…" two, otherwise one (gray from the name's length). */
  const detectorFor = (names: string[]): StillDetector & { sizes: number[][] } => {
    let i = 0;
    const sizes: number[][] = [];
    return {
      sizes,
      detectStill: async (_image, width, height) => {
        sizes.push([width, height]);
        const name = names[i++]!;
        const one = { crop: new Float32Array(48 * 48).fill(0.5), features: new Float32Array([1, 2]) };
        return name.startsWith('0-') ? [] : name.startsWith('2-') ? [one, one] : [one];
      },
    };
  };
  const file = (name: string, type = 'image/png') => Object.assign(new Blob([new Uint8Array(4)], { type }), { name });

  it('adds each photo as one sample in order and refuses the others with a message naming the file', async () => {
    const store = new CaptureStore();
    const files = [
      file('ok-1.png'),
      file('0-empty.png'),
      file('notes.txt', 'text/plain'),
      file('broken.png'),
      file('2-pair.png'),
      file('ok-2.png'),
    ];
    // Only decodable images reach the detector.
    const detector = detectorFor(['ok-1.png', '0-empty.png', '2-pair.png', 'ok-2.png']);
    const progress: number[] = [];
    const outcome = await addPhotos(store, HAPPY, files, detector, { decode, onEach: (done) => progress.push(done) });
    expect(outcome.added).toBe(2);
    expect(outcome.refused).toEqual([
      expect.stringMatching(/^"0-empty\.png": no face found/),
      expect.stringMatching(/^"notes\.txt" is not an image \(text\/plain\)/),
      expect.stringMatching(/^"broken\.png" could not be read as an image/),
      expect.stringMatching(/^"2-pair\.png": several faces found/),
    ]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(detector.sizes[0]).toEqual([100, 80]);
    expect(store.samples(HAPPY).map((s) => s.t)).toEqual([1, 2]);
    expect(store.samples(HAPPY)[0]!.crop[0]).toBe(128); // the [0,1] crop as bytes
  });

  it('refuses a face whose crop or features the pipeline did not compute, and a detector failure, naming the file', async () => {
    const store = new CaptureStore();
    expect(facesRefusal(store, HAPPY, 'x.png', [{ crop: new Float32Array(2304), features: undefined }])).toMatch(
      /^"x\.png": the face was found but its AU-style features were not computed/,
    );
    const failing: StillDetector = {
      detectStill: () => Promise.reject(new Error('the face detector failed')),
    };
    const outcome = await addPhotos(store, HAPPY, [file('y.png')], failing, { decode });
    expect(outcome.refused).toEqual(['"y.png": the face detector failed']);
    expect(store.count(HAPPY)).toBe(0);
  });
});

describe('LiveSession.detectStill', () => {
  it('runs the detect stage alone on the image, pausing the camera loop meanwhile and resuming it after', async () => {
    const calls: string[] = [];
    let resets = 0;
    let active = 0;
    let mostActive = 0;
    const detection = (mode: 'video' | 'image', faces: number) =>
      ({
        mode,
        startMs: 0,
        ids: Array.from({ length: faces }, (_, i) => i),
        boxes: Array.from({ length: faces }, () => ({ x: 0, y: 0, width: 1, height: 1 })),
        crops: new Map([[48, Array.from({ length: faces }, (_, i) => new Float32Array(2304).fill(i / 10))]]),
        features: { count: faces, dim: 2, values: Float32Array.from({ length: faces * 2 }, (_, i) => i) },
      }) as unknown as Detection;
    const engine: SessionEngine = {
      landmarker: { setNumFaces: async () => {} },
      inference: undefined,
      pipeline: {
        settings: { smoothing: true, smoothingMs: 250 },
        neutral: undefined,
        neutralFeatures: undefined,
        rawTaps: new Set(),
        reset: () => void resets++,
        detect: async (_s, mode) => {
          calls.push(mode);
          mostActive = Math.max(mostActive, ++active);
          await new Promise((r) => setTimeout(r, 3));
          active--;
          return detection(mode, mode === 'image' ? 2 : 1);
        },
        classify: async () => ({ faces: [], times: { landmarker: 0, crop: 0, features: 0, models: {}, total: 0 }, width: 1, height: 1 }),
        process: async () => {
          throw new Error('process must not run for a calibration photo');
        },
      },
      close: () => {},
    };
    const session = fakeSession(async () => engine, 1);
    await expect(session.detectStill({} as FrameSource, 10, 10)).rejects.toThrow(/still loading/);
    await session.setup();
    await session.startCamera();
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toContain('video');

    // Two stills at once: run one after the other, never overlapping a video detect.
    const [a, b] = await Promise.all([session.detectStill({} as FrameSource, 10, 10), session.detectStill({} as FrameSource, 10, 10)]);
    expect(a).toHaveLength(2);
    expect(a[1]!.crop![0]).toBeCloseTo(0.1);
    expect([...a[1]!.features!]).toEqual([2, 3]);
    expect(b).toHaveLength(2);
    const first = calls.indexOf('image');
    expect(calls.slice(first, first + 2)).toEqual(['image', 'image']);
    expect(mostActive).toBe(1); // the one detector is never used by two calls at once
    expect(resets).toBeGreaterThanOrEqual(2); // tracking and smoothing restart after each still
    // The loop resumes.
    const before = calls.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(calls.slice(before)).toContain('video');
    expect(calls.slice(before)).not.toContain('image');

    // With no source, nothing resumes after a still.
    session.stopSource();
    await new Promise((r) => setTimeout(r, 10));
    await session.detectStill({} as FrameSource, 10, 10);
    const stopped = calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.length).toBe(stopped);
    session.destroy();
  });
});

describe('photoFinetune', () => {
  it('gives a photo set as many gradient steps as a full webcam calibration, and leaves large sets alone', () => {
    // 7 x 40 frames, 32 trained each, batch 32, CALIBRATION_FINETUNE's epochs.
    expect(CALIBRATION_STEPS).toBe(Math.ceil((7 * 32) / CALIBRATION_FINETUNE.batchSize) * CALIBRATION_FINETUNE.epochs);
    // KA's usable emotions: 3, 4, 3, 3, 3 photos -> 11 trained, one batch per epoch.
    expect(photoFinetune([3, 4, 3, 3, 3])).toEqual({ epochs: CALIBRATION_STEPS });
    // Two emotions of 40: 64 trained, 2 batches per epoch.
    expect(photoFinetune([40, 40])).toEqual({ epochs: CALIBRATION_STEPS / 2 });
    expect(photoFinetune([40, 40, 40, 40, 40, 40, 40])).toBeUndefined();
  });
});
