import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateManifest } from '../src/train/manifest.ts';
import { parseManifest } from '../src/app/manifest.ts';

const entry = (id: string, name = id) => ({ id, name, kind: 'cnn' as const, path: `${id}/model.json`, report: `${id}/report.json`, input: { size: 48 } });

describe('models/index.json writer', () => {
  it('adds entries, replaces by id, and writes what the app parser accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await updateManifest(dir, entry('a'));
    await updateManifest(dir, entry('b'));
    await updateManifest(dir, entry('a', 'A again'));
    const json = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const parsed = parseManifest(json);
    expect(parsed.models.map((m) => [m.id, m.name])).toEqual([['a', 'A again'], ['b', 'b']]);
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

  it('refuses to overwrite a corrupt manifest and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await writeFile(join(dir, 'index.json'), '{ not json');
    await expect(updateManifest(dir, entry('a'))).rejects.toThrow(/index\.json is not valid JSON/);
  });
});
