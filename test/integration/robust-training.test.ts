/** Training for real faces (issue 13), a tiny run: --photometric, --balance, --mixup and --init together, and --resume refusing changed settings. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainCnn } from '../../src/train/cnn/train-cnn.ts';
import { tinyRun, writeSyntheticFer } from '../helpers/synthetic-fer.ts';

describe('the cnn command with the robustness options', () => {
  it('a tiny run with --photometric --balance --mixup --init trains, and --resume refuses other robustness settings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-'));
    const data = await writeSyntheticFer(dir);
    const first = tinyRun(join(dir, 'a'), data, { epochs: 1 });
    await trainCnn(first);
    const o = tinyRun(join(dir, 'b'), data, { epochs: 1, augment: true, photometric: true, balance: 0.5, mixup: 0.2, init: first.out });
    const r = await trainCnn(o);
    expect(r.epochs).toBe(1);
    const report = JSON.parse(await readFile(join(o.out, 'report.json'), 'utf8')) as { notes: string; mixup: unknown; balance: unknown };
    expect(report).toMatchObject({ mixup: 0.2, balance: 0.5 });
    expect(report.notes).toMatch(/class-balanced loss \(power 0\.5\), mixup \(alpha 0\.2\)/);
    await expect(trainCnn({ ...o, epochs: 2, resume: true, balance: 1 })).rejects.toThrow(/--balance 0.5 -> 1/);
    await expect(
      trainCnn({ ...o, out: join(dir, 'c', 'm'), checkpointDir: join(dir, 'c', 'ck'), arch: 'default', widths: [16, 32, 64, 128] }),
    ).rejects.toThrow(/--init .*do not fit/);
    // A folder without a model is refused before any data is read.
    await expect(
      trainCnn({ ...o, out: join(dir, 'd', 'm'), checkpointDir: join(dir, 'd', 'ck'), init: join(dir, 'nothing') }),
    ).rejects.toThrow(/--init .*nothing: no model.json there/);
  }, 120_000);

  it('a tiny run with --distill learns from a teacher folder; a missing teacher is refused before any data is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'distill-'));
    const data = await writeSyntheticFer(dir);
    const teacher = tinyRun(join(dir, 't'), data, { epochs: 1 });
    await trainCnn(teacher);
    const lines: string[] = [];
    const o = {
      ...tinyRun(join(dir, 's'), data, { epochs: 1 }),
      distill: { teachers: [teacher.out], weight: 0.5 },
      log: (l: string) => lines.push(l),
    };
    const r = await trainCnn(o);
    expect(r.epochs).toBe(1);
    expect(lines.some((l) => /^distillation: teacher probabilities of \d+ training rows from /.test(l))).toBe(true);
    const report = JSON.parse(await readFile(join(o.out, 'report.json'), 'utf8')) as { notes: string; distill: unknown };
    expect(report.distill).toEqual({ teachers: [teacher.out], weight: 0.5 });
    expect(report.notes).toMatch(/distilled from .* \(weight 0\.5\)/);
    await expect(
      trainCnn({
        ...o,
        out: join(dir, 'x', 'm'),
        checkpointDir: join(dir, 'x', 'ck'),
        distill: { teachers: [join(dir, 'none')], weight: 0.5 },
      }),
    ).rejects.toThrow(/--distill .*none: no model.json there/);
  }, 120_000);
});
