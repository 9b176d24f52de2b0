/** `vite build` of the app: the CSP meta tag and a copy of models/ (the plugins alone: test/unit/scripts/vite-plugins.test.ts). */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from 'vite';
import { contentSecurityPolicy } from '../../scripts/vite-plugins.ts';
import { ROOT } from '../helpers/shared-data.ts';

const root = ROOT;

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('vite build', () => {
  it('builds the app with the CSP meta tag and a copy of models/', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'app-build-'));
    try {
      await build({
        root,
        configFile: join(root, 'vite.config.ts'),
        logLevel: 'silent',
        // public/ holds large wasm/model assets that this test does not need to copy.
        publicDir: false,
        build: { outDir, emptyOutDir: true },
      });
      const html = await readFile(join(outDir, 'index.html'), 'utf8');
      const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
      expect(meta?.[1].replaceAll('&#39;', "'")).toBe(contentSecurityPolicy());
      expect(html).not.toContain('%APP_CSP%');
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/[^"]+\.js"><\/script>/);
      expect(await listFiles(join(outDir, 'models'))).toEqual(await listFiles(join(root, 'models')));
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
