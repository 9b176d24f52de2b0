/**
 * npm run predict -- <files or folders> [--json] [--models id,id] [--backend wasm|webgl|webgpu]
 *
 * Every model on every face of each image, through the app's pipeline in headless Chromium.
 * A table on stdout, or one JSON object per image with --json. Exit status is non-zero only for
 * usage errors (2) and corrupt models (1); unreadable images get an "error" field.
 */
import { existsSync } from 'node:fs';
import { BROWSER_BACKENDS, isBrowserBackend } from '../../core/contracts/index.ts';
import { parseInteger, parseOptions, UsageError, wantsHelp } from '../util/cli-args.ts';
import { collectImageFiles, CorruptModelError, manifestModelIds, predictImages, type PredictedImage } from '../predict/predict.ts';

const USAGE = `usage: npm run predict -- <files or folders> [--json] [--models id,id] [--backend wasm|webgl|webgpu] [--pages N]

  --json        one JSON object per image: {"file", "faces": [{"box": [x, y, w, h], "models": {"<id>": {"label", "probs"}}}]}
  --models      only these model ids (see models/index.json)
  --backend     tfjs backend in the headless browser (default: automatic)
  --pages N     browser pages working in parallel (default 2)`;

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

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (wantsHelp(args)) {
    console.log(USAGE);
    return 0;
  }
  let values;
  let positionals;
  let pages: number | undefined;
  try {
    ({ values, positionals } = parseOptions(
      args,
      {
        json: { type: 'boolean', default: false },
        models: { type: 'string' },
        backend: { type: 'string' },
        pages: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      true,
    ));
    pages = values.pages === undefined ? undefined : parseInteger('pages', values.pages, { min: 1, max: 16 });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`predict: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length === 0) {
    console.error(`predict: no image file or folder given\n${USAGE}`);
    return 2;
  }
  if (!existsSync('models/index.json')) {
    console.error('predict: models/index.json not found: run from the project folder, or train a model first (npm run train -- cnn)');
    return 2;
  }
  let available: string[];
  try {
    available = await manifestModelIds();
  } catch (error) {
    console.error(`predict: ${(error as Error).message}`);
    return 1;
  }
  let models: string[] | undefined;
  if (values.models) {
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
  const { files, missing, skipped } = await collectImageFiles(positionals);
  const ids = models ?? available;
  const started = Date.now();
  let count = 0;
  const print = (image: PredictedImage): void => {
    count++;
    if (values.json) console.log(JSON.stringify(image));
    else for (const line of formatTable(image, ids)) console.log(line);
  };
  for (const m of missing) print({ file: m, faces: [], error: `${m} does not exist` });
  // Named and skipped, never opened: a FIFO would hang the run, a huge file exhaust memory.
  for (const s of skipped) print({ file: s.path, faces: [], error: `${s.path}: ${s.reason}` });
  if (files.length === 0) {
    if (missing.length === 0 && skipped.length === 0)
      console.error('predict: no image files found (looked for .jpg, .jpeg, .png, .webp, .bmp, .gif, .avif)');
    return 0;
  }
  console.error(`predicting ${files.length} image${files.length === 1 ? '' : 's'}...`);
  await predictImages(files, {
    ...(models ? { models } : {}),
    ...(backend ? { backend } : {}),
    ...(pages ? { pages } : {}),
    onReady: (init) => {
      const notes = init.models.filter((m) => m.status !== 'ready').map((m) => `${m.id} (${m.status})`);
      console.error(
        `backend ${init.backend ?? '?'}; models: ${
          init.models
            .filter((m) => m.status === 'ready')
            .map((m) => m.id)
            .join(', ') || 'none'
        }` + (notes.length ? `; not run: ${notes.join(', ')}` : ''),
      );
    },
    onImage: print,
    onConsoleError: (t) => {
      if (process.env.DEBUG) console.error(`page: ${t}`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  console.error(`${count} images in ${seconds.toFixed(1)} s (${(files.length / seconds).toFixed(1)} images/s, including browser start)`);
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  if (!(error instanceof CorruptModelError)) throw error;
  console.error(`predict: ${error.message}`);
  return 1;
});
