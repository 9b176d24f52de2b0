/**
 * npm run bench:calibrate: the in-browser calibration trainer (src/app/calibration/trainer.ts, in
 * its Web Worker, under the app's CSP) in headless Chromium, on calibration sets made from JAFFE.
 *
 *   npm run bench:calibrate                          one subject (KA), 7 emotions x 40 frames: time per model and total
 *   npm run bench:calibrate -- --jaffe-subjects      every subject: personal vs general held-out accuracy
 *   options: --data DIR (default ../shared/data/faces/jaffe)  --subject XX  --subjects KA,KL (with --jaffe-subjects)
 *            --frames N (per emotion, default 40)  --backend wasm|webgl|webgpu|cpu (default wasm)  --seed N (default 1)
 *            --epochs N  --freeze N  --batch-size N  --lr X (fine-tuning; default the app's CALIBRATION_FINETUNE)
 *
 * JAFFE has about 3 photos per person and emotion, so the "webcam frames" are made from them: each
 * photo's crop and AU-style features (through the app's pipeline, `npm run extract`'s cache) is
 * repeated with small random jitter (crop: rotation +-3 deg, shift and zoom +-3 %; features: Gaussian
 * noise of 5 % of each feature's spread over JAFFE), in time order photo by photo. In the default
 * mode the frames cycle through all of the subject's photos. With --jaffe-subjects, the last photo
 * (by file name) of each emotion supplies that emotion's last 20 % of frames, i.e. exactly the frames
 * the trainer holds out, so held-out accuracy is measured on photos it never trained on; emotions
 * with a single photo for a subject are left out.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { heldOutCount } from '../../core/calibration/split.ts';
import type { CalibrationSample } from '../../core/calibration/types.ts';
import { EMOTIONS, IMAGE_PIXELS } from '../../core/labels.ts';
import { mulberry32 } from '../../core/random.ts';
import { augmentInto, type AugmentOptions } from '../../learn/augment.ts';
import { CALIBRATION_FINETUNE, type CalibrationFinetune } from '../../learn/personal.ts';
import { launchChromium } from '../browser/browser.ts';
import { startDevServer } from '../browser/dev-server.ts';
import { loadPersonalData, type PersonalData } from '../data/personal-crops.ts';
import { parseChoice, parseInteger, parseNumber, parseOptions, readCommandLine, UsageError } from '../util/cli-args.ts';

const USAGE = `usage: npm run bench:calibrate -- [--jaffe-subjects [--subjects KA,KL]] [--subject KA] [--frames 40]
       [--backend wasm|webgl|webgpu|cpu] [--seed 1] [--data ../shared/data/faces/jaffe]
       [--epochs N] [--freeze N] [--batch-size N] [--lr X]   (default: the app's calibration settings)`;

const BACKENDS = ['wasm', 'webgl', 'webgpu', 'cpu'] as const;

interface Options {
  data: string;
  subjects: boolean;
  only?: string[];
  subject: string;
  frames: number;
  backend: (typeof BACKENDS)[number];
  seed: number;
  finetune: Partial<CalibrationFinetune>;
}

function options(): Options {
  const line = readCommandLine('bench:calibrate', USAGE, process.argv.slice(2), (args): Options => {
    const { values } = parseOptions(args, {
      data: { type: 'string', default: '../shared/data/faces/jaffe' },
      'jaffe-subjects': { type: 'boolean', default: false },
      subjects: { type: 'string' },
      subject: { type: 'string', default: 'KA' },
      frames: { type: 'string', default: '40' },
      backend: { type: 'string', default: 'wasm' },
      seed: { type: 'string', default: '1' },
      epochs: { type: 'string' },
      freeze: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.subjects !== undefined && !values['jaffe-subjects']) throw new UsageError('--subjects goes with --jaffe-subjects');
    return {
      data: resolve(values.data),
      subjects: values['jaffe-subjects'],
      ...(values.subjects !== undefined ? { only: values.subjects.split(',').map((s) => s.trim().toUpperCase()) } : {}),
      subject: values.subject.toUpperCase(),
      frames: parseInteger('frames', values.frames, { min: 5, max: 400 }),
      backend: parseChoice('backend', values.backend, BACKENDS),
      seed: parseInteger('seed', values.seed, { min: 0 }),
      finetune: {
        ...(values.epochs !== undefined ? { epochs: parseInteger('epochs', values.epochs, { min: 1, max: 100 }) } : {}),
        ...(values.freeze !== undefined ? { freeze: parseInteger('freeze', values.freeze, { min: 0, max: 4 }) } : {}),
        ...(values['batch-size'] !== undefined
          ? { batchSize: parseInteger('batch-size', values['batch-size'], { min: 1, max: 512 }) }
          : {}),
        ...(values.lr !== undefined ? { lr: parseNumber('lr', values.lr, { min: 0, minExclusive: true, max: 1 }) } : {}),
      },
    };
  });
  if ('exitCode' in line) process.exit(line.exitCode);
  return line.options;
}

const JITTER: AugmentOptions = { rotationDeg: 3, shift: 0.03, zoom: 0.03, flip: false };

/** One photo as a jittered "webcam frame" (the first frame of a photo is the photo itself). */
function frameOf(
  data: PersonalData,
  row: number,
  exact: boolean,
  spread: Float64Array,
  rand: () => number,
): Omit<CalibrationSample, 't' | 'label'> {
  const f = new Float32Array(IMAGE_PIXELS);
  augmentInto(data.pixels, row * IMAGE_PIXELS, f, 0, exact ? { rotationDeg: 0, shift: 0, zoom: 0, flip: false } : JITTER, rand);
  const crop = Uint8Array.from(f, (v) => Math.round(v * 255));
  const base = data.features[row]!;
  const features = Float32Array.from(base, (v, j) => {
    if (exact) return v;
    // Box-Muller: N(0, 1).
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return v + 0.05 * spread[j]! * g;
  });
  return { crop, features };
}

