/**
 * What a CNN training run keeps in its checkpoint (the epoch-folder format is checkpoint.ts): the
 * run's settings and progress in state.json, the weights and Adam state as two float32 files.
 * Also the checks before a run starts: a checkpoint is continued only with --resume and only with
 * the settings it was made with, and replaced only with --fresh.
 */
import { UsageError } from '../util/cli-args.ts';
import type { HistoryPoint } from '../../core/contracts/index.ts';
import {
  CheckpointError,
  describeCheckpoint,
  readCheckpoint,
  readCheckpointEpoch,
  writeCheckpoint,
  type DataFingerprint,
  type LoadedEpoch,
} from './checkpoint.ts';
import type { TrainCnnOptions } from './options.ts';

/** Everything that changes what a run computes; --resume refuses a checkpoint made with other values. */
export interface CheckpointSettings extends Pick<
  TrainCnnOptions,
  | 'arch'
  | 'widths'
  | 'batchSize'
  | 'lr'
  | 'schedule'
  | 'labelSmoothing'
  | 'augment'
  | 'seed'
  | 'init'
  | 'crops'
  | 'cropMix'
  | 'photometric'
  | 'balance'
  | 'expressionWarp'
  | 'distill'
  | 'mixup'
  | 'partMask'
> {
  limit: number | null;
  data: DataFingerprint;
}

/** The CLI option for each setting, for messages. */
const SETTING_FLAGS: Record<keyof CheckpointSettings, string> = {
  arch: '--arch',
  widths: '--widths',
  batchSize: '--batch-size',
  lr: '--lr',
  schedule: '--schedule',
  labelSmoothing: '--label-smoothing',
  augment: '--no-augment',
  seed: '--seed',
  limit: '--limit',
  data: '--data',
  init: '--init',
  crops: '--crops',
  cropMix: '--crop-mix',
  photometric: '--photometric',
  balance: '--balance',
  expressionWarp: '--expression-warp',
  distill: '--distill',
  mixup: '--mixup',
  partMask: '--part-mask',
};

/** A run's progress: state.json of each epoch folder. */
export interface CheckpointState {
  version: 2;
  settings: CheckpointSettings;
  epochs: number;
  epochsDone: number;
  globalStep: number;
  bestEpoch: number;
  bestValAcc: number;
  history: HistoryPoint[];
  trainSeconds: number;
  imagesSeen: number;
  weightShapes: number[][];
  optimizer: { name: string; shape: number[] }[];
}

/** The arrays one after another, as the bytes of one float32 file. */
export function packFloats(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((a, b) => a + b.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return new Uint8Array(out.buffer);
}

/** packFloats reversed: one array per shape; throws when the file holds more or fewer floats. */
export function unpackFloats(buf: Buffer, shapes: number[][]): Float32Array[] {
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const out: Float32Array[] = [];
  let off = 0;
  for (const s of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    out.push(all.slice(off, off + n));
    off += n;
  }
  if (off !== all.length) throw new Error(`checkpoint size mismatch: expected ${off} floats, found ${all.length}`);
  return out;
}

/** The settings that differ, as "--flag saved -> now" phrases. */
function settingDifferences(saved: CheckpointSettings, now: CheckpointSettings): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(SETTING_FLAGS) as (keyof CheckpointSettings)[]) {
    if (key === 'data') {
      const a = saved.data;
      const b = now.data;
      if (a?.bytes !== b.bytes || a?.headTailSha256 !== b.headTailSha256) {
        diffs.push(`--data ${a?.path} (${a?.bytes} bytes) -> ${b.path} (${b.bytes} bytes${a?.bytes === b.bytes ? ', other content' : ''})`);
      }
    } else if (JSON.stringify(saved[key] ?? null) !== JSON.stringify(now[key] ?? null)) {
      const show = (v: unknown) =>
        v === null || v === undefined
          ? 'unset'
          : Array.isArray(v)
            ? v.join(',')
            : typeof v === 'object' && 'low' in v && 'high' in v
              ? `${String(v.low)}-${String(v.high)}`
              : typeof v === 'object' && 'teachers' in v && 'weight' in v
                ? `${(v.teachers as string[]).join(',')} (--distill-weight ${String(v.weight)})`
                : String(v);
      diffs.push(`${SETTING_FLAGS[key]} ${show(saved[key])} -> ${show(now[key])}`);
    }
  }
  return diffs;
}

export interface OpenedCheckpoint {
  /** The checkpoint to continue (--resume found one). */
  saved?: LoadedEpoch<CheckpointState>;
  /** --fresh over an existing checkpoint: delete it when the first new epoch is saved. */
  clearOld: boolean;
}

/**
 * Checks `o.checkpointDir` against --resume / --fresh and, to resume, against `settings`; throws
 * UsageError or CheckpointError (naming the folder and what to do) before any data is loaded.
 */
export async function openRunCheckpoint(
  o: Pick<TrainCnnOptions, 'checkpointDir' | 'resume' | 'fresh'>,
  settings: CheckpointSettings,
): Promise<OpenedCheckpoint> {
  if (o.resume && o.fresh) throw new UsageError('--resume continues the checkpoint and --fresh deletes it; give one of them');
  const existing = await describeCheckpoint(o.checkpointDir);
  if (existing && !o.resume && !o.fresh) {
    throw new UsageError(
      `${o.checkpointDir} already holds ${existing}; continue it with --resume, ` +
        `start over with --fresh (deletes it), or give another --checkpoint folder`,
    );
  }
  const saved = o.resume ? await readCheckpoint<CheckpointState>(o.checkpointDir) : undefined;
  if (saved) {
    if (saved.state.version !== 2 || typeof saved.state.settings !== 'object') {
      throw new CheckpointError(
        `${o.checkpointDir}: the checkpoint's state.json is not a CNN training state (version 2); start over with --fresh`,
      );
    }
    const diffs = settingDifferences(saved.state.settings, settings);
    if (diffs.length > 0) {
      throw new UsageError(
        `--resume: the checkpoint in ${o.checkpointDir} was made with different settings ` +
          `(${diffs.join('; ')}); rerun with the checkpoint's settings, or start over with --fresh`,
      );
    }
    // Fail now, not after the last epoch, if the best epoch's folder is damaged.
    if (saved.state.bestEpoch !== saved.epoch) await readCheckpointEpoch(o.checkpointDir, saved.state.bestEpoch);
  }
  return { saved, clearOld: Boolean(existing && o.fresh) };
}

/**
 * Saves epoch `epoch` as one unit (weights, optimizer state, `state`), keeping the previous epoch's
 * folder and the best one: the best weights are that epoch's weights, kept with its folder.
 */
export async function saveEpoch(
  dir: string,
  epoch: number,
  weights: Float32Array[],
  optimizer: Float32Array[],
  state: CheckpointState,
): Promise<void> {
  await writeCheckpoint(dir, epoch, { 'weights.bin': packFloats(weights), 'optimizer.bin': packFloats(optimizer) }, state, [
    epoch - 1,
    state.bestEpoch,
  ]);
}

/** The weights of the best epoch (state.bestEpoch), checked against its state.json. */
export async function readBestWeights(dir: string, state: CheckpointState): Promise<Float32Array[]> {
  const best = await readCheckpointEpoch<CheckpointState>(dir, state.bestEpoch);
  return unpackFloats(best.files['weights.bin']!, state.weightShapes);
}
