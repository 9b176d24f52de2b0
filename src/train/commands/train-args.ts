/**
 * The command lines of `npm run train -- <command>`: usage texts and option parsing, kept apart
 * from the commands themselves so that a usage error (exit 2) or --help costs no TensorFlow.js,
 * libsvm or browser start. Every value is checked here, before any data is read.
 */
import { basename, resolve } from 'node:path';
import type { TrainBackend } from '../kernels/backend.ts';
import {
  parseChoice,
  parseInteger,
  parseList,
  parseNumber,
  parseOptions,
  parseUnitRange,
  UsageError,
  wantsHelp,
} from '../util/cli-args.ts';
import type { FinetuneCommandOptions } from '../finetune/command.ts';
import { defaultWorkerCount } from '../cnn/parallel/pool.ts';
import type { TrainCnnOptions } from '../cnn/options.ts';
import type { SvmArgs } from '../svm/train-svm.ts';
import type { FusionCommandOptions } from '../fusion/command.ts';
import type { NeutralReferenceOptions } from '../neutral/command.ts';
import type { RefitHeadOptions } from '../refit/command.ts';
import { parseIntensity } from '../data/intensity.ts';

export const COMMANDS = ['cnn', 'svm-au', 'svm-pixels', 'finetune', 'fusion', 'neutral-reference', 'refit-head'] as const;

export const TRAIN_USAGE = `usage: npm run train -- <cnn|svm-au|svm-pixels|finetune|fusion|neutral-reference|refit-head> [options]
  (npm run train -- <command> --help for each command's options)

npm run train -- cnn [options]

  --arch seed|default   seed = the reference study's CNN; default = ours (default: default)
  --epochs N            maximum epochs (default: seed 30, default 40)
  --batch-size N        global batch, split across workers (default 64)
  --lr X                Adam learning rate (default: seed 0.001 constant, default 0.002 cosine)
  --schedule constant|cosine
  --label-smoothing X   (default: seed 0, default 0.1)
  --no-augment          turn off rotation/shift/zoom/flip augmentation
  --no-tta              report PrivateTest without horizontal-flip test-time augmentation
  --patience N          early stopping patience in epochs (default 8)
  --out DIR             model folder (default: models/fer-cnn or models/fer-cnn-seed)
  --checkpoint DIR      checkpoint folder (default: runs/<out folder name>)
  --resume              continue from the checkpoint
  --fresh               start over even if a checkpoint exists (it is replaced)
  --data PATH           fer2013.csv or .csv.gz (default: ./data/, then ../shared/data/fer2013/)
  --workers N           data-parallel worker threads (default: CPU cores)
  --backend auto|wasm|tensorflow|cpu   (auto: tfjs-node if installed, else wasm)
  --reference-kernels   use only the plain Conv2DBackpropFilter kernel (slow; for comparison)
  --limit N             at most N rows per split (quick runs)
  --time-budget MIN     start no new epoch after MIN minutes
  --widths a,b,c,d      default arch channel widths (default 16,32,64,128)
  --seed N              random seed (default 1)
  --init DIR            start from this model folder's weights (same --arch/--widths), e.g. models/fer-cnn
  --crops               also train on the app pipeline's own crops of FER2013 (extraction cache; made if missing)
  --crop-mix P          probability an image is shown as its pipeline crop (default 0.5; needs --crops)
  --photometric         add light/contrast/gamma, blur, down-up scaling, noise and erasing augmentation
  --balance X           class-balanced loss, class weight (mean count / count)^X, X in (0, 1] (default off)
  --expression-warp LO-HI
                        soften expressions: with probability 0.5 each non-neutral image's face landmarks are
                        moved toward a neutral face shape, keeping a fraction a ~ U(LO, HI) of the expression,
                        and the image warped to match (0 < LO <= HI <= 1, e.g. 0.3-1; default off; needs the
                        FER2013 extraction cache: npm run extract -- <fer2013 path>)
  --distill DIR[,DIR]   knowledge distillation: targets mix the label with the mean probabilities of these
                        teacher CNN folders (flip TTA) on each training image, e.g. models/fer-cnn,models/fer-cnn-robust
  --distill-weight X    the teachers' share of the target, X in (0, 1] (default 0.5; needs --distill)
  --mixup ALPHA         mixup: blend each training image and its target with another of the batch, weight
                        ~ Beta(ALPHA, ALPHA), ALPHA in (0, 10], e.g. 0.2 (default off)
  --part-mask P         with probability P in (0, 1], hide the upper half of the face (brows, eyes) or the
                        lower half (nose, mouth) of a training image, even odds (default off)`;

