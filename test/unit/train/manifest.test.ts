import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cnnInput } from '../../../src/core/contracts/index.ts';
import { updateManifest } from '../../../src/train/util/manifest.ts';
import { parseManifest } from '../../../src/app/manifest.ts';

const entry = (id: string, name = id) => ({
  id,
  name,
  kind: 'cnn' as const,
  path: `${id}/model.json`,
  report: `${id}/report.json`,
  input: cnnInput({ size: 48, tta: 'none' }),
});

describe('models/index.json writer', () => {
  it('adds entries, replaces by id, and writes what the app parser accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await updateManifest(dir, entry('a'));
    await updateManifest(dir, entry('b'));
    await updateManifest(dir, entry('a', 'A again'));
    const json = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const parsed = parseManifest(json);
    expect(parsed.models.map((m) => [m.id, m.name])).toEqual([
      ['a', 'A again'],
      ['b', 'b'],
    ]);
  });

  it('never rewrites an index.json that is not our manifest, and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    for (const foreign of ['{"name":"my-app","version":"1.0.0"}', '[1,2,3]', '{"models":[{"title":"not an entry"}]}', '{"models":"all"}']) {
      await writeFile(join(dir, 'index.json'), foreign);
      await expect(updateManifest(dir, entry('a'))).rejects.toThrow(/index\.json is not an Emotion Lens models list .*left untouched/);
      expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(foreign);
    }
    await writeFile(join(dir, 'index.json'), '{"models":[]}');
    await updateManifest(dir, entry('a'));
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).models.map((m: { id: string }) => m.id)).toEqual(['a']);
  });

  it('writes "$schema", keeps the other entries byte for byte and an existing "$schema"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await updateManifest(dir, entry('a'));
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).$schema).toBe('./index.schema.json');
    // A hand-written entry with defaults left out stays exactly as written (not completed by the parser).
    const own = { id: 'mine', kind: 'cnn', path: 'mine/model.json', input: { tta: 'hflip-mean' } };
    await writeFile(join(dir, 'index.json'), JSON.stringify({ $schema: '../schema.json', models: [own, entry('a')] }));
    await updateManifest(dir, entry('a', 'A again'));
    const text = await readFile(join(dir, 'index.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({ $schema: '../schema.json', models: [own, entry('a', 'A again')] });
    expect(text).toContain(JSON.stringify(own, null, 2).split('\n').join('\n    '));
  });

  it('refuses a manifest the app would reject (duplicate ids, unsafe path) and names the file and entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    const cases: [object[], RegExp][] = [
      [[entry('x'), entry('x')], /models\[1\]\.id "x" is used twice/],
      [[{ ...entry('y'), path: '../y/model.json' }], /models\[0\] \(y\)\.path must be a relative path inside models\//],
    ];
    for (const [models, why] of cases) {
      const text = JSON.stringify({ models });
      await writeFile(join(dir, 'index.json'), text);
      const error = await updateManifest(dir, entry('a')).catch((e: Error) => e);
      expect(error?.message).toMatch(new RegExp(`${join(dir, 'index.json')} is not an Emotion Lens models list`));
      expect(error?.message).toMatch(why);
      expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(text);
    }
  });

  it('refuses to overwrite a corrupt manifest and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await writeFile(join(dir, 'index.json'), '{ not json');
    await expect(updateManifest(dir, entry('a'))).rejects.toThrow(/index\.json is not valid JSON/);
  });
});
