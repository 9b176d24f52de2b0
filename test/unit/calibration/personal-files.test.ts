import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/contracts/manifest.ts';
import type { ModelFolder } from '../../../src/core/calibration/types.ts';
import { checkModelFolder, readModelFiles, unzipModelFolders, zipModelFolders } from '../../../src/app/calibration/model-zip.ts';
import { fromStored, STORED_FORMAT, toStored } from '../../../src/app/calibration/store.ts';
import { personalFolders } from '../../helpers/personal-folders.ts';

const folders = await personalFolders();
const HELD_OUT = { count: 12, general: { 'fer-cnn': 0.5 }, personal: { 'my-cnn': 0.9 } };

function withFile(source: ModelFolder, name: string, bytes: Uint8Array | undefined): ModelFolder {
  const files = { ...source.files };
  if (bytes) files[name] = bytes;
  else delete files[name];
  return { entry: source.entry, files };
}

describe('personal models export (.zip) and import', () => {
  it('zips a models folder the Node tools read: index.json and <id>/{model.json,weights.bin,report.json}', async () => {
    const zip = zipModelFolders(folders, new Date('2026-01-02T03:04:05Z'));
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual([
      'index.json',
      'my-cnn/model.json',
      'my-cnn/report.json',
      'my-cnn/weights.bin',
      'my-svm-au/model.json',
      'my-svm-au/report.json',
      'my-svm-au/weights.bin',
    ]);
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(files['index.json'])), 'index.json');
    expect(manifest.models.map((m) => [m.id, m.kind, m.path, m.report])).toEqual([
      ['my-cnn', 'cnn', 'my-cnn/model.json', 'my-cnn/report.json'],
      ['my-svm-au', 'svm', 'my-svm-au/model.json', 'my-svm-au/report.json'],
    ]);
    expect(files['my-cnn/weights.bin']).toEqual(folders[0]!.files['weights.bin']);
    // Round trip: the same folders come back, validated.
    const back = await unzipModelFolders(zip, 'models.zip');
    expect(back.map((f) => f.entry)).toEqual(folders.map((f) => f.entry));
    expect(back[1]!.files['weights.bin']).toEqual(folders[1]!.files['weights.bin']);
    expect(() => zipModelFolders([])).toThrow(/calibrate first/);
  });

  it('imports a folder picked with its top folder name, and a zip of such a folder', async () => {
    const files = unzipSync(zipModelFolders(folders));
    const picked = Object.fromEntries(Object.entries(files).map(([p, b]) => [`my-models/${p}`, b]));
    expect((await readModelFiles(picked, 'my-models')).map((f) => f.entry.id)).toEqual(['my-cnn', 'my-svm-au']);
    const wrapped = zipSync({ ...picked, 'my-models/': new Uint8Array(0) });
    expect(await unzipModelFolders(wrapped, 'wrapped.zip')).toHaveLength(2);
  });

  it('rejects damaged exports naming the file at fault', async () => {
    const files = unzipSync(zipModelFolders(folders));
    const broken = (patch: Record<string, Uint8Array | undefined>) => {
      const next: Record<string, Uint8Array> = { ...files };
      for (const [k, v] of Object.entries(patch)) {
        if (v) next[k] = v;
        else delete next[k];
      }
      return unzipModelFolders(zipSync(next), 'm.zip');
    };
    await expect(unzipModelFolders(strToU8('not a zip'), 'x.zip')).rejects.toThrow(/x\.zip: not a readable \.zip/);
    await expect(broken({ 'index.json': undefined })).rejects.toThrow(/m\.zip: no index\.json/);
    await expect(broken({ 'index.json': strToU8('{"models": [{"id": "a", "kind": "rnn"}]}') })).rejects.toThrow(
      /m\.zip: index\.json: models\[0\] \(a\)/,
    );
    const cnnWeights = files['my-cnn/weights.bin']!.slice();
    cnnWeights[100] = (cnnWeights[100]! + 1) % 256;
    await expect(broken({ 'my-cnn/weights.bin': cnnWeights })).rejects.toThrow(/m\.zip: my-cnn\/weights\.bin: sha256 /);
    await expect(broken({ 'my-cnn/weights.bin': cnnWeights.subarray(0, 1000) })).rejects.toThrow(
      /my-cnn\/weights\.bin: 1000 bytes, expected/,
    );
    await expect(broken({ 'my-cnn/weights.bin': undefined })).rejects.toThrow(/m\.zip: my-cnn\/weights\.bin is missing/);
    await expect(broken({ 'my-svm-au/model.json': undefined })).rejects.toThrow(/m\.zip: my-svm-au\/model\.json is missing/);
    await expect(broken({ 'my-svm-au/report.json': undefined })).rejects.toThrow(/m\.zip: my-svm-au\/report\.json is missing/);
    const svmWeights = files['my-svm-au/weights.bin']!.slice(0, 64);
    await expect(broken({ 'my-svm-au/weights.bin': svmWeights })).rejects.toThrow(/m\.zip: my-svm-au\/model\.json: .*weights\.bin/);
  });
});

describe('personal models storage record', () => {
  it('round-trips folders and held-out scores as plain copies', async () => {
    const stored = toStored(folders, HELD_OUT, new Date('2026-01-02T00:00:00Z'));
    expect(stored.format).toBe(STORED_FORMAT);
    expect(stored.folders[0]!.files['weights.bin']).not.toBe(folders[0]!.files['weights.bin']); // copied
    const clone = structuredClone(stored); // what IndexedDB does
    const back = await fromStored(clone);
    expect(back.savedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(back.heldOut).toEqual(HELD_OUT);
    expect(back.folders.map((f) => f.entry)).toEqual(folders.map((f) => f.entry));
  });

  it('refuses a record of another format or with damaged weights, saying what to do', async () => {
    await expect(fromStored({ format: 'other' })).rejects.toThrow(/Forget my models/);
    const stored = structuredClone(toStored(folders, undefined));
    stored.folders[0]!.files['weights.bin'] = stored.folders[0]!.files['weights.bin']!.subarray(0, 10);
    await expect(fromStored(stored)).rejects.toThrow(/stored in this browser: my-cnn\/weights\.bin: 10 bytes/);
    const noFiles = structuredClone(toStored(folders, undefined)) as unknown as { folders: { files: unknown }[] };
    noFiles.folders[1]!.files = 'x';
    await expect(fromStored(noFiles)).rejects.toThrow(/"my-svm-au" has no readable files/);
  });

  it('checks a single folder: its model.json must be present and JSON', async () => {
    await expect(checkModelFolder(withFile(folders[0]!, 'model.json', strToU8('{')), 'here')).rejects.toThrow(
      /here: my-cnn\/model\.json is not JSON/,
    );
    await expect(checkModelFolder(folders[1]!, 'here')).resolves.toBeUndefined();
  });
});