/** --expression-warp LO-HI: the range of the fraction of the expression kept. */
export function parseExpressionWarp(text: string): { low: number; high: number } {
  const { low, high } = parseUnitRange('expression-warp', text);
  return { low, high };
}

/** The cnn command's options ('help' for --help/-h); UsageError for anything out of range. */
export function parseCnnArgs(args: string[]): Omit<TrainCnnOptions, 'log'> | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    arch: { type: 'string', default: 'default' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'label-smoothing': { type: 'string' },
    'no-augment': { type: 'boolean', default: false },
    'no-tta': { type: 'boolean', default: false },
    patience: { type: 'string', default: '8' },
    out: { type: 'string' },
    checkpoint: { type: 'string' },
    resume: { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    data: { type: 'string' },
    workers: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    'reference-kernels': { type: 'boolean', default: false },
    limit: { type: 'string' },
    'time-budget': { type: 'string' },
    widths: { type: 'string' },
    seed: { type: 'string', default: '1' },
    init: { type: 'string' },
    crops: { type: 'boolean', default: false },
    'crop-mix': { type: 'string' },
    photometric: { type: 'boolean', default: false },
    balance: { type: 'string' },
    'expression-warp': { type: 'string' },
    distill: { type: 'string' },
    'distill-weight': { type: 'string' },
    mixup: { type: 'string' },
    'part-mask': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values['crop-mix'] !== undefined && !values.crops) throw new UsageError('--crop-mix needs --crops');
  if (values['distill-weight'] !== undefined && values.distill === undefined) throw new UsageError('--distill-weight needs --distill');
  const distill =
    values.distill === undefined
      ? undefined
      : {
          teachers: parseList('distill', values.distill, (_, v) => resolve(v)),
          weight:
            values['distill-weight'] === undefined
              ? 0.5
              : parseNumber('distill-weight', values['distill-weight'], { min: 0, minExclusive: true, max: 1 }),
        };
  if (values['no-augment'] && values.photometric) throw new UsageError('--photometric and --no-augment contradict each other');
  if (values['no-augment'] && values['expression-warp'] !== undefined)
    throw new UsageError('--expression-warp and --no-augment contradict each other');
  const expressionWarp = values['expression-warp'] === undefined ? undefined : parseExpressionWarp(values['expression-warp']);
  if (values['no-augment'] && values.mixup !== undefined) throw new UsageError('--mixup and --no-augment contradict each other');
  const mixup = values.mixup === undefined ? undefined : parseNumber('mixup', values.mixup, { min: 0, minExclusive: true, max: 10 });
  if (values['no-augment'] && values['part-mask'] !== undefined) throw new UsageError('--part-mask and --no-augment contradict each other');
  const partMask =
    values['part-mask'] === undefined ? undefined : parseNumber('part-mask', values['part-mask'], { min: 0, minExclusive: true, max: 1 });
  // tiny: a small network for quick runs and tests (not in the usage).
  const arch = parseChoice('arch', values.arch, ['seed', 'default', 'tiny']);
  const isSeed = arch === 'seed';
  const schedule = parseChoice('schedule', values.schedule ?? (isSeed ? 'constant' : 'cosine'), ['constant', 'cosine']);
  const backend = parseChoice('backend', values.backend, ['auto', 'wasm', 'tensorflow', 'cpu']) as 'auto' | TrainBackend;
  if (values.resume && values.fresh)
    throw new UsageError('--resume and --fresh contradict each other: --resume continues the checkpoint, --fresh replaces it');
  const widths = values.widths
    ? parseList('widths', values.widths, (n, v) => parseInteger(n, v, { min: 1, max: 4096 }), 4)
    : arch === 'default'
      ? [16, 32, 64, 128]
      : undefined;
  const out = resolve(values.out ?? (isSeed ? 'models/fer-cnn-seed' : arch === 'tiny' ? 'runs/fer-cnn-tiny' : 'models/fer-cnn'));
  const id = basename(out);
  const limit = values.limit === undefined ? undefined : parseInteger('limit', values.limit, { min: 1 });
  const timeBudgetMin =
    values['time-budget'] === undefined ? undefined : parseNumber('time-budget', values['time-budget'], { min: 0, minExclusive: true });
  return {
    arch,
    widths,
    schedule,
    backend,
    out,
    id,
    epochs: values.epochs === undefined ? (isSeed ? 30 : 40) : parseInteger('epochs', values.epochs, { min: 1 }),
    batchSize: parseInteger('batch-size', values['batch-size'], { min: 1 }),
    lr: values.lr === undefined ? (isSeed ? 0.001 : 0.002) : parseNumber('lr', values.lr, { min: 0, minExclusive: true, max: 1 }),
    labelSmoothing:
      values['label-smoothing'] === undefined
        ? isSeed
          ? 0
          : 0.1
        : parseNumber('label-smoothing', values['label-smoothing'], { min: 0, max: 1, maxExclusive: true }),
    patience: parseInteger('patience', values.patience, { min: 1 }),
    workers: values.workers === undefined ? defaultWorkerCount() : parseInteger('workers', values.workers, { min: 1, max: 256 }),
    seed: parseInteger('seed', values.seed, { min: 0 }),
    ...(limit !== undefined ? { limit } : {}),
    ...(timeBudgetMin !== undefined ? { timeBudgetSec: timeBudgetMin * 60 } : {}),
    augment: !values['no-augment'],
    tta: !isSeed && !values['no-tta'],
    checkpointDir: resolve(values.checkpoint ?? `runs/${id}`),
    resume: values.resume,
    fresh: values.fresh,
    data: values.data,
    fastKernels: !values['reference-kernels'],
    ...(values.init !== undefined ? { init: resolve(values.init) } : {}),
    ...(values.crops
      ? { crops: true, cropMix: values['crop-mix'] === undefined ? 0.5 : parseNumber('crop-mix', values['crop-mix'], { min: 0, max: 1 }) }
      : {}),
    ...(values.photometric ? { photometric: true } : {}),
    ...(values.balance !== undefined ? { balance: parseNumber('balance', values.balance, { min: 0, minExclusive: true, max: 1 }) } : {}),
    ...(expressionWarp ? { expressionWarp } : {}),
    ...(distill ? { distill } : {}),
    ...(mixup !== undefined ? { mixup } : {}),
    ...(partMask !== undefined ? { partMask } : {}),
    name: isSeed ? 'FER2013 CNN (reference architecture)' : arch === 'tiny' ? 'FER2013 tiny CNN' : 'FER2013 CNN',
  };
}

