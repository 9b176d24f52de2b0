/**
 * npm run bench:live: the built app in headless Chromium over a fake webcam (JAFFE photos in turn),
 * every manifest model on every frame. Per backend: FPS, p50/p95 latency per stage and end to end,
 * tfjs tensor count and JS heap after warm-up and at the end.
 *
 *   npm run bench:live -- [--frames 300] [--backends wasm,webgl,webgpu] [--where worker,split,page,worker-plain,worker-fresh]
 *                         [--landmarker page|worker] [--models DIR] [--hide ID,ID] [--camera-noise SIGMA] [--reuse N]
 *                         [--auto-neutral] [--max-seconds 120] [--json FILE] [--cpu-profile FILE]
 *
 * --where: all models in the inference worker with video frames read ahead (default, as the app
 * does on 2 cores or more; ?worker=1), split between the page thread and the worker
 * (?worker=split), all on the page thread (?worker=0), and/or in the worker without read ahead
 * (worker-plain: ?worker=1&ahead=0; the landmarker then works on the next frame meanwhile), or read
 * ahead with the landmarker on every frame (worker-fresh: ?reuse=0; by default a frame where the face
 * held still reuses the last landmarks, pipeline.ts StillReuse).
 * --landmarker worker: MediaPipe in its own worker (?landmarker=worker).
 * --auto-neutral: tick the live view's neutral-face Auto box first (src/core/auto-neutral.ts: the
 * baseline learnt from the most relaxed recent frames), to measure what learning it costs per frame.
 * --cpu-profile FILE: also record a DevTools CPU profile of the page thread over the measured
 * frames (FILE.cpuprofile per run, loadable in DevTools) and print its self time by function; the
 * profiler costs a few FPS, so compare such runs with each other only.
 *
 * --models defaults to ./models when it has an index.json, else untrained fixture models of the
 * same shapes (timings are then still representative). GPU backends on a GPU-less machine run on
 * SwiftShader and are slow; each backend stops after --max-seconds even if short of --frames.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { makeFixtureModels } from '../browser/fixture-models.ts';
import { composeFrames, writeY4m } from '../browser/y4m.ts';
import { BROWSER_BACKENDS, parseManifest, type Snapshot, type StageTimes } from '../../core/contracts/index.ts';
import { buildApp, serveApp } from '../browser/app-server.ts';
import { findChromium, launchChromium } from '../browser/browser.ts';
import { renderProfileSummary, summarizeProfile, type CpuProfile } from '../browser/cpu-profile.ts';
import { parseInteger, parseList, parseChoice, parseNumber, parseOptions, readCommandLine } from '../util/cli-args.ts';

const USAGE = `usage: npm run bench:live -- [--frames 300] [--backends wasm,webgl,webgpu] [--where worker,split,page,worker-plain,worker-fresh]
                           [--landmarker page|worker] [--models DIR] [--hide ID,ID] [--camera-noise SIGMA] [--reuse N]
                           [--auto-neutral] [--max-seconds 120] [--warmup 150] [--json FILE] [--cpu-profile FILE]
  --where        worker-fresh: as worker, with the landmarker on every frame (?reuse=0)
  --reuse N      with worker: at most N frames in a row reuse the last landmarks (?reuse=N; default the app's, 1)
  --hide         models to hide in the live view's "Models shown" (a hidden model is not run)
  --auto-neutral tick the neutral face's Auto box (learn the neutral face from the frames) before starting
  --camera-noise Gaussian pixel noise of the fake webcam, in gray levels (default 0: each photo repeats unchanged)
  --cpu-profile  write the page thread's CPU profile over the measured frames to FILE-<backend>-<where>.cpuprofile
                 and print its self time by function (the profiler slows the page a little)`;

/** The options, checked before anything is built; a usage error exits 2. */
function options() {
  const line = readCommandLine('bench:live', USAGE, process.argv.slice(2), (args) => {
    const { values } = parseOptions(args, {
      frames: { type: 'string', default: '300' },
      backends: { type: 'string', default: 'wasm,webgl,webgpu' },
      models: { type: 'string' },
      'max-seconds': { type: 'string', default: '120' },
      // Long enough for JIT and first-use allocations to settle before the heap is measured.
      warmup: { type: 'string', default: '150' },
      json: { type: 'string' },
      where: { type: 'string', default: 'worker' },
      landmarker: { type: 'string', default: 'page' },
      hide: { type: 'string' },
      'camera-noise': { type: 'string', default: '0' },
      reuse: { type: 'string' },
      'cpu-profile': { type: 'string' },
      'auto-neutral': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    });
    return {
      values,
      frames: parseInteger('frames', values.frames, { min: 1 }),
      warmup: parseInteger('warmup', values.warmup, { min: 0 }),
      maxSeconds: parseInteger('max-seconds', values['max-seconds'], { min: 1 }),
      backends: parseList('backends', values.backends, (n, v) => parseChoice(n, v, ['auto', ...BROWSER_BACKENDS])),
      landmarker: parseChoice('landmarker', values.landmarker, ['page', 'worker']),
      wheres: parseList('where', values.where, (n, v) => parseChoice(n, v, ['split', 'page', 'worker', 'worker-plain', 'worker-fresh'])),
      cameraNoise: parseNumber('camera-noise', values['camera-noise'], { min: 0, max: 64 }),
      reuse: values.reuse === undefined ? undefined : parseInteger('reuse', values.reuse, { min: 0, max: 30 }),
      hide: values.hide === undefined ? [] : parseList('hide', values.hide, (_, v) => v),
      autoNeutral: values['auto-neutral'] === true,
      cpuProfile: values['cpu-profile'] === undefined ? undefined : resolve(values['cpu-profile'].replace(/\.cpuprofile$/, '')),
    };
  });
  if ('exitCode' in line) process.exit(line.exitCode);
  return line.options;
}
const {
  values,
  frames: FRAMES,
  warmup: WARMUP,
  maxSeconds,
  backends,
  wheres,
  landmarker,
  hide,
  autoNeutral,
  cameraNoise,
  reuse,
  cpuProfile,
} = options();
const MAX_MS = maxSeconds * 1000;

