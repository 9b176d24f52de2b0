import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetError, ensureFaceLandmarker, sha256Hex, syncFiles, type FetchLike } from '../../../scripts/assets.ts';

// Small stand-ins for the real bundle; the real digest/size are checked by default in production.
const GOOD = new TextEncoder().encode('pretend this is face_landmarker.task');
const BAD = new TextEncoder().encode('something else entirely');
const expected = { sha256: sha256Hex(GOOD), bytes: GOOD.byteLength };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'setup-assets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noFetch: FetchLike = async () => {
  throw new Error('network must not be used in this test');
};

function fakeFetch(body: Uint8Array, status = 200): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (url: string) => {
    calls.push(url);
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: status === 200 ? 'OK' : 'Error',
      arrayBuffer: async () => body.slice().buffer as ArrayBuffer,
    };
  };
  return Object.assign(fn, { calls });
}

async function put(name: string, data: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
  return path;
}

describe('ensureFaceLandmarker', () => {
  it('takes the FACE_LANDMARKER_PATH file before the shared copy', async () => {
    const envPath = await put('env/face_landmarker.task', GOOD);
    const sharedPath = await put('shared/face_landmarker.task', BAD); // would be rejected if consulted
    const dest = join(dir, 'public/mediapipe/face_landmarker.task');
    const result = await ensureFaceLandmarker({ ...expected, dest, envPath, sharedPath, fetchImpl: noFetch });
    expect(result).toEqual({ path: dest, source: 'env' });
    expect(new Uint8Array(await readFile(dest))).toEqual(GOOD);
  });

  it('falls back to the shared copy when the env var is unset or empty', async () => {
    const sharedPath = await put('shared/face_landmarker.task', GOOD);
    const dest = join(dir, 'out/face_landmarker.task');
    for (const envPath of [undefined, '']) {
      await rm(dest, { force: true });
      const result = await ensureFaceLandmarker({ ...expected, dest, envPath, sharedPath, fetchImpl: noFetch });
      expect(result.source).toBe('shared');
      expect(new Uint8Array(await readFile(dest))).toEqual(GOOD);
    }
    // No temp files are left behind.
    expect(await readdir(join(dir, 'out'))).toEqual(['face_landmarker.task']);
  });

  it('rejects a sha256 mismatch from the env var with an error naming the variable and path', async () => {
    const envPath = await put('env/face_landmarker.task', BAD);
    const dest = join(dir, 'out/face_landmarker.task');
    const run = ensureFaceLandmarker({ ...expected, dest, envPath, fetchImpl: noFetch });
    await expect(run).rejects.toBeInstanceOf(AssetError);
    await expect(run).rejects.toThrow(/FACE_LANDMARKER_PATH=.*env\/face_landmarker\.task.*sha256/);
    await expect(stat(dest)).rejects.toThrow();
  });

  it('reports a missing FACE_LANDMARKER_PATH file instead of silently falling back', async () => {
    const sharedPath = await put('shared/face_landmarker.task', GOOD);
    const dest = join(dir, 'out/face_landmarker.task');
    const run = ensureFaceLandmarker({ ...expected, dest, envPath: join(dir, 'nope.task'), sharedPath, fetchImpl: noFetch });
    await expect(run).rejects.toThrow(/FACE_LANDMARKER_PATH=.*nope\.task.*no file exists/);
  });

  it('rejects a wrong shared copy with a clear error', async () => {
    const sharedPath = await put('shared/face_landmarker.task', BAD);
    const dest = join(dir, 'out/face_landmarker.task');
    const run = ensureFaceLandmarker({ ...expected, dest, sharedPath, fetchImpl: noFetch });
    await expect(run).rejects.toThrow(new RegExp(`shared copy .*${expected.sha256}`));
    await expect(stat(dest)).rejects.toThrow();
  });

  it('keeps an existing correct file without rewriting it', async () => {
    const dest = await put('out/face_landmarker.task', GOOD);
    const before = await stat(dest);
    await new Promise((r) => setTimeout(r, 20));
    const sharedPath = await put('shared/face_landmarker.task', GOOD);
    const result = await ensureFaceLandmarker({ ...expected, dest, sharedPath, fetchImpl: noFetch });
    expect(result.source).toBe('existing');
    const after = await stat(dest);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
  });

  it('replaces an existing wrong file', async () => {
    const dest = await put('out/face_landmarker.task', BAD);
    const sharedPath = await put('shared/face_landmarker.task', GOOD);
    const logs: string[] = [];
    const result = await ensureFaceLandmarker({ ...expected, dest, sharedPath, fetchImpl: noFetch, log: (m) => logs.push(m) });
    expect(result.source).toBe('shared');
    expect(new Uint8Array(await readFile(dest))).toEqual(GOOD);
    expect(logs.join('\n')).toMatch(/wrong content/);
  });

  it('downloads through the injected fetch when there is no local copy', async () => {
    const fetchImpl = fakeFetch(GOOD);
    const dest = join(dir, 'out/face_landmarker.task');
    const url = 'https://example.invalid/face_landmarker.task';
    const result = await ensureFaceLandmarker({
      ...expected,
      dest,
      sharedPath: join(dir, 'missing/face_landmarker.task'),
      url,
      fetchImpl,
    });
    expect(result.source).toBe('download');
    expect(fetchImpl.calls).toEqual([url]);
    expect(new Uint8Array(await readFile(dest))).toEqual(GOOD);
  });

  it('rejects a corrupted download and writes nothing', async () => {
    const dest = join(dir, 'out/face_landmarker.task');
    const run = ensureFaceLandmarker({ ...expected, dest, fetchImpl: fakeFetch(BAD) });
    await expect(run).rejects.toThrow(/download .* is not the expected face_landmarker\.task/);
    await expect(stat(dest)).rejects.toThrow();
  });

  it('explains how to fix a failed download', async () => {
    const dest = join(dir, 'out/face_landmarker.task');
    await expect(ensureFaceLandmarker({ ...expected, dest, fetchImpl: fakeFetch(GOOD, 503) })).rejects.toThrow(
      /HTTP 503.*FACE_LANDMARKER_PATH=/,
    );
    await expect(ensureFaceLandmarker({ ...expected, dest, fetchImpl: noFetch })).rejects.toThrow(
      /Could not download.*FACE_LANDMARKER_PATH=/,
    );
  });

  it('checks the real digest and size by default', async () => {
    const envPath = await put('env/face_landmarker.task', GOOD);
    await expect(ensureFaceLandmarker({ dest: join(dir, 'out/x.task'), envPath, fetchImpl: noFetch })).rejects.toThrow(
      /64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff \(3758596 bytes\)/,
    );
  });
});

describe('syncFiles', () => {
  it('copies matching files and leaves identical ones untouched', async () => {
    await put('src/a.wasm', GOOD);
    await put('src/b.js', BAD);
    await put('src/readme.md', BAD);
    const out = join(dir, 'dest');
    const first = await syncFiles(join(dir, 'src'), out, (n) => n.endsWith('.wasm') || n.endsWith('.js'));
    expect(first.copied.sort()).toEqual(['a.wasm', 'b.js']);
    expect((await readdir(out)).sort()).toEqual(['a.wasm', 'b.js']);
    const second = await syncFiles(join(dir, 'src'), out, (n) => n.endsWith('.wasm') || n.endsWith('.js'));
    expect(second.copied).toEqual([]);
    expect(second.unchanged.sort()).toEqual(['a.wasm', 'b.js']);
  });

  it('says to reinstall when the package folder is missing', async () => {
    await expect(syncFiles(join(dir, 'node_modules/nope'), join(dir, 'dest'))).rejects.toThrow(/npm install/);
  });
});
