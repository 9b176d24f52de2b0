/**
 * Publishing a model never deletes a user's files: an --out that is not a model folder, the working
 * folder, a project folder, or a foreign index.json next to --out are refused before any work; a
 * kill in the middle of the folder swap is recovered on the next publish; the app build never
 * copies a publish's hidden leftovers. Trains only on a tiny synthetic CSV.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyModels } from '../../scripts/vite-plugins.ts';
import { cnnInput } from '../../src/core/contracts/index.ts';
import { recoverDirLeftovers, replaceDirAtomic } from '../../src/train/util/atomic.ts';
import { assertPublishableOut, OutFolderRefused, publishModelDir } from '../../src/train/util/publish-model.ts';
import { trainCnn } from '../../src/train/cnn/train-cnn.ts';
import { tinyRun, writeSyntheticFer } from '../helpers/synthetic-fer.ts';

let root: string;
let data: string;
const startCwd = process.cwd();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'publish-safety-'));
  data = await writeSyntheticFer(root);
});
afterEach(() => process.chdir(startCwd));

/** A folder with someone's files: `{ 'notes.txt': 'mine', 'sub/deep.txt': 'mine too' }`. */
async function folderWith(dir: string, files: Record<string, string>): Promise<string> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

async function listAll(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listAll(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(prefix + e.name);
  }
  return out.sort();
}

describe('train cnn --out refusals (before any training)', () => {
  it('refuses an existing folder that holds anything but model artifacts, and keeps its files', async () => {
    const out = await folderWith(join(root, 'mine'), { 'notes.txt': 'mine', 'sub/deep.txt': 'mine too', 'model.json': 'old' });
    const lines: string[] = [];
    const run = trainCnn(tinyRun(root, data, { out, checkpointDir: join(root, 'ckpt-mine'), log: (l) => lines.push(l) }));
    await expect(run).rejects.toThrow(OutFolderRefused);
    await expect(run).rejects.toThrow(
      /not a model folder: it holds notes\.txt, sub.*choose a new or empty folder, or an existing model folder/,
    );
    expect(await listAll(out)).toEqual(['model.json', 'notes.txt', 'sub/deep.txt']);
    expect(lines.some((l) => l.startsWith('loading FER2013'))).toBe(false); // refused before loading data
    expect(existsSync(join(root, 'index.json'))).toBe(false);
  });

  it('refuses --out . (the working folder) and its parents', async () => {
    const work = await folderWith(join(root, 'work'), { 'essay.txt': 'a week of writing', 'inner/x.txt': 'x' });
    process.chdir(join(work, 'inner'));
    await expect(trainCnn(tinyRun(root, data, { out: '..', checkpointDir: join(root, 'ckpt-work') }))).rejects.toThrow(
      /working folder or one of its parents/,
    );
    process.chdir(work);
    await expect(trainCnn(tinyRun(root, data, { out: '.', checkpointDir: join(root, 'ckpt-work') }))).rejects.toThrow(
      /working folder or one of its parents/,
    );
    expect(await listAll(work)).toEqual(['essay.txt', 'inner/x.txt']);
  });

  it('refuses the project folder (the one with package.json) and its parents, from inside a temp project copy', async () => {
    const proj = await folderWith(join(root, 'outer', 'proj'), {
      'package.json': '{"name":"emotion-lens"}',
      'src/a.ts': 'code',
      'scripts/b.ts': 'more',
    });
    process.chdir(join(proj, 'src'));
    for (const out of [proj, join(root, 'outer')]) {
      await expect(trainCnn(tinyRun(root, data, { out, checkpointDir: join(root, 'ckpt-proj') }))).rejects.toThrow(
        /is the project folder .*proj \(it holds package\.json\)/,
      );
    }
    // From elsewhere, the project's files alone make it "not a model folder".
    process.chdir(root);
    await expect(assertPublishableOut(proj)).rejects.toThrow(/not a model folder: it holds package\.json, scripts, src/);
    expect(await listAll(proj)).toEqual(['package.json', 'scripts/b.ts', 'src/a.ts']);
  });

  it('leaves an index.json that is not our manifest untouched and says so', async () => {
    const parent = await folderWith(join(root, 'site'), { 'index.json': '{"name":"my-site","pages":[1,2]}' });
    const run = trainCnn(tinyRun(root, data, { out: join(parent, 'fer-cnn-test'), checkpointDir: join(root, 'ckpt-site') }));
    await expect(run).rejects.toThrow(
      /site[\\/]index\.json is not an Emotion Lens models list \(must be an object with a "models" array\), so it was left untouched/,
    );
    expect(await readFile(join(parent, 'index.json'), 'utf8')).toBe('{"name":"my-site","pages":[1,2]}');
    expect(await readdir(parent)).toEqual(['index.json']);
  });

  it('refuses --out and --checkpoint in the same folder (publishing would replace the checkpoint)', async () => {
    const same = join(root, 'runs', 'tiny');
    await expect(trainCnn(tinyRun(root, data, { out: same, checkpointDir: same }))).rejects.toThrow(/overlap/);
  });
});