const root = resolve(import.meta.dirname, '../../..');
const jaffe = resolve(root, '../shared/data/faces/jaffe');
const PHOTOS = ['happy/KA.HA4.32.png', 'surprise/KA.SU1.36.png', 'neutral/KA.NE2.27.png', 'angry/KA.AN2.40.png'].map((p) => join(jaffe, p));

if (!findChromium()) throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
for (const p of PHOTOS) if (!existsSync(p)) throw new Error(`missing ${p} (the fake webcam is made from ../shared/data/faces/jaffe)`);

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

function stage(values: number[]): { p50: number; p95: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: +quantile(s, 0.5).toFixed(2), p95: +quantile(s, 0.95).toFixed(2) };
}

const work = await mkdtemp(join(tmpdir(), 'bench-live-'));
let fixtureDir: string | undefined;
const modelsDir = values.models
  ? resolve(values.models)
  : existsSync(join(root, 'models/index.json'))
    ? join(root, 'models')
    : (fixtureDir = await makeFixtureModels({ extras: false }));
console.error(`models: ${modelsDir}${fixtureDir ? ' (untrained fixtures: ./models has no index.json)' : ''}`);
if (hide.length > 0) {
  const listed = parseManifest(JSON.parse(await readFile(join(modelsDir, 'index.json'), 'utf8'))).models.map((m) => m.id);
  const unknown = hide.filter((id) => !listed.includes(id));
  if (unknown.length > 0) {
    console.error(`bench:live: --hide ${unknown.join(',')}: not in ${join(modelsDir, 'index.json')} (it lists ${listed.join(', ')})`);
    await rm(work, { recursive: true, force: true });
    if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
    process.exit(2);
  }
}

