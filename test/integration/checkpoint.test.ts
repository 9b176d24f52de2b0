/**
 * Checkpoints are one verified unit per epoch: --resume refuses damaged or mixed files and other
 * settings (data, --limit...), a rerun without --resume never overwrites a checkpoint unless
 * --fresh, a kill mid-epoch leaves the previous epoch usable, and only the last two epochs plus
 * the best are kept. Tiny-arch runs on a small synthetic CSV (no real data needed).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, readCheckpoint } from '../../src/train/cnn/checkpoint.ts';
import { trainCnn } from '../../src/train/cnn/train-cnn.ts';
import { tinyRun, writeSyntheticFer } from '../helpers/synthetic-fer.ts';

let data: string;
beforeAll(async () => {
  data = await writeSyntheticFer(await mkdtemp(join(tmpdir(), 'checkpoint-data-')));
});

async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'checkpoint-'));
}

const epochDirs = async (ckpt: string) => (await readdir(ckpt)).filter((n) => n.startsWith('epoch-')).sort();

describe('CNN checkpoints', () => {
  it('--resume verifies every file: a tampered or mixed-in file is refused, naming it', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data, { epochs: 2 });
    await trainCnn(o);
    const ckpt = o.checkpointDir;
    expect(await epochDirs(ckpt)).toEqual(['epoch-001', 'epoch-002']);
    const latest = await readCheckpoint<{ epochsDone: number }>(ckpt);
    expect(latest?.state.epochsDone).toBe(2);

    // Epoch 1's optimizer state next to epoch 2's weights (what a kill between renames used to leave).
    const opt2 = join(ckpt, 'epoch-002', 'optimizer.bin');
    const original = await readFile(opt2);
    await copyFile(join(ckpt, 'epoch-001', 'optimizer.bin'), opt2);
    const mixed = trainCnn({ ...o, epochs: 3, resume: true });
    await expect(mixed).rejects.toBeInstanceOf(CheckpointError);
    await expect(mixed).rejects.toThrow(
      /epoch-002[\\/]optimizer\.bin does not match the sha256 recorded in .*epoch-002[\\/]state\.json.*--fresh/,
    );

    // One flipped byte in the weights.
    await writeFile(opt2, original);
    const weights = join(ckpt, 'epoch-002', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[10] ^= 1;
    await writeFile(weights, bytes);
    await expect(trainCnn({ ...o, epochs: 3, resume: true })).rejects.toThrow(/epoch-002[\\/]weights\.bin does not match the sha256/);

    // A truncated file, and a state.json that no longer matches latest.json.
    await writeFile(weights, bytes.subarray(0, 100));
    await expect(trainCnn({ ...o, epochs: 3, resume: true })).rejects.toThrow(/weights\.bin has 100 bytes but .*state\.json records \d+/);
    const state = join(ckpt, 'epoch-002', 'state.json');
    await writeFile(state, (await readFile(state, 'utf8')).replace('"epochsDone": 2', '"epochsDone": 1'));
    await expect(trainCnn({ ...o, epochs: 3, resume: true })).rejects.toThrow(
      /epoch-002[\\/]state\.json does not match the sha256 recorded in .*latest\.json/,
    );
  });

  it('--resume refuses other settings: --limit, --data, --lr', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data, { limit: 30 });
    await trainCnn(o);
    await expect(trainCnn({ ...o, epochs: 2, resume: true, limit: 20 })).rejects.toThrow(/different settings \(--limit 30 -> 20\)/);
    await expect(trainCnn({ ...o, epochs: 2, resume: true, limit: undefined })).rejects.toThrow(/--limit 30 -> unset/);
    await expect(trainCnn({ ...o, epochs: 2, resume: true, lr: 0.5 })).rejects.toThrow(/--lr 0.002 -> 0.5/);
    const other = await writeSyntheticFer(await freshDir(), { Training: 41, PublicTest: 14, PrivateTest: 14 });
    await expect(trainCnn({ ...o, epochs: 2, resume: true, data: other })).rejects.toThrow(
      /different settings \(--data .*fer2013\.csv \(\d+ bytes\) -> .*fer2013\.csv/,
    );
    // The same data file copied elsewhere is the same data.
    const copy = join(await freshDir(), 'copy.csv');
    await copyFile(data, copy);
    const lines: string[] = [];
    const r = await trainCnn({ ...o, epochs: 2, resume: true, data: copy, log: (l) => lines.push(l) });
    expect(r.epochs).toBe(2);
    expect(lines.some((l) => l.startsWith('resuming after epoch 1 '))).toBe(true);
  });

  it('a rerun without --resume over a checkpoint is refused; fresh: true starts over', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data, { epochs: 3 });
    await trainCnn(o);
    const before = await readFile(join(o.checkpointDir, 'latest.json'), 'utf8');
    await expect(trainCnn(o)).rejects.toThrow(
      /already holds a checkpoint after epoch 3; continue it with --resume, start over with --fresh/,
    );
    expect(await readFile(join(o.checkpointDir, 'latest.json'), 'utf8')).toBe(before);
    const r = await trainCnn({ ...o, epochs: 1, fresh: true });
    expect(r.epochs).toBe(1);
    expect(await epochDirs(o.checkpointDir)).toEqual(['epoch-001']);
    expect((await readCheckpoint<{ epochsDone: number; history: unknown[] }>(o.checkpointDir))?.state.history).toHaveLength(1);
  });

  it('a kill while writing an epoch leaves the previous one; --resume redoes that epoch', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data, { epochs: 1 });
    await trainCnn(o);
    // Epoch 2 half-written: weights only, no state.json, latest.json still at epoch 1.
    await mkdir(join(o.checkpointDir, 'epoch-002'));
    await writeFile(join(o.checkpointDir, 'epoch-002', 'weights.bin'), 'partial');
    const lines: string[] = [];
    const r = await trainCnn({ ...o, epochs: 2, resume: true, log: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith('resuming after epoch 1'))).toBe(true);
    expect(r.epochs).toBe(2);
    expect((await readCheckpoint<{ epochsDone: number }>(o.checkpointDir))?.state.epochsDone).toBe(2);
  });

  it('keeps the last two epoch folders and the best one', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data, { epochs: 5 });
    await trainCnn(o);
    const best = (await readCheckpoint<{ bestEpoch: number }>(o.checkpointDir))!.state.bestEpoch;
    const expected = [...new Set([best, 4, 5])].sort().map((e) => `epoch-00${e}`);
    expect(await epochDirs(o.checkpointDir)).toEqual(expected);
  });

  it('an old-format checkpoint (state.json + *.weights.bin, unverifiable) is refused by --resume', async () => {
    const dir = await freshDir();
    const o = tinyRun(dir, data);
    await mkdir(o.checkpointDir, { recursive: true });
    for (const f of ['state.json', 'last.weights.bin', 'last.optimizer.bin', 'best.weights.bin'])
      await writeFile(join(o.checkpointDir, f), '{}');
    await expect(trainCnn({ ...o, resume: true })).rejects.toThrow(/old format .* cannot be verified; start over with --fresh/);
    await expect(trainCnn(o)).rejects.toThrow(/already holds a checkpoint in the old format/);
    await writeFile(join(o.checkpointDir, 'mine.txt'), 'not ours');
    await trainCnn({ ...o, fresh: true });
    expect((await readdir(o.checkpointDir)).sort()).toEqual(['epoch-001', 'latest.json', 'mine.txt']);
    await rm(dir, { recursive: true, force: true });
  });
});