export const FINETUNE_USAGE = `usage: npm run train -- finetune --data <dir> [options]

  --data DIR            personal folder: DIR/<emotion>/*.{jpg,jpeg,png} (aliases: anger, happiness, scared, calm...)
  --from DIR            model to start from (default: models/fer-cnn)
  --freeze N            conv blocks kept frozen (default 2)
  --epochs N            (default 30)
  --lr X                Adam learning rate (default 0.0005)
  --batch-size N        (default 16)
  --val-split X         validation fraction, stratified (default 0.2)
  --seed N              split and training seed (default 42)
  --out DIR             (default: models/fer-cnn-finetuned)
  --estimate loso|repeated|none
                        unseen-data estimate: leave-one-subject-out (default when file names carry
                        subjects), 5 repeated splits, or none
  --no-svm              skip svm-au-personal`;

/** The finetune command's options ('help' for --help/-h); UsageError for anything out of range. */
export function parseFinetuneArgs(args: string[]): Omit<FinetuneCommandOptions, 'log'> | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    data: { type: 'string' },
    from: { type: 'string', default: 'models/fer-cnn' },
    freeze: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '30' },
    lr: { type: 'string', default: '0.0005' },
    'batch-size': { type: 'string', default: '16' },
    'val-split': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string', default: 'models/fer-cnn-finetuned' },
    estimate: { type: 'string', default: 'auto' },
    'no-augment': { type: 'boolean', default: false },
    'no-svm': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const options = {
    freeze: parseInteger('freeze', values.freeze, { min: 0 }),
    epochs: parseInteger('epochs', values.epochs, { min: 1 }),
    lr: parseNumber('lr', values.lr, { min: 0, minExclusive: true, max: 1 }),
    batchSize: parseInteger('batch-size', values['batch-size'], { min: 1 }),
    valSplit: parseNumber('val-split', values['val-split'], { min: 0.01, max: 0.9 }),
    seed: parseInteger('seed', values.seed, { min: 0 }),
    estimate: parseChoice('estimate', values.estimate, ['auto', 'loso', 'repeated', 'none']),
  };
  if (!values.data) throw new UsageError('--data <dir> is required: the folder of your labelled photos (DIR/<emotion>/*.jpg)');
  return {
    data: values.data,
    from: resolve(values.from),
    ...options,
    out: values.out,
    augment: !values['no-augment'],
    svm: !values['no-svm'],
  };
}