/** Per-feature standard deviation over the whole folder. */
function featureSpread(data: PersonalData): Float64Array {
  const d = data.features[0]!.length;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const x of data.features) for (let j = 0; j < d; j++) mean[j] += x[j]! / data.features.length;
  for (const x of data.features) for (let j = 0; j < d; j++) sq[j] += (x[j]! - mean[j]!) ** 2 / data.features.length;
  return sq.map(Math.sqrt);
}

/**
 * A calibration set of `frames` frames per emotion from a subject's photos (rows of `data`).
 * With `holdLastPhoto`, the emotion's last photo fills exactly its held-out frames.
 */
function makeSet(data: PersonalData, rows: number[], frames: number, holdLastPhoto: boolean, seed: number) {
  const rand = mulberry32(seed);
  const spread = featureSpread(data);
  const samples: CalibrationSample[] = [];
  const heldPhotos: string[] = [];
  let t = 0;
  for (let label = 0; label < EMOTIONS.length; label++) {
    const photos = rows
      .filter((r) => data.samples[r]!.label === label)
      .sort((a, b) => data.samples[a]!.file.localeCompare(data.samples[b]!.file));
    if (photos.length === 0 || (holdLastPhoto && photos.length < 2)) continue;
    const held = holdLastPhoto ? heldOutCount(frames) : 0;
    const trainPhotos = holdLastPhoto ? photos.slice(0, -1) : photos;
    for (let i = 0; i < frames; i++) {
      const inHeld = i >= frames - held;
      const row = inHeld ? photos.at(-1)! : trainPhotos[Math.floor((i * trainPhotos.length) / (frames - held))]!;
      const first = inHeld
        ? i === frames - held
        : i === 0 || row !== trainPhotos[Math.floor(((i - 1) * trainPhotos.length) / (frames - held))];
      samples.push({ t: (t += 33), label, ...frameOf(data, row, first, spread, rand) });
    }
    if (holdLastPhoto) heldPhotos.push(data.samples[photos.at(-1)!]!.file);
  }
  return { set: { samples, capturedAt: new Date(0).toISOString() }, heldPhotos };
}

