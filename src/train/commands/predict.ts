/**
 * npm run predict -- <files or folders> [--json] [--models id,id|DIR] [--backend wasm|webgl|webgpu]
 *                    [--fps N] [--timeline FILE.jsonl|FILE.csv] [--neutral PHOTO|FOLDER|auto]
 *
 * Every model on every face of each image, and of video frames sampled at --fps, through the app's
 * pipeline in headless Chromium. A table on stdout, or one JSON object per image or video with
 * --json; per video a summary (share of sampled face-frames per label per model), and with
 * --timeline one row per sampled frame, face and model. Exit status is non-zero only for usage
 * errors (2) and corrupt models (1); unreadable images and videos get an "error" field.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BROWSER_BACKENDS, isBrowserBackend, type BrowserBackend } from '../../core/contracts/index.ts';
import type { BatchInitResult, BatchNeutral } from '../../core/batch.ts';
import { parseInteger, parseNumber, parseOptions, readCommandLine, UsageError } from '../util/cli-args.ts';
import type { ModelEntry } from '../../core/contracts/index.ts';
import { collectImageFiles, CorruptModelError, manifestEntries, predictImages, type PredictedImage } from '../predict/predict.ts';
import { neutralFromPhotos, neutralReferences } from '../predict/neutral.ts';
import {
  collectPredictFiles,
  predictVideos,
  TimelineWriter,
  VIDEO_EXTENSIONS,
  type VideoNeutral,
  type VideoSummary,
} from '../predict/video.ts';

const DEFAULT_FPS = 5;

const USAGE = `usage: npm run predict -- <files or folders> [--json] [--models id,id|DIR] [--backend wasm|webgl|webgpu] [--pages N]
                          [--fps N] [--timeline FILE.jsonl|FILE.csv] [--neutral PHOTO|FOLDER|auto]

  Images (.jpg .png .webp ...) and videos (${[...VIDEO_EXTENSIONS].join(' ')}; the codecs Chromium decodes:
  VP8/VP9/AV1 WebM always, H.264 MP4/MOV only where the Chromium build has it).
  --json        one JSON object per image: {"file", "faces": [{"box": [x, y, w, h], "models": {"<id>": {"label", "probs"}}}]}
                and per video: {"file", "video": {"duration_s", "frames", "framesWithFace", ...}, "summary": {"<id>": {"<label>": share}}}
                (with --neutral auto also "neutral": {"frames", "used": [times], "moved": [ids]})
  --models      only these model ids (see models/index.json), or a models folder with its own index.json
                (e.g. personal models exported from the app and unzipped): every model listed there
  --backend     tfjs backend in the headless browser (default: automatic)
  --pages N     browser pages working in parallel on images (default 2)
  --fps N       video frames sampled per second of video (default ${DEFAULT_FPS}; 0.1 to 60)
  --timeline F  write every sampled video frame's faces to F: one row per frame, face and model
                (video, t_s, face, model, label and the seven probabilities), JSON lines (.jsonl) or CSV (.csv)
  --neutral P   a photo, or a folder of photos, of the person's relaxed face: every general model with a
                neutral reference then reads each face against it, as after the app's "Set my neutral face"
                (one person: it moves every face read)
                auto: no photo of the relaxed face needed; the most relaxed 10 % of the photos given (by the
                models' own p(neutral)) are taken as it, as the app's Auto does with the camera: photos of
                one person, at rest in some of them; each video is read against its own most relaxed 10 %
                of frames with one face (./auto for a file or folder named auto)`;

function formatVideo(video: VideoSummary): string[] {
  if (!video.video) return [`${video.file}: ${video.error}`];
  const v = video.video;
  const head =
    `${video.file}: ${v.duration_s} s, ${v.width}x${v.height}, ${v.frames} frames at ${v.fps} fps, a face in ${v.framesWithFace}` +
    (v.framesFailed ? `, ${v.framesFailed} failed` : '') +
    (video.error ? ` (${video.error})` : '');
  const models = Object.entries(video.summary ?? {}).map(
    ([id, shares]) =>
      `  ${id}: ${Object.entries(shares)
        .sort((a, b) => b[1] - a[1])
        .map(([label, share]) => `${label} ${(100 * share).toFixed(0)}%`)
        .join(', ')}`,
  );
  return [head, ...models];
}

function formatTable(image: PredictedImage, ids: string[]): string[] {
  if (image.error) return [`${image.file}: ${image.error}`];
  if (image.faces.length === 0) return [`${image.file}: no face found`];
  return image.faces.map((face, i) => {
    const cells = ids.map((id) => {
      const m = face.models[id];
      if (!m) return `${id}: -`;
      const p = Math.max(...m.probs);
      return `${id}: ${m.label} ${(100 * p).toFixed(0)}%`;
    });
    return `${image.file} face ${i + 1} [${face.box.join(',')}]  ${cells.join('  ')}`;
  });
}

/** The command line: files or folders to read, and the options. */
function parseCommandLine(args: readonly string[]) {
  const { values, positionals } = parseOptions(
    args,
    {
      json: { type: 'boolean', default: false },
      models: { type: 'string' },
      backend: { type: 'string' },
      pages: { type: 'string' },
      fps: { type: 'string' },
      timeline: { type: 'string' },
      neutral: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  const pages = values.pages === undefined ? undefined : parseInteger('pages', values.pages, { min: 1, max: 16 });
  const fps = values.fps === undefined ? DEFAULT_FPS : parseNumber('fps', values.fps, { min: 0.1, max: 60 });
  if (values.timeline !== undefined && !TimelineWriter.formatOf(values.timeline))
    throw new UsageError(`--timeline must name a .jsonl or .csv file, got "${values.timeline}"`);
  if (positionals.length === 0) throw new UsageError('no image or video file or folder given');
  return { values, positionals, pages, fps };
}

async function main(): Promise<number> {
  const line = readCommandLine('predict', USAGE, process.argv.slice(2), parseCommandLine);
  if ('exitCode' in line) return line.exitCode;
  const { values, positionals, pages, fps } = line.options;
  // --models DIR: a models folder of its own (an unzipped export from the app); else ids from models/.
  const modelsDir = values.models !== undefined && isFolder(values.models) ? resolve(values.models) : undefined;
  const manifestFile = join(modelsDir ?? 'models', 'index.json');
  if (!existsSync(manifestFile)) {
    console.error(
      modelsDir
        ? `predict: --models ${values.models}: ${manifestFile} not found; give a models folder with an index.json (as "Export my models" writes it) or model ids`
        : 'predict: models/index.json not found: run from the project folder, or train a model first (npm run train -- cnn)',
    );
    return 2;
  }
  let entries: ModelEntry[];
  try {
    entries = await manifestEntries(modelsDir);
  } catch (error) {
    console.error(`predict: ${(error as Error).message}`);
    return 1;
  }
  const available = entries.map((e) => e.id);
  let models: string[] | undefined;
  if (values.models && !modelsDir) {
    models = values.models
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = models.filter((m) => !available.includes(m));
    if (unknown.length > 0) {
      console.error(`predict: unknown model id ${unknown.map((u) => `"${u}"`).join(', ')}; models/index.json has: ${available.join(', ')}`);
      return 2;
    }
  }
  const backend = values.backend;
  if (backend !== undefined && !isBrowserBackend(backend)) {
    console.error(`predict: --backend must be ${BROWSER_BACKENDS.slice(0, -1).join(', ')} or ${BROWSER_BACKENDS.at(-1)}, got "${backend}"`);
    return 2;
  }
  let timeline: TimelineWriter | undefined;
  if (values.timeline !== undefined) {
    try {
      timeline = await TimelineWriter.open(values.timeline);
    } catch (error) {
      console.error(
        `predict: cannot write --timeline ${values.timeline} (${(error as Error).message}); check the folder exists and is writable`,
      );
      return 2;
    }
  }
  const { images: files, videos, missing, skipped } = await collectPredictFiles(positionals);
  const autoNeutral = values.neutral === 'auto';
  let neutralFiles: string[] | undefined;
  if (autoNeutral) {
    if (files.length === 0 && videos.length === 0) {
      console.error(
        'predict: --neutral auto learns the neutral face from the photos or videos given, and none was given; give photos or a video of the person, or --neutral PHOTO|FOLDER of their relaxed face',
      );
      await timeline?.close();
      return 2;
    }
    // Photos learn it from the photos; each video from its own frames (below).
    if (files.length > 0) neutralFiles = files;
  } else if (values.neutral !== undefined) {
    const found = await collectImageFiles([values.neutral]);
    if (found.files.length === 0) {
      const why = found.missing.length > 0 ? 'does not exist' : (found.skipped[0]?.reason ?? 'holds no image file');
      console.error(`predict: --neutral ${values.neutral} ${why}; give a photo, or a folder of photos, of the person's relaxed face`);
      await timeline?.close();
      return 2;
    }
    neutralFiles = found.files;
  }
  const ids = models ?? available;
  // Inputs that could not be read are named in the output and the others still run; the exit
  // status then says so (1), as a script running predict over a folder needs to know.
  let unreadable = 0;
  const print = (image: PredictedImage): void => {
    if (image.error) unreadable++;
    if (values.json) console.log(JSON.stringify(image));
    else for (const line of formatTable(image, ids)) console.log(line);
  };
  for (const m of missing) print({ file: m, faces: [], error: `${m} does not exist` });
  // Named and skipped, never opened: a FIFO would hang the run, a huge file exhaust memory.
  for (const s of skipped) print({ file: s.path, faces: [], error: `${s.path}: ${s.reason}` });
  let neutral: BatchNeutral | undefined;
  try {
    if (neutralFiles) {
      const photos = `${neutralFiles.length} photo${neutralFiles.length === 1 ? '' : 's'}`;
      console.error(
        autoNeutral
          ? `learning the neutral face from the most relaxed of the ${photos} given...`
          : `reading the neutral face in ${values.neutral} (${photos})...`,
      );
      const found = await neutralFromPhotos(neutralFiles, entries, {
        ...(models ? { models } : {}),
        ...(modelsDir ? { modelsDir } : {}),
        ...(backend ? { backend } : {}),
        pick: autoNeutral ? 'auto' : 'all',
      });
      const moved = found.moved;
      if (found.withFace === 0) {
        console.error(
          `predict: --neutral ${values.neutral}: no face found in ${autoNeutral ? 'the' : 'its'} ${found.photos} photo(s); give photos where the whole face is visible`,
        );
        return 1;
      }
      if (moved.length === 0) {
        console.error(
          `predict: --neutral: none of the models run has a neutral reference (${found.withoutReference.join(', ')}); ` +
            'npm run train -- neutral-reference adds one to the general models',
        );
        return 2;
      }
      console.error(
        (autoNeutral
          ? `neutral face from the ${found.used.length} most relaxed of the ${found.withFace} photo(s) with a face (${found.used.join(', ')}): ${moved.join(', ')} read against it`
          : `neutral face from ${found.withFace} of ${found.photos} photo(s): ${moved.join(', ')} read against it`) +
          (found.withoutReference.length ? `; as they are (no neutral reference): ${found.withoutReference.join(', ')}` : ''),
      );
      if (found.expressive)
        console.error(
          `note: that face reads as ${found.expressive.emotion} (${Math.round(100 * found.expressive.share)}%), and every face is read against it: ` +
            (autoNeutral
              ? 'give photos where the person is at rest in some, or --neutral PHOTO of their relaxed face'
              : 'give a photo of their relaxed face'),
        );
      neutral = found.moves;
    }
    if (files.length === 0 && videos.length === 0) {
      if (missing.length === 0 && skipped.length === 0)
        console.error(
          `predict: no image or video files found (looked for .jpg, .jpeg, .png, .webp, .bmp, .gif, .avif, ${[...VIDEO_EXTENSIONS].join(', ')})`,
        );
      return 1;
    }
    if (files.length > 0) await predictStills(files, { models, modelsDir, backend, pages, neutral, print });
    if (videos.length > 0) {
      const run = autoNeutral ? entries.filter((e) => !models || models.includes(e.id)) : undefined;
      if (run && neutralReferences(run).size === 0) {
        console.error(
          `predict: --neutral auto: none of the models run has a neutral reference (${run.map((e) => e.id).join(', ')}); ` +
            'npm run train -- neutral-reference adds one to the general models',
        );
        return 2;
      }
      console.error(
        `predicting ${videos.length} video${videos.length === 1 ? '' : 's'} at ${fps} fps` +
          (run ? ', each read twice: once to learn the neutral face from its most relaxed frames, once against it' : '') +
          '...',
      );
      if (!run && !neutral)
        console.error(
          "tip: --neutral auto reads each video against its own most relaxed frames, as the app's Auto does: " +
            "for a video of one person at rest in some of it, the general models then read the expressions of that face, not of FER2013's average one",
        );
      const started = Date.now();
      const tty = process.stderr.isTTY;
      let lastShown = '';
      await predictVideos(videos, {
        fps,
        ...(models ? { models } : {}),
        ...(modelsDir ? { modelsDir } : {}),
        ...(backend ? { backend } : {}),
        ...(run ? { autoNeutral: run } : neutral ? { neutral } : {}),
        onReady: (init) => console.error(describeInit(init)),
        onRow: (row) => timeline?.write(row),
        onProgress: (file, done, total, stage) => {
          // One updating line on a terminal; otherwise a line per tenth, so logs stay short.
          const tenth = `${file}:${stage ?? ''}:${Math.floor((10 * done) / total)}`;
          if (!tty && tenth === lastShown && done < total) return;
          lastShown = tenth;
          const line = `${file}${stage ? ' (finding its relaxed frames)' : ''}: ${done}/${total} frames (${Math.round((100 * done) / total)}%)`;
          if (tty) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
          else console.error(line);
        },
        onVideo: (video) => {
          if (video.error) unreadable++;
          if (video.neutral) console.error(describeVideoNeutral(video.file, video.neutral));
          if (values.json) console.log(JSON.stringify(video));
          else for (const line of formatVideo(video)) console.log(line);
        },
        onConsoleError: (t) => {
          if (process.env.DEBUG) console.error(`page: ${t}`);
        },
      });
      console.error(`${videos.length} video${videos.length === 1 ? '' : 's'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await timeline?.close();
  }
  if (unreadable > 0) {
    console.error(`predict: ${unreadable} of the files given could not be read (named above); the others were predicted`);
    return 1;
  }
  return 0;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function describeVideoNeutral(file: string, n: VideoNeutral): string {
  if (n.moved.length === 0)
    return `${file}: no neutral face learnt (${n.frames === 0 ? 'no frame shows exactly one face' : 'no model has a neutral reference'}): read as it is`;
  const times = n.used.map((t) => `${t} s`).join(', ');
  return (
    `${file}: neutral face from the ${n.used.length} most relaxed of its ${n.frames} frames with one face (${times}): ${n.moved.join(', ')} read against it` +
    (n.expressive
      ? `; note: even those read as ${n.expressive.emotion} (${Math.round(100 * n.expressive.share)}%), so the person may not relax in this video: read it without --neutral auto, or with --neutral PHOTO of their relaxed face`
      : '')
  );
}

function describeInit(init: BatchInitResult): string {
  const notes = init.models.filter((m) => m.status !== 'ready').map((m) => `${m.id} (${m.status})`);
  return (
    `backend ${init.backend ?? '?'}; models: ${
      init.models
        .filter((m) => m.status === 'ready')
        .map((m) => m.id)
        .join(', ') || 'none'
    }` + (notes.length ? `; not run: ${notes.join(', ')}` : '')
  );
}

async function predictStills(
  files: string[],
  o: {
    models: string[] | undefined;
    modelsDir: string | undefined;
    backend: BrowserBackend | undefined;
    pages: number | undefined;
    neutral: BatchNeutral | undefined;
    print: (image: PredictedImage) => void;
  },
): Promise<void> {
  const { models, modelsDir, backend, pages, neutral, print } = o;
  let count = 0;
  const started = Date.now();
  console.error(`predicting ${files.length} image${files.length === 1 ? '' : 's'}...`);
  await predictImages(files, {
    ...(models ? { models } : {}),
    ...(modelsDir ? { modelsDir } : {}),
    ...(backend ? { backend } : {}),
    ...(pages ? { pages } : {}),
    ...(neutral ? { neutral } : {}),
    onReady: (init) => console.error(describeInit(init)),
    onImage: (image) => {
      count++;
      print(image);
    },
    onConsoleError: (t) => {
      if (process.env.DEBUG) console.error(`page: ${t}`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  console.error(`${count} images in ${seconds.toFixed(1)} s (${(files.length / seconds).toFixed(1)} images/s, including browser start)`);
}

process.exitCode = await main().catch((error: unknown) => {
  if (!(error instanceof CorruptModelError)) throw error;
  console.error(`predict: ${error.message}`);
  return 1;
});
