/**
 * npm run train -- cnn [--arch seed|default] [--epochs N] [--batch-size N] [--lr X] [--out DIR] [--resume] ...
 */
import { parseArgs } from 'node:util';
import { basename, resolve } from 'node:path';
import { trainCnn, type TrainCnnOptions } from './train-cnn.ts';
import { defaultWorkerCount } from './parallel/pool.ts';
import type { TrainBackend } from './backend.ts';

const USAGE = `usage: npm run train -- <cnn|svm-au|svm-pixels|finetune> [options]
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
  --data PATH           fer2013.csv or .csv.gz (default: ./data/, then ../shared/data/fer2013/)
  --workers N           data-parallel worker threads (default: CPU cores)
  --backend auto|wasm|tensorflow|cpu   (auto: tfjs-node if installed, else wasm)
  --reference-kernels   use only the plain Conv2DBackpropFilter kernel (slow; for comparison)
  --limit N             at most N rows per split (quick runs)
  --time-budget MIN     start no new epoch after MIN minutes
  --widths a,b,c,d      default arch channel widths (default 16,32,64,128)
  --seed N              random seed (default 1)`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'finetune') {
    const { finetuneCommand } = await import('./finetune/command.ts');
    return finetuneCommand(rest);
  }
  if (command === 'svm-au' || command === 'svm-pixels') {
    const { svmCommand } = await import('./svm-command.ts');
    return svmCommand(command, rest);
  }
  if (command !== 'cnn') {
    console.error(command ? `unknown command "${command}"\n\n${USAGE}` : USAGE);
    process.exit(command === '--help' || command === '-h' ? 0 : 2);
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      arch: { type: 'string', default: 'default' }, epochs: { type: 'string' }, 'batch-size': { type: 'string', default: '64' },
      lr: { type: 'string' }, schedule: { type: 'string' }, 'label-smoothing': { type: 'string' },
      'no-augment': { type: 'boolean', default: false }, 'no-tta': { type: 'boolean', default: false },
      patience: { type: 'string', default: '8' }, out: { type: 'string' }, checkpoint: { type: 'string' },
      resume: { type: 'boolean', default: false }, data: { type: 'string' }, workers: { type: 'string' },
      backend: { type: 'string', default: 'auto' }, 'reference-kernels': { type: 'boolean', default: false },
      limit: { type: 'string' }, 'time-budget': { type: 'string' }, widths: { type: 'string' }, seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) { console.log(USAGE); return; }
  const num = (name: string, v: string | undefined, fallback: number, min = 0): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${v}"`);
    return n;
  };
  const arch = values.arch!;
  if (arch !== 'seed' && arch !== 'default' && arch !== 'tiny') throw new Error(`--arch must be seed or default, got "${arch}"`);
  const isSeed = arch === 'seed';
  const schedule = (values.schedule ?? (isSeed ? 'constant' : 'cosine')) as TrainCnnOptions['schedule'];
  if (schedule !== 'constant' && schedule !== 'cosine') throw new Error(`--schedule must be constant or cosine, got "${schedule}"`);
  const backend = values.backend as 'auto' | TrainBackend;
  if (!['auto', 'wasm', 'tensorflow', 'cpu'].includes(backend)) throw new Error(`--backend must be auto, wasm, tensorflow or cpu, got "${backend}"`);
  const widths = values.widths ? values.widths.split(',').map((w) => num('widths', w, 0, 1)) : arch === 'default' ? [16, 32, 64, 128] : undefined;
  if (widths && widths.length !== 4) throw new Error('--widths takes four numbers, e.g. 16,32,64,128');
  const out = resolve(values.out ?? (isSeed ? 'models/fer-cnn-seed' : arch === 'tiny' ? 'runs/fer-cnn-tiny' : 'models/fer-cnn'));
  const id = basename(out);
  await trainCnn({
    arch, widths, epochs: num('epochs', values.epochs, isSeed ? 30 : 40, 1), batchSize: num('batch-size', values['batch-size'], 64, 1),
    lr: num('lr', values.lr, isSeed ? 0.001 : 0.002), schedule,
    labelSmoothing: num('label-smoothing', values['label-smoothing'], isSeed ? 0 : 0.1), augment: !values['no-augment'],
    tta: !isSeed && !values['no-tta'], patience: num('patience', values.patience, 8, 1), out,
    checkpointDir: resolve(values.checkpoint ?? `runs/${id}`), resume: values.resume!, data: values.data,
    workers: num('workers', values.workers, defaultWorkerCount(), 1), seed: num('seed', values.seed, 1), backend,
    fastKernels: !values['reference-kernels'], limit: values.limit ? num('limit', values.limit, 0, 1) : undefined,
    timeBudgetSec: values['time-budget'] ? num('time-budget', values['time-budget'], 0) * 60 : undefined,
    id, name: isSeed ? 'FER2013 CNN (reference architecture)' : arch === 'tiny' ? 'FER2013 tiny CNN' : 'FER2013 CNN',
    log: (line) => console.log(line),
  });
}

main(process.argv.slice(2)).then(() => process.exit(0), (e: Error) => {
  if (e.name === 'TrainingInterrupted') {
    console.error(e.message);
    process.exit(130);
  }
  console.error(`error: ${e.message}`);
  if (process.env.DEBUG) console.error(e.stack);
  process.exit(1);
});