interface PageResult {
  heldOut: { count: number; general: Record<string, number>; personal: Record<string, number> };
  timings: { general: number; cnn: number; svm: number; total: number };
  backend: string;
  wallSec: number;
  bytes: Record<string, number>;
}

/** Runs trainPersonalModels in the page (the dev server serves the module under the app's CSP). */
async function trainInPage(browser: Browser, url: string, set: ReturnType<typeof makeSet>['set'], o: Options): Promise<PageResult> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  try {
    await page.goto(`${url}/batch.html`);
    const payload = {
      capturedAt: set.capturedAt,
      samples: set.samples.map((s) => ({ t: s.t, label: s.label, crop: Array.from(s.crop), features: Array.from(s.features) })),
    };
    return await page.evaluate(
      async ({ payload, seed, backend, finetune }) => {
        const trainer = '/src/app/calibration/trainer.ts';
        // (Typed by hand: src/train does not import src/app, not even its types.)
        type Folder = { entry: { id: string }; files: Record<string, Uint8Array> };
        type Trained = { cnn: Folder; svm: Folder; heldOut: PageResult['heldOut']; timings: PageResult['timings']; backend: string };
        const { trainPersonalModels } = (await import(/* @vite-ignore */ trainer)) as {
          trainPersonalModels(set: unknown, options: { seed: number; backend: string; finetune: object }): Promise<Trained>;
        };
        const set = {
          capturedAt: payload.capturedAt,
          samples: payload.samples.map((s) => ({
            t: s.t,
            label: s.label,
            crop: Uint8Array.from(s.crop),
            features: Float32Array.from(s.features),
          })),
        };
        const t0 = performance.now();
        const r = await trainPersonalModels(set, { seed, backend, finetune });
        const bytes: Record<string, number> = {};
        for (const f of [r.cnn, r.svm]) for (const [name, b] of Object.entries(f.files)) bytes[`${f.entry.id}/${name}`] = b.byteLength;
        return { heldOut: r.heldOut, timings: r.timings, backend: r.backend, wallSec: (performance.now() - t0) / 1000, bytes };
      },
      { payload, seed: o.seed, backend: o.backend, finetune: o.finetune },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}${problems.length ? `\npage errors:\n  ${problems.join('\n  ')}` : ''}`, { cause: error });
  } finally {
    await page.close();
  }
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);

const o = options();
const data = await loadPersonalData(o.data, (line) => console.log(`  ${line}`));
const bySubject = new Map<string, number[]>();
data.samples.forEach((s, i) => {
  if (s.subject === undefined) return;
  bySubject.set(s.subject, [...(bySubject.get(s.subject) ?? []), i]);
});
if (bySubject.size === 0) {
  console.error(`bench:calibrate: no subject in the file names of ${o.data} (JAFFE-style names, e.g. KA.HA1.29.png, are needed)`);
  process.exit(1);
}
const subjects = o.subjects ? (o.only ?? [...bySubject.keys()].sort()) : [o.subject];
for (const s of subjects) {
  if (!bySubject.has(s)) {
    console.error(`bench:calibrate: subject ${s} has no photos in ${o.data} (subjects: ${[...bySubject.keys()].sort().join(', ')})`);
    process.exit(2);
  }
}

let server: { url: string; close: () => Promise<void> } | undefined;
let browser: Browser | undefined;
try {
  server = await startDevServer();
  const url = server.url;
  browser = await launchChromium();
  const ft = { ...CALIBRATION_FINETUNE, ...o.finetune };
  console.log(`backend ${o.backend}, ${o.frames} frames per emotion, seed ${o.seed}; Chromium on ${url} (the app's CSP)`);
  // Timings depend on what else runs on the machine: say how busy it was.
  console.log(`load average at start: ${loadavg()[0]!.toFixed(1)}`);
  console.log(
    `fine-tuning: freeze ${ft.freeze}, ${ft.epochs} epochs, batch ${ft.batchSize}, lr ${ft.lr}, augmentation ${ft.augment ? 'on' : 'off'}`,
  );
  if (!o.subjects) {
    const rows = bySubject.get(o.subject)!;
    const { set } = makeSet(data, rows, o.frames, false, o.seed);
    const emotions = new Set(set.samples.map((s) => s.label)).size;
    console.log(`${o.subject}: ${rows.length} photos -> ${set.samples.length} frames (${emotions} emotions)`);
    const r = await trainInPage(browser, url, set, o);
    console.log(`backend used: ${r.backend}`);
    console.log(`general models (load + score held-out): ${r.timings.general.toFixed(1)} s`);
    console.log(`personal CNN (my-cnn):                  ${r.timings.cnn.toFixed(1)} s`);
    console.log(`personal AU SVM (my-svm-au):            ${r.timings.svm.toFixed(1)} s`);
    console.log(`both personal models:                   ${(r.timings.cnn + r.timings.svm).toFixed(1)} s`);
    console.log(
      `total in the worker:                    ${r.timings.total.toFixed(1)} s (page call incl. worker start: ${r.wallSec.toFixed(1)} s)`,
    );
    console.log(
      `held-out (${r.heldOut.count} frames): ${Object.entries({ ...r.heldOut.general, ...r.heldOut.personal })
        .map(([id, a]) => `${id} ${pct(a)}`)
        .join(', ')}`,
    );
    console.log(
      `files: ${Object.entries(r.bytes)
        .map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} kB`)
        .join(', ')}`,
    );
  } else {
    console.log('subject  held-out photos  frames  fer-cnn  svm-au  my-cnn  my-svm-au   cnn s  svm s');
    const rows: { subject: string; r: PageResult }[] = [];
    for (const subject of subjects) {
      const { set, heldPhotos } = makeSet(data, bySubject.get(subject)!, o.frames, true, o.seed);
      const r = await trainInPage(browser, url, set, o);
      rows.push({ subject, r });
      const g = r.heldOut.general;
      const p = r.heldOut.personal;
      console.log(
        `${subject.padEnd(8)} ${String(heldPhotos.length).padStart(15)} ${String(r.heldOut.count).padStart(7)}  ${pct(g['fer-cnn'])}  ${pct(g['svm-au'])}  ${pct(p['my-cnn'])}  ${pct(p['my-svm-au'])}   ${r.timings.cnn.toFixed(1).padStart(5)}  ${r.timings.svm.toFixed(1).padStart(5)}`,
      );
    }
    const summary = (pick: (r: PageResult) => number | undefined) => {
      const xs = rows.map((x) => pick(x.r)).filter((v): v is number => v !== undefined && !Number.isNaN(v));
      if (xs.length === 0) return '-';
      return `mean ${pct(xs.reduce((a, b) => a + b, 0) / xs.length)}, range ${pct(Math.min(...xs))} - ${pct(Math.max(...xs))}`;
    };
    console.log(`fer-cnn (general):   ${summary((r) => r.heldOut.general['fer-cnn'])}`);
    console.log(`svm-au (general):    ${summary((r) => r.heldOut.general['svm-au'])}`);
    console.log(`my-cnn (personal):   ${summary((r) => r.heldOut.personal['my-cnn'])}`);
    console.log(`my-svm-au (personal): ${summary((r) => r.heldOut.personal['my-svm-au'])}`);
  }
  console.log(`load average at end: ${loadavg()[0]!.toFixed(1)}`);
} finally {
  await browser?.close();
  await server?.close();
}
