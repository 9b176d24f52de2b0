/** Training for real faces (issue 13), a tiny run: --photometric, --balance and --init together, and --resume refusing changed settings. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainCnn } from '../../src/train/cnn/train-cnn.ts';
import { tinyRun, writeSyntheticFer } from '../helpers/synthetic-fer.ts';

describe('the cnn command with the robustness options', () => {
  it('a tiny run with --photometric --balance --init trains, and --resume refuses other robustness settings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-'));
    const data = await writeSyntheticFer(dir);
    const first = tinyRun(join(dir, 'a'), data, { epochs: 1 });
    await trainCnn(first);
    const o = tinyRun(join(dir, 'b'), data, { epochs: 1, augment: true, photometric: true, balance: 0.5, init: first.out });
    const r = await trainCnn(o);
    expect(r.epochs).toBe(1);
    await expect(trainCnn({ ...o, epochs: 2, resume: true, balance: 1 })).rejects.toThrow(/--balance 0.5 -> 1/);
    await expect(
      trainCnn({ ...o, out: join(dir, 'c', 'm'), checkpointDir: join(dir, 'c', 'ck'), arch: 'default', widths: [16, 32, 64, 128] }),
    ).rejects.toThrow(/--init .*do not fit/);
    // A folder without a model is refused before any data is read.
    await expect(
      trainCnn({ ...o, out: join(dir, 'd', 'm'), checkpointDir: join(dir, 'd', 'ck'), init: join(dir, 'nothing') }),
    ).rejects.toThrow(/--init .*nothing: no model.json there/);
  }, 120_000);
});
