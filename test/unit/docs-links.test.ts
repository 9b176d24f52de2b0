/**
 * The README and docs/ stay navigable: every relative link resolves to a file of the repository,
 * every #anchor to a heading of its target (GitHub's slugs), and every repository path written in
 * backticks (`src/...`, `models/...`) exists, so moving a file without updating the docs fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const docsDir = join(root, 'docs');
const pages = [
  join(root, 'README.md'),
  ...(existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((n) => n.endsWith('.md'))
        .map((n) => join(docsDir, n))
    : []),
];

/** Markdown without fenced code blocks (their contents are examples, not links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = match[1]!
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** Problems with the links of one page: "file: target (why)". */
function linkProblems(file: string, markdown: string, readPage = (p: string) => readFileSync(p, 'utf8')): string[] {
  const problems: string[] = [];
  const text = prose(markdown);
  const name = relative(root, file);
  for (const match of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (path !== '' && !existsSync(resolved)) {
      problems.push(`${name}: ${target} (no such file)`);
      continue;
    }
    const targetText = path === '' ? markdown : resolved.endsWith('.md') ? readPage(resolved) : undefined;
    if (anchor !== undefined && targetText !== undefined && !headingSlugs(targetText).has(anchor)) {
      problems.push(`${name}: ${target} (no heading with the anchor #${anchor} in ${relative(root, resolved)})`);
    }
  }
  // Repository paths in backticks, e.g. `src/core/tracking.ts` or `models/index.json`.
  for (const match of text.matchAll(/`((?:src|scripts|test|models|docs|examples|public)\/[^`\s]*)`/g)) {
    const path = match[1]!;
    if (/[<>*…[\]]|\.\.\./.test(path)) continue; // a pattern or placeholder, not a path
    if (!existsSync(join(root, path))) problems.push(`${name}: \`${path}\` (no such path in the repository)`);
  }
  return problems;
}

describe('README and docs/', () => {
  it('have the pages the README links to', () => {
    expect(pages.map((p) => relative(root, p))).toContain('README.md');
    expect(pages.length).toBeGreaterThan(1);
  });

  for (const page of pages) {
    it(`${relative(root, page)}: links, anchors and paths resolve`, () => {
      expect(linkProblems(page, readFileSync(page, 'utf8'))).toEqual([]);
    });
  }

  it('the checker catches a missing file, a missing anchor and a moved path', () => {
    const fake = join(docsDir, 'fake.md');
    const other = join(root, 'README.md');
    const md = '# Title\n\n[ok](#title) [bad](#nope) [gone](missing.md) [readme](../README.md#no-such-heading) `src/nowhere/x.ts`\n';
    const read = (p: string) => (p === other ? '# Emotion Lens\n' : md);
    expect(linkProblems(fake, md, read)).toEqual([
      'docs/fake.md: #nope (no heading with the anchor #nope in docs/fake.md)',
      'docs/fake.md: missing.md (no such file)',
      'docs/fake.md: ../README.md#no-such-heading (no heading with the anchor #no-such-heading in README.md)',
      'docs/fake.md: `src/nowhere/x.ts` (no such path in the repository)',
    ]);
  });

  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs('## Checkpoints, `--resume` and `--fresh`\n## `models/index.json`: the models list\n## Tests\n## Tests\n');
    expect([...slugs]).toEqual(['checkpoints---resume-and---fresh', 'modelsindexjson-the-models-list', 'tests', 'tests-1']);
  });

  it('docs/images/app.png is a PNG under 300 KB', () => {
    const png = join(docsDir, 'images/app.png');
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(statSync(png).size).toBeLessThan(300 * 1024);
  });
});