export const SVM_USAGE = `usage: npm run train -- svm-au|svm-pixels [options]

  svm-au       SVM on the AU-style features of each face (extracted in headless Chromium first)
  svm-pixels   SVM on the 48x48 pixels, reduced by PCA

  --data PATH         fer2013.csv[.gz] (default: ./data/, then ../shared/data/fer2013/);
                      svm-au also takes a personal folder (DIR/<emotion>/*.jpg): 5-fold CV, model svm-au-personal
  --cv-rows N         Training rows for the C/gamma search (default 3000)
  --train-rows N      Training rows for the final model (default: svm-au all, svm-pixels 12000)
  --grid-c a,b,...    C values (default 1,4,16)
  --grid-gamma a,...  gamma values, as multiples of 1/(mean squared norm of the inputs),
                      i.e. of 1/dims for standardised features (default 0.25,0.5,1,2)
  --components N      svm-pixels: PCA components of the HOG descriptor (default 150)
  --export-csv FILE   svm-au: also write the features as a table (OpenFace-like columns)
  --intensity LO-HI[xN]
                      svm-au: add N (default 1) copies of each non-neutral Training row moved toward
                      the neutral mean by a factor in [LO, HI] to the final fit, e.g. 0.3-1 (default off)
  --out DIR           (default: models/svm-au or models/svm-pixels)
  --seed N            (default 1; 42 with a personal folder, the fine-tune's split)`;

/** The svm-au / svm-pixels options ('help' for --help/-h); UsageError for anything out of range. */
export function parseSvmArgs(args: string[]): SvmArgs | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    data: { type: 'string' },
    'cv-rows': { type: 'string', default: '3000' },
    'train-rows': { type: 'string' },
    'grid-c': { type: 'string', default: '1,4,16' },
    'grid-gamma': { type: 'string', default: '0.25,0.5,1,2' },
    components: { type: 'string', default: '150' },
    'export-csv': { type: 'string' },
    intensity: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const positive = (n: string, v: string) => parseNumber(n, v, { min: 0, minExclusive: true });
  return {
    ...(values.data !== undefined ? { data: values.data } : {}),
    ...(values.seed !== undefined ? { seed: parseInteger('seed', values.seed, { min: 0 }) } : {}),
    cvRows: parseInteger('cv-rows', values['cv-rows'], { min: 10 }),
    ...(values['train-rows'] !== undefined ? { trainRows: parseInteger('train-rows', values['train-rows'], { min: 10 }) } : {}),
    gridC: parseList('grid-c', values['grid-c'], positive),
    gridGammaFactors: parseList('grid-gamma', values['grid-gamma'], positive),
    components: parseInteger('components', values.components, { min: 2 }),
    ...(values['export-csv'] !== undefined ? { exportCsv: values['export-csv'] } : {}),
    ...(values.intensity !== undefined ? { intensity: parseIntensity(values.intensity) } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
  };
}

export const FUSION_USAGE = `usage: npm run train -- fusion [options]

  A softmax regression over a CNN's log-probabilities (flip TTA as its entry says) and the AU-style
  features, fitted on the FER2013 PublicTest faces of the extraction cache (npm run extract makes it).

  --members a,b       member CNN ids in the index.json beside --out (default fer-cnn)
  --l2 X              L2 strength, pulling towards the members alone (default: chosen by CV from 0.001..1)
  --balance X         class-balanced loss, class weight (mean count / count)^X, X in [0, 1]
                      (default: chosen by CV from 0, 0.5, 1)
  --intensity LO-HI[xN]
                      expression-intensity augmentation: N (default 1) copies of each non-neutral
                      row moved toward the neutral mean by a factor in [LO, HI], e.g. 0.3-1 (default off)
  --folds N           CV folds within PublicTest (default 5)
  --seed N            fold assignment and augmentation seed (default 1)
  --data PATH         fer2013.csv[.gz] (default: ./data/, then ../shared/data/fer2013/)
  --name TEXT         display name in the app and reports (default "Fusion: <members> + AU features")
  --out DIR           (default: models/fusion-<members joined by ->)`;

/** A display name: 1-60 printable characters after trimming. */
function parseName(text: string): string {
  const name = text.trim();
  const control = [...name].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);
  if (name.length === 0 || name.length > 60 || control)
    throw new UsageError(`--name: "${text}" must be 1 to 60 printable characters (it is shown in the app's model panel)`);
  return name;
}