describe('assertPublishableOut', () => {
  it('accepts a new folder, an empty one and a model folder; refuses a file and a symbolic link', async () => {
    const base = join(root, 'accept');
    await mkdir(join(base, 'empty'), { recursive: true });
    await folderWith(join(base, 'model'), {
      'model.json': '{}',
      'weights.bin': '',
      'report.json': '{}',
      'confusion.svg': '',
      'curves.svg': '',
      '.weights.bin.tmp-12-0123abcd': '',
    });
    for (const name of ['new', 'empty', 'model']) await expect(assertPublishableOut(join(base, name))).resolves.toBe(join(base, name));
    await writeFile(join(base, 'file'), 'x');
    await expect(assertPublishableOut(join(base, 'file'))).rejects.toThrow(/is a file, not a folder/);
    await symlink(join(base, 'model'), join(base, 'link'));
    await expect(assertPublishableOut(join(base, 'link'))).rejects.toThrow(/symbolic link/);
  });
});

describe('crash-safe swap', () => {
  it('a kill between the two renames (final missing, .old left) is recovered by the next publish', async () => {
    const models = join(root, 'crash', 'models');
    const final = join(models, 'fer-cnn-test');
    // What a kill after "final -> .old" and before ".new -> final" leaves, from a dead process.
    await folderWith(join(models, '.fer-cnn-test.old-99999999-0a1b2c3d'), { 'model.json': 'previous model', 'weights.bin': 'w' });
    await folderWith(join(models, '.fer-cnn-test.new-99999999-4e5f6a7b'), { 'model.json': 'new, never swapped in' });
    // Not ours (wrong pattern, other name, or a live process's publish in progress): never touched.
    await folderWith(join(models, '.fer-cnn-test.old-notours'), { 'keep.txt': '1' });
    await folderWith(join(models, '.other.old-99999999-0a1b2c3d'), { 'keep.txt': '2' });
    await folderWith(join(models, `.fer-cnn-test.new-${process.pid}-00000000`), { 'keep.txt': '3' });
    await writeFile(
      join(models, 'index.json'),
      JSON.stringify({ models: [{ id: 'fer-cnn-test', name: 'x', kind: 'cnn', path: 'fer-cnn-test/model.json', input: {} }] }),
    );

    const notes: string[] = [];
    await assertPublishableOut(final, { log: (l) => notes.push(l) });
    expect(await readFile(join(final, 'model.json'), 'utf8')).toBe('previous model');
    expect(notes.join('\n')).toMatch(/restored .*fer-cnn-test from \.fer-cnn-test\.old-99999999-0a1b2c3d/);

    // Again, with the publish itself doing the recovery.
    await rm(final, { recursive: true });
    await folderWith(join(models, '.fer-cnn-test.old-99999999-0a1b2c3d'), { 'model.json': 'previous model' });
    await publishModelDir(
      final,
      async (tmp) => {
        await writeFile(join(tmp, 'model.json'), 'published');
      },
      { log: () => {}, manifestEntry: { id: 'fer-cnn-test', name: 'test', kind: 'cnn', input: cnnInput({ size: 48, tta: 'none' }) } },
    );
    expect(await readFile(join(final, 'model.json'), 'utf8')).toBe('published');
    expect((await readdir(models)).sort()).toEqual([
      `.fer-cnn-test.new-${process.pid}-00000000`,
      '.fer-cnn-test.old-notours',
      '.other.old-99999999-0a1b2c3d',
      'fer-cnn-test',
      'index.json',
    ]);
  });

  it('replaceDirAtomic cleans leftovers of an earlier crash', async () => {
    const parent = join(root, 'crash2');
    await folderWith(join(parent, 'm'), { 'model.json': 'current' });
    await folderWith(join(parent, '.m.old-99999999-0a1b2c3d'), { 'model.json': 'stale backup' });
    await folderWith(join(parent, '.m.new-99999998-0a1b2c3d'), { 'model.json': 'half' });
    await replaceDirAtomic(
      join(parent, 'm'),
      async (tmp) => {
        await writeFile(join(tmp, 'model.json'), 'next');
      },
      { log: () => {} },
    );
    expect(await readdir(parent)).toEqual(['m']);
    expect(await readFile(join(parent, 'm', 'model.json'), 'utf8')).toBe('next');
    expect(await recoverDirLeftovers(join(parent, 'm'))).toEqual([]);
  });
});

describe('app build models copy', () => {
  it('skips hidden entries: swap leftovers, temp files and dotfiles never reach dist/models', async () => {
    const src = await folderWith(join(root, 'build-src'), {
      'index.json': '{}',
      'fer-cnn/model.json': 'm',
      'fer-cnn/.weights.bin.tmp-1-0123abcd': 'tmp',
      '.fer-cnn.old-1-0a1b2c3d/model.json': 'old',
      '.fer-cnn.new-1-0a1b2c3d/model.json': 'new',
      '.DS_Store': 'x',
    });
    const dest = join(root, 'dist', 'models');
    expect(await copyModels(src, dest)).toBe(true);
    expect(await listAll(dest)).toEqual(['fer-cnn/model.json', 'index.json']);
  });
});
