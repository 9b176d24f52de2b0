/** npm run predict: usage errors exit non-zero with a message that says how to fix them (no browser needed). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) =>
  spawnSync('npx', ['tsx', 'src/train/commands/predict.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('predict CLI usage', () => {
  it('rejects an unknown model id, naming the ones that exist', () => {
    const r = run('--models', 'fer-cnn,nope', 'some.png');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown model id "nope"; models\/index\.json has: .*fer-cnn/);
  });

  it('needs at least one path, and rejects a bad --backend', () => {
    expect(run().status).toBe(2);
    const r = run('--backend', 'cuda', 'x.png');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--backend must be webgpu, webgl, wasm or cpu, got "cuda"/);
  });

  it('reports a path that does not exist in the output and exits 1, not as a usage error', () => {
    const r = run('--json', 'does/not/exist.png');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.trim())).toEqual({ file: 'does/not/exist.png', faces: [], error: 'does/not/exist.png does not exist' });
  });

  it('exits 1 when a folder holds no image or video file, saying what it looked for', () => {
    const empty = mkdtempSync(join(tmpdir(), 'predict-empty-'));
    try {
      const r = run(empty);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/predict: no image or video files found \(looked for \.jpg, .*\.mp4/);
      expect(r.stdout).toBe('');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('names a --neutral path that does not exist or holds no photo', () => {
    let r = run('--neutral', 'does/not/exist', 'x.png');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--neutral does\/not\/exist does not exist; give a photo, or a folder of photos, of the person's relaxed face/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'predict-neutral-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'not a photo');
      r = run('--neutral', dir, 'x.png');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/holds no image file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a models folder for --models, and names its missing or broken index.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'predict-models-'));
    try {
      let r = run('--models', dir, 'x.png');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--models ${dir}: ${join(dir, 'index.json')} not found`);
      writeFileSync(join(dir, 'index.json'), '{"models": [{"id": "mine", "kind": "cnn"}]}');
      r = run('--models', dir, 'x.png');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/index\.json.*mine/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