/** The fusion command's options ('help' for --help/-h); UsageError for anything out of range. */
export function parseFusionArgs(args: string[]): Omit<FusionCommandOptions, 'log'> | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    members: { type: 'string', default: 'fer-cnn' },
    l2: { type: 'string' },
    balance: { type: 'string' },
    intensity: { type: 'string' },
    name: { type: 'string' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const members = parseList('members', values.members, (n, v) => {
    if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new UsageError(`--${n}: "${v}" is not a model id (letters, digits, . _ -)`);
    return v;
  });
  if (new Set(members).size !== members.length) throw new UsageError(`--members lists a model twice: ${values.members}`);
  return {
    members,
    ...(values.l2 !== undefined ? { l2: parseNumber('l2', values.l2, { min: 0 }) } : {}),
    ...(values.balance !== undefined ? { balance: parseNumber('balance', values.balance, { min: 0, max: 1 }) } : {}),
    ...(values.intensity !== undefined ? { intensity: parseIntensity(values.intensity) } : {}),
    ...(values.name !== undefined ? { name: parseName(values.name) } : {}),
    folds: parseInteger('folds', values.folds, { min: 2, max: 20 }),
    seed: parseInteger('seed', values.seed, { min: 0 }),
    ...(values.data !== undefined ? { data: values.data } : {}),
    out: resolve(values.out ?? `models/fusion-${members.join('-')}`),
  };
}

export const NEUTRAL_REFERENCE_USAGE = `usage: npm run train -- neutral-reference [options]

  Writes each general model's neutral reference into its models/index.json entry: its mean
  log-probabilities over the FER2013 Training neutral faces of the extraction cache (npm run extract
  makes it). The live view's "neutral face" step moves a person's neutral face to it.

  --models a,b        model ids (default: every entry whose report.json says FER2013)
  --models-dir DIR    the models folder holding index.json (default models)
  --data PATH         fer2013.csv[.gz] (default: ./data/, then ../shared/data/fer2013/)`;

/** The neutral-reference command's options ('help' for --help/-h). */
export function parseNeutralReferenceArgs(args: string[]): Omit<NeutralReferenceOptions, 'log'> | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    models: { type: 'string' },
    'models-dir': { type: 'string', default: 'models' },
    data: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const models =
    values.models !== undefined
      ? parseList('models', values.models, (n, v) => {
          if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new UsageError(`--${n}: "${v}" is not a model id (letters, digits, . _ -)`);
          return v;
        })
      : undefined;
  return {
    ...(models ? { models } : {}),
    modelsDir: resolve(values['models-dir']),
    ...(values.data !== undefined ? { data: values.data } : {}),
  };
}

export const REFIT_HEAD_USAGE = `usage: npm run train -- refit-head --model DIR --out DIR [options]

  Refits a CNN's last layer (softmax regression on its own penultimate features, the body kept) on
  FER2013 Training in both framings: FER2013's own and the app pipeline's aligned crops (the
  extraction cache; npm run extract makes it). PrivateTest is scored once, by the published model.

  --model DIR         the CNN model folder to start from (read only), e.g. models/fer-cnn
  --out DIR           model folder to publish: a new folder, or a model folder to replace
                      (e.g. models/fer-cnn itself; its neutral reference is then dropped: rerun
                      npm run train -- neutral-reference)
  --l2 X              L2 strength (default: chosen on PublicTest macro F1 from 0.1, 0.01, 0.001)
  --logit-adjust T    subtract T x log(class share in FER2013 Training) from the biases: 0 keeps
                      FER2013's class mix as the prior, 1 makes every class equally likely
                      (default: chosen with L2 from 0, 0.25, 0.5, 0.75, 1)
  --name TEXT         display name (default: the model's)
  --data PATH         fer2013.csv[.gz] (default: ./data/, then ../shared/data/fer2013/)`;

/** The refit-head command's options ('help' for --help/-h). */
export function parseRefitHeadArgs(args: string[]): Omit<RefitHeadOptions, 'log'> | 'help' {
  if (wantsHelp(args)) return 'help';
  const { values } = parseOptions(args, {
    model: { type: 'string' },
    out: { type: 'string' },
    l2: { type: 'string' },
    'logit-adjust': { type: 'string' },
    name: { type: 'string' },
    data: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.model === undefined)
    throw new UsageError('--model is required: the CNN model folder whose last layer is refitted, e.g. --model models/fer-cnn');
  if (values.out === undefined)
    throw new UsageError(
      '--out is required: the model folder to publish, e.g. --out models/fer-cnn-refit (or --out models/fer-cnn to replace it)',
    );
  return {
    model: resolve(values.model),
    out: resolve(values.out),
    ...(values.l2 !== undefined ? { l2: parseNumber('l2', values.l2, { min: 0, minExclusive: true }) } : {}),
    ...(values['logit-adjust'] !== undefined
      ? { logitAdjust: parseNumber('logit-adjust', values['logit-adjust'], { min: 0, max: 1 }) }
      : {}),
    ...(values.name !== undefined ? { name: parseName(values.name) } : {}),
    ...(values.data !== undefined ? { data: values.data } : {}),
  };
}