type Stage = { p50: number; p95: number };
/** One backend x placement run, as printed and written to --json. */
interface BenchRow {
  backend: string;
  where: string;
  lanes?: string;
  /** The neutral face at the end: none, set, auto (learnt from the frames). */
  neutral: string;
  frames: number;
  /** Share of frames whose crop models started on early crops (read ahead). */
  readAhead: number;
  /** Share of frames that reused the last landmarks. */
  reused: number;
  fps: number;
  total: Stage;
  /** End to end over the frames the landmarker read, and over those that reused its landmarks. */
  totalLandmarked: Stage;
  totalReused: Stage;
  landmarker: Stage;
  crop: Stage;
  features: Stage;
  models: Record<string, Stage>;
  tensors: { start: number; end: number };
  heapMB: { start: number | null; end: number | null };
  heapCurve: [number, number][];
  truncated: boolean;
}
const results: BenchRow[] = [];
const profiles: string[] = [];
try {
  const outDir = join(work, 'dist');
  await buildApp(outDir, modelsDir);
  const video = join(work, 'webcam.y4m');
  const composer = await launchChromium();
  try {
    // Each photo for one second at 30 FPS, looping.
    await writeY4m(video, await composeFrames(composer, PHOTOS), 30, 30, cameraNoise);
  } finally {
    await composer.close();
  }
  const app = await serveApp(outDir, modelsDir);
  try {
    for (const backend of backends)
      for (const where of wheres) {
        const browser = await launchChromium({
          fakeVideo: video,
          webgpu: backend === 'webgpu',
          extraArgs: ['--enable-precise-memory-info', '--js-flags=--expose-gc'],
        });
        try {
          const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
          const params = new URLSearchParams();
          if (backend !== 'auto') params.set('backend', backend);
          if (where.startsWith('worker')) params.set('worker', '1');
          if (where === 'worker-plain') params.set('ahead', '0');
          if (where === 'worker-fresh') params.set('reuse', '0');
          else if (where === 'worker' && reuse !== undefined) params.set('reuse', String(reuse));
          if (landmarker !== 'page') params.set('landmarker', landmarker);
          if (where === 'page') params.set('worker', '0');
          if (where === 'split') params.set('worker', 'split');
          const query = params.size ? `?${params}` : '';
          await page.goto(`${app.url}/${query}`);
          await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 120_000 });
          const models = await page
            .locator('[data-model-status][data-status="ready"]')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-model-status')!));
          // What the app really did (split falls back to the page when it gains nothing).
          const modelsIn = await page.locator('[data-hud]').getAttribute('data-models-in');
          const lanes = await page.locator('[data-hud]').getAttribute('data-lanes');
          // The settings panel may be closed: toggle the boxes through the DOM, as a click would.
          for (const id of hide) {
            const hidden = await page.evaluate((m) => {
              const box = document.querySelector<HTMLInputElement>(`[data-model-toggle="${m}"]`);
              if (box?.checked) box.click();
              return box ? !box.checked : null;
            }, id);
            if (hidden !== true)
              throw new Error(
                `--hide ${id}: ${hidden === null ? 'no "Models shown" box for it (did it load?)' : 'its box stayed checked'}`,
              );
          }
          if (autoNeutral) {
            const ticked = await page.evaluate(() => {
              const box = document.querySelector<HTMLInputElement>('[data-action="neutral-auto"]');
              if (box && !box.checked) box.click();
              return box?.checked ?? null;
            });
            if (ticked !== true)
              throw new Error(
                `--auto-neutral: ${ticked === null ? 'no neutral-face Auto box on the page' : 'the Auto box stayed unticked'}`,
              );
          }
          await page.click('[data-action="start"]');
          // Each poll moves the timing log gathered so far out of the page (so the log does not grow
          // the heap being measured), then forces a GC and reads the heap.
          const log: StageTimes[] = [];
          type Hook = { snapshot(withLog: boolean): Promise<Snapshot>; takeLog(): StageTimes[] };
          const snap = async () => {
            const r = await page.evaluate(async () => {
              const hook = (window as unknown as { __emotionLens: Hook }).__emotionLens;
              const taken = hook.takeLog();
              (globalThis as unknown as { gc?: () => void }).gc?.();
              return { taken, snapshot: await hook.snapshot(false) };
            });
            log.push(...r.taken);
            return r.snapshot;
          };
          const started = Date.now();
          while ((await snap()).frames < WARMUP && Date.now() - started < MAX_MS) await page.waitForTimeout(200);
          await page.evaluate(() => (window as unknown as { __emotionLens: { resetStats(): void } }).__emotionLens.resetStats());
          log.length = 0;
          const first = await snap();
          const cdp = cpuProfile ? await page.context().newCDPSession(page) : undefined;
          if (cdp) {
            await cdp.send('Profiler.enable');
            // 1 ms between samples: fine enough for per-frame stages of a few ms.
            await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
            await cdp.send('Profiler.start');
          }
          const t0 = Date.now();
          let last = first;
          // Heap after GC every ~250 frames, to tell steady growth from noise.
          const heapCurve: [number, number][] = [];
          const mb = (bytes: number | null) => (bytes === null ? NaN : +(bytes / 2 ** 20).toFixed(2));
          while (last.frames < FRAMES && Date.now() - t0 < MAX_MS) {
            await page.waitForTimeout(500);
            last = await snap();
            if (last.frames >= (heapCurve.length + 1) * 250) heapCurve.push([last.frames, mb(last.heapBytes)]);
          }
          log.push(...(await page.evaluate(() => (window as unknown as { __emotionLens: Hook }).__emotionLens.takeLog())));
          const seconds = (Date.now() - t0) / 1000;
          if (cdp) {
            const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
            const file = `${cpuProfile}-${backend}-${where}.cpuprofile`;
            await mkdir(dirname(file), { recursive: true });
            await writeFile(file, JSON.stringify(profile));
            profiles.push(`${renderProfileSummary(summarizeProfile(profile, 25), `page thread, ${backend} ${where}`)}\n  (${file})`);
          }
          // 'auto' once a neutral face has been learnt from the frames (--auto-neutral).
          const neutral = (await page.locator('[data-neutral-state]').first().getAttribute('data-neutral-state')) ?? 'none';
          const row: BenchRow = {
            neutral,
            backend: last.backend,
            where: modelsIn && modelsIn !== where.replace(/-(plain|fresh)$/, '') ? modelsIn : where,
            ...(lanes ? { lanes } : {}),
            frames: log.length,
            readAhead: +(log.filter((t) => t.readAhead).length / Math.max(1, log.length)).toFixed(3),
            reused: +(log.filter((t) => t.reused).length / Math.max(1, log.length)).toFixed(3),
            fps: +(log.length / seconds).toFixed(1),
            total: stage(log.map((t) => t.total)),
            totalLandmarked: stage(log.filter((t) => !t.reused).map((t) => t.total)),
            totalReused: stage(log.filter((t) => t.reused).map((t) => t.total)),
            // Over the frames the landmarker read (a reused frame's 0 ms is not its cost).
            landmarker: stage(log.filter((t) => !t.reused).map((t) => t.landmarker)),
            crop: stage(log.map((t) => t.crop)),
            features: stage(log.map((t) => t.features)),
            models: Object.fromEntries(
              models
                .filter((id) => !hide.includes(id))
                .map((id) => [id, stage(log.map((t) => t.models[id] ?? NaN).filter(Number.isFinite))]),
            ),
            tensors: { start: first.numTensors, end: last.numTensors },
            heapMB: {
              start: first.heapBytes === null ? null : +(first.heapBytes / 2 ** 20).toFixed(2),
              end: last.heapBytes === null ? null : +(last.heapBytes / 2 ** 20).toFixed(2),
            },
            heapCurve,
            truncated: log.length < FRAMES,
          };
          results.push(row);
          console.error(JSON.stringify(row));
        } finally {
          await browser.close();
        }
      }
  } finally {
    await app.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
  if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
}

