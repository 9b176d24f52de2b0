/** The Vite plugins (scripts/vite-plugins.ts): the content security policy, the models/ handler and copy. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy, copyModels, createModelsHandler } from '../../../scripts/vite-plugins.ts';

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('content security policy', () => {
  it('allows only the app origin', () => {
    for (const policy of [contentSecurityPolicy(), contentSecurityPolicy({ dev: true, header: true })]) {
      expect(policy).toMatch(/default-src 'self'/);
      expect(policy).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
      expect(policy).not.toMatch(/https?:|\*|'unsafe-eval'/);
    }
    expect(contentSecurityPolicy()).not.toMatch(/unsafe-inline|frame-ancestors/);
  });
});

describe('models handler', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'models-handler-'));
    await mkdir(join(dir, 'fer-cnn'));
    await writeFile(join(dir, 'index.json'), '{"models":[]}');
    await writeFile(join(dir, 'fer-cnn/group1-shard1of1.bin'), new Uint8Array([1, 2, 3]));
    await writeFile(join(dir, '..', 'secret-outside-models.txt'), 'nope').catch(() => {});
    const handler = createModelsHandler(dir);
    server = createServer((req, res) => {
      // Mimic connect's mount at /models: strip the prefix.
      if (!req.url?.startsWith('/models/')) {
        res.statusCode = 418;
        res.end();
        return;
      }
      req.url = req.url.slice('/models'.length);
      void handler(req, res, () => {
        res.statusCode = 599;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
    await rm(join(dir, '..', 'secret-outside-models.txt'), { force: true });
  });

  it('serves JSON and binary files with a content type', async () => {
    const json = await fetch(`${base}/models/index.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    expect(await json.json()).toEqual({ models: [] });
    const bin = await fetch(`${base}/models/fer-cnn/group1-shard1of1.bin?v=1`);
    expect(bin.status).toBe(200);
    expect(new Uint8Array(await bin.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('answers 404 for missing files and directories (never the SPA page)', async () => {
    expect((await fetch(`${base}/models/nope.json`)).status).toBe(404);
    expect((await fetch(`${base}/models/fer-cnn/`)).status).toBe(404);
  });

  it('does not leave the models folder', async () => {
    // fetch() would normalise the dots away; send the raw paths with node:http.
    const attempts = [
      '/models/%2e%2e/secret-outside-models.txt',
      '/models/../secret-outside-models.txt',
      '/models/..%2fsecret-outside-models.txt',
    ];
    for (const path of attempts) {
      const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
        get({ host: '127.0.0.1', port: new URL(base).port, path }, (res) => {
          let body = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (body += c))
            .on('end', () => done({ status: res.statusCode ?? 0, body }));
        }).on('error', fail);
      });
      expect(body).not.toBe('nope');
      expect([403, 404]).toContain(status);
    }
  });

  it('copyModels mirrors the folder and tolerates a missing one', async () => {
    const out = await mkdtemp(join(tmpdir(), 'models-copy-'));
    try {
      await writeFile(join(out, 'stale.txt'), 'old');
      expect(await copyModels(dir, out)).toBe(true);
      expect(await listFiles(out)).toEqual(['fer-cnn/group1-shard1of1.bin', 'index.json']);
      expect(await copyModels(join(dir, 'missing'), out)).toBe(false);
      expect(existsSync(out)).toBe(false);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
