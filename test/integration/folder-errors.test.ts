/**
 * Folders with files that must never be opened: a FIFO (a read would block forever) and a 3 GiB
 * sparse file (readFile throws past 2 GiB, which used to abort a whole extract or finetune). Each
 * is named with the reason and skipped, the other files go on, and nothing hangs. No browser.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFolder } from '../../src/train/extract/sources.ts';
import { MAX_IMAGE_BYTES, readFileChecked, scanFiles } from '../../src/train/data/file-scan.ts';
import { checkTrainingFolder, scanPersonalFolder } from '../../src/train/data/personal-dataset.ts';
import { collectImageFiles } from '../../src/train/predict/predict.ts';

const canMkfifo = process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0;
const FIFO = /a FIFO \(named pipe\), not a regular file: not read/;
const HUGE = /3\.0 GiB, over the 256 MiB limit for an image file: not read/;

describe.skipIf(!canMkfifo)('special and oversized files in a folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'folder-errors-'));
    mkdirSync(join(dir, 'happy'));
    mkdirSync(join(dir, 'sad'));
    writeFileSync(join(dir, 'happy', 'a.png'), 'not really a png');
    writeFileSync(join(dir, 'sad', 'b.jpg'), 'not really a jpeg');
    writeFileSync(join(dir, 'sad', 'c.jpg'), 'x');
    expect(spawnSync('mkfifo', [join(dir, 'happy', 'pipe.png')]).status).toBe(0);
    // Sparse: takes no disk space.
    writeFileSync(join(dir, 'sad', 'huge.jpg'), '');
    truncateSync(join(dir, 'sad', 'huge.jpg'), 3 * 2 ** 30);
    symlinkSync(join(dir, 'nowhere.png'), join(dir, 'sad', 'broken.png'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scanFiles lists the readable files and names the others with the reason', async () => {
    const scan = await scanFiles(dir);
    expect(scan.files.map((f) => f.path)).toEqual([join(dir, 'happy', 'a.png'), join(dir, 'sad', 'b.jpg'), join(dir, 'sad', 'c.jpg')]);
    expect(scan.files[0]!.size).toBe(16);
    const reasons = Object.fromEntries(scan.skipped.map((s) => [s.path, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual([
      join(dir, 'happy', 'pipe.png'),
      join(dir, 'sad', 'broken.png'),
      join(dir, 'sad', 'huge.jpg'),
    ]);
    expect(reasons[join(dir, 'happy', 'pipe.png')]).toMatch(FIFO);
    expect(reasons[join(dir, 'sad', 'huge.jpg')]).toMatch(HUGE);
    expect(reasons[join(dir, 'sad', 'broken.png')]).toMatch(/broken link/);
    expect(MAX_IMAGE_BYTES).toBe(256 * 2 ** 20);
  });

  it('readFileChecked refuses a FIFO without blocking and a huge file without reading it', async () => {
    await expect(readFileChecked(join(dir, 'happy', 'pipe.png'))).rejects.toThrow(FIFO);
    await expect(readFileChecked(join(dir, 'sad', 'huge.jpg'))).rejects.toThrow(HUGE);
    await expect(readFileChecked(join(dir, 'sad', 'huge.jpg'))).rejects.toThrow(join(dir, 'sad', 'huge.jpg'));
    expect(new TextDecoder().decode(await readFileChecked(join(dir, 'sad', 'c.jpg')))).toBe('x');
  });

  it('extract: the folder source keeps them as items marked skip, in listing order, the rest as usual', async () => {
    const source = await openFolder(dir);
    if (source.kind !== 'folder') throw new Error('expected a folder source');
    expect(source.items.map((i) => [i.id, i.skip === undefined ? 'read' : 'skip'])).toEqual([
      ['happy/a.png', 'read'],
      ['happy/pipe.png', 'skip'],
      ['sad/b.jpg', 'read'],
      ['sad/broken.png', 'skip'],
      ['sad/c.jpg', 'read'],
      ['sad/huge.jpg', 'skip'],
    ]);
    expect(source.items.find((i) => i.id === 'sad/huge.jpg')!.skip).toMatch(HUGE);
    expect(source.items.find((i) => i.id === 'happy/pipe.png')!.label).toBe(3);
  });

  it('finetune: the personal folder scan names and skips them; the other photos are items', async () => {
    const scan = await scanPersonalFolder(dir);
    expect(scan.items.map((i) => i.path)).toEqual([join(dir, 'happy', 'a.png'), join(dir, 'sad', 'b.jpg'), join(dir, 'sad', 'c.jpg')]);
    const reasons = Object.fromEntries(scan.skippedFiles.map((s) => [s.path, s.reason]));
    expect(reasons[join(dir, 'happy', 'pipe.png')]).toMatch(FIFO);
    expect(reasons[join(dir, 'sad', 'huge.jpg')]).toMatch(HUGE);
    expect(reasons[join(dir, 'sad', 'broken.png')]).toMatch(/broken link/);
  });

  it('predict: collectImageFiles names them (explicit paths too) and keeps the rest', async () => {
    const r = await collectImageFiles([dir, join(dir, 'happy', 'pipe.png'), join(dir, 'nope.png')]);
    expect(r.files).toEqual([join(dir, 'happy', 'a.png'), join(dir, 'sad', 'b.jpg'), join(dir, 'sad', 'c.jpg')]);
    expect(r.missing).toEqual([join(dir, 'nope.png')]);
    expect(r.skipped.map((s) => s.path)).toEqual([
      join(dir, 'happy', 'pipe.png'),
      join(dir, 'sad', 'broken.png'),
      join(dir, 'sad', 'huge.jpg'),
      join(dir, 'happy', 'pipe.png'),
    ]);
  });

  it('npm run predict on a FIFO and a huge file: one line each, naming it, no hang (no browser started)', () => {
    const only = mkdtempSync(join(tmpdir(), 'folder-errors-predict-'));
    try {
      expect(spawnSync('mkfifo', [join(only, 'pipe.jpg')]).status).toBe(0);
      writeFileSync(join(only, 'big.png'), '');
      truncateSync(join(only, 'big.png'), 3 * 2 ** 30);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/train/commands/predict.ts', '--json', only, join(only, 'pipe.jpg')], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.error).toBeUndefined(); // (a timeout would set it)
      expect(r.status).toBe(1); // named in the output, and the exit status says some input was unreadable
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { file: string; error: string });
      expect(lines.map((l) => l.file)).toEqual([join(only, 'big.png'), join(only, 'pipe.jpg'), join(only, 'pipe.jpg')]);
      expect(lines[0]!.error).toMatch(HUGE);
      expect(lines[1]!.error).toMatch(FIFO);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
  });
});

describe('finetune folder checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'folder-checks-'));
    const add = (folder: string, n: number) => {
      mkdirSync(join(dir, folder), { recursive: true });
      for (let i = 0; i < n; i++) writeFileSync(join(dir, folder, `${i}.jpg`), 'x');
    };
    add('Happiness', 6);
    add('sad', 2);
    add('suprise', 4); // misspelled
    add('holiday', 3);
    add('unknown', 2);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('warns about folders that are not an emotion (naming them and the accepted names) and small classes', async () => {
    const check = checkTrainingFolder(await scanPersonalFolder(dir));
    expect(check.error).toBeUndefined();
    expect(check.warnings).toHaveLength(3);
    const [holiday, suprise, sad] = check.warnings;
    expect(holiday).toMatch(
      /^folder "holiday\/" .* is not an emotion name or alias, so its photos are not used\. Accepted names \(any case\): angry\/anger, .*neutral\/calm; unknown\/ holds photos to predict\.$/,
    );
    expect(suprise).toMatch(/folder "suprise\/" .*\(did you mean "surprise"\?\)/);
    expect(sad).toBe(
      'class sad (2 photos in sad/) has fewer than 5 photos: too few to learn from or to validate on (20 or more per class is better)',
    );
  });

  it('refuses a single class, naming it', async () => {
    const one = mkdtempSync(join(tmpdir(), 'folder-checks-one-'));
    try {
      mkdirSync(join(one, 'happy'));
      for (let i = 0; i < 8; i++) writeFileSync(join(one, 'happy', `${i}.png`), 'x');
      const check = checkTrainingFolder(await scanPersonalFolder(one));
      expect(check.warnings).toEqual([]);
      expect(check.error).toMatch(
        /only one class has photos: happy \(8 photos in happy\/\)\. Training needs photos of at least 2 emotions/,
      );
    } finally {
      rmSync(one, { recursive: true, force: true });
    }
  });

  it('npm run train -- finetune stops before any photo is processed, with the warnings and the error', () => {
    const one = mkdtempSync(join(tmpdir(), 'folder-checks-cli-'));
    try {
      mkdirSync(join(one, 'happy'));
      mkdirSync(join(one, 'hapy'));
      for (let i = 0; i < 3; i++) writeFileSync(join(one, 'happy', `${i}.png`), 'x');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/train/commands/train.ts', 'finetune', '--data', one, '--out', join(one, 'out')],
        { encoding: 'utf8', timeout: 90_000 },
      );
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/warning: folder "hapy\/" .*did you mean "happy"/);
      expect(r.stdout).toMatch(/warning: class happy \(3 photos in happy\/\) has fewer than 5 photos/);
      expect(r.stderr).toMatch(/only one class has photos: happy/);
      expect(r.stdout).not.toMatch(/extract:/);
    } finally {
      rmSync(one, { recursive: true, force: true });
    }
  });
});