const fmt = (s: Stage) => `${s.p50} / ${s.p95}`;
/** Start, the first curve point (one-time warm-up allocations are done by then) and end. */
function heapText(r: BenchRow): string {
  const first = r.heapCurve[0];
  if (!first) return `${r.heapMB.start} -> ${r.heapMB.end} MB`;
  const growth = ((Number(r.heapMB.end) - first[1]) / first[1]) * 100;
  return `${r.heapMB.start} MB at start, ${first[1]} at frame ${first[0]}, ${r.heapMB.end} at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% after frame ${first[0]})`;
}
console.log(
  `\nbench:live, ${new Date().toISOString()}, models: ${fixtureDir ? 'untrained fixtures' : modelsDir}${cameraNoise > 0 ? `, camera noise sigma ${cameraNoise}` : ''}${reuse !== undefined ? `, reuse ${reuse}` : ''}${hide.length > 0 ? `, hidden: ${hide.join(', ')}` : ''}${autoNeutral ? ', neutral face: Auto' : ''}`,
);
console.log('ms p50 / p95 per frame; FPS = frames processed per second of wall time');
for (const r of results) {
  const modelCols = Object.entries(r.models)
    .map(([id, s]) => `${id} ${fmt(s)}`)
    .join(', ');
  console.log(
    `${r.backend.padEnd(7)} ${r.where.padEnd(6)} ${String(r.frames).padStart(5)} frames  ${String(r.fps).padStart(5)} FPS${r.readAhead > 0 ? `  read ahead ${(r.readAhead * 100).toFixed(1)}%` : ''}${r.reused > 0 ? `  landmarks reused ${(r.reused * 100).toFixed(1)}%` : ''}  end-to-end ${fmt(r.total)}${r.reused > 0 ? ` (landmarked ${fmt(r.totalLandmarked)}, reused ${fmt(r.totalReused)})` : ''}  landmarker ${fmt(r.landmarker)}  crop ${fmt(r.crop)}  features ${fmt(r.features)}  ${modelCols}${r.lanes ? `  lanes ${r.lanes}` : ''}${r.neutral !== 'none' ? `  neutral ${r.neutral}` : ''}  tensors ${r.tensors.start}->${r.tensors.end}  heap ${heapText(r)}${r.truncated ? '  (stopped at --max-seconds)' : ''}`,
  );
}
for (const p of profiles) console.log(`\n${p}`);
if (values.json) await writeFile(values.json, JSON.stringify(results, null, 2));
