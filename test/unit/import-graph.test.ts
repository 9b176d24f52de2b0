/**
 * The import graph of src/, resolved from the files (static, dynamic and type-only imports and
 * re-exports, .svelte scripts included): no cycle, and the layer rules that eslint.config.js also
 * enforces. src/core imports only src/core and no package at all (no tfjs, DOM framework or Node);
 * src/learn (training shared by Node and the browser) imports only src/core, @tensorflow/tfjs and
 * libsvm-js; src/app and src/train may import src/learn and never import each other; src/lib builds on src/core and src/app only;
 * nothing in src imports scripts/ or test/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared-data.ts';

/** file (relative to the repository, '/' separators) -> its import specifiers. */
type Sources = Map<string, string[]>;
/** file -> the files it imports (inside the repository) and the packages it imports. */
interface Graph {
  edges: Map<string, string[]>;
  packages: Map<string, string[]>;
}

const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from '…', export { x } from '…'
  /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effects)
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
  /\bnew\s+URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g, // new Worker(new URL('./worker.ts', import.meta.url))
];

/** Import specifiers of one file's code (block and line comments removed first, so examples in comments do not count). */
function specifiersOf(code: string): string[] {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return SPECIFIERS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|svelte)$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split('\\').join('/'));
}

function readSources(): Sources {
  const sources: Sources = new Map();
  for (const file of listSources(join(ROOT, 'src'))) {
    let code = readFileSync(join(ROOT, file), 'utf8');
    // A component's imports are in its <script> blocks.
    if (file.endsWith('.svelte')) code = [...code.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
    sources.set(file, specifiersOf(code));
  }
  return sources;
}

/** Resolves relative specifiers against the file (they name the file with its extension, as the code base writes them). */
function buildGraph(sources: Sources, exists: (file: string) => boolean): Graph {
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const [file, specs] of sources) {
    edges.set(file, []);
    packages.set(file, []);
    for (const spec of specs) {
      if (!spec.startsWith('.')) {
        packages.get(file)!.push(spec);
        continue;
      }
      const target = join(dirname(file), spec.replace(/\?.*$/, '')).split('\\').join('/');
      if (!exists(target)) throw new Error(`${file}: cannot resolve ${spec} (${target} does not exist)`);
      edges.get(file)!.push(target);
    }
  }
  return { edges, packages };
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

const layerOf = (file: string): string => {
  const m = /^src\/(core|learn|app|train|lib)\//.exec(file);
  if (m) return m[1]!;
  return file.split('/')[0]!; // scripts, test, or a top-level file
};

/** Which layers each layer of src may import (itself included). */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  learn: ['learn', 'core'],
  app: ['app', 'learn', 'core'],
  train: ['train', 'learn', 'core'],
  lib: ['lib', 'app', 'core'],
};

/** The only packages src/learn may import. */
const LEARN_PACKAGES = /^(@tensorflow\/tfjs|libsvm-js(\/.*)?)$/;

/** The layer rule each import breaks, as "file -> import (why)". */
function layerViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph.edges) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (!ALLOWED[from]?.includes(to))
        problems.push(`${file} -> ${target} (src/${from} may import only ${ALLOWED[from]?.map((l) => `src/${l}`).join(', ')})`);
    }
    if (from === 'core')
      for (const spec of graph.packages.get(file)!)
        problems.push(`${file} -> ${spec} (src/core imports no package: no tfjs, DOM framework or Node)`);
    if (from === 'learn')
      for (const spec of graph.packages.get(file)!)
        if (!LEARN_PACKAGES.test(spec))
          problems.push(`${file} -> ${spec} (src/learn imports only @tensorflow/tfjs and libsvm-js: it runs in Node and the browser)`);
  }
  return problems;
}

describe('the import graph of src/', () => {
  const graph = buildGraph(readSources(), (file) => existsSync(resolve(ROOT, file)));

  it('reads every module of src/ and resolves its imports', () => {
    expect(graph.edges.size).toBeGreaterThan(100);
    expect(graph.edges.get('src/app/live/runner.ts')).toContain('src/app/live/svm-runner.ts'); // the dynamic import
    expect(graph.edges.get('src/app/App.svelte')).toContain('src/app/components/LiveView.svelte');
  });

  it('has no cycle', () => {
    expect(findCycles(graph.edges).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps the layers: core pure; learn over core; app and train apart, over learn; lib over app and core; nothing from scripts/ or test/', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('holds no tests (they live in test/, mirroring src/)', () => {
    expect([...graph.edges.keys()].filter((f) => /\.test\.ts$/.test(f))).toEqual([]);
  });

  it('the checks catch a planted cycle and each kind of layer leak', () => {
    const planted = buildGraph(
      new Map([
        ['src/app/a.ts', ['./b.ts', '../../scripts/tool.ts']],
        ['src/app/b.ts', ['./a.ts', '../train/t.ts']],
        ['src/core/c.ts', ['@tensorflow/tfjs', 'node:fs', '../app/a.ts']],
        ['src/learn/n.ts', ['@tensorflow/tfjs', 'libsvm-js/asm', 'node:fs', '../core/c.ts', '../train/t.ts', '../app/a.ts']],
        ['src/app/uses-learn.ts', ['../learn/n.ts']],
        ['src/lib/l.ts', ['../train/t.ts', '../app/a.ts', '../core/c.ts']],
        ['src/train/t.ts', ['../../test/helpers/png.ts']],
      ]),
      () => true,
    );
    expect(findCycles(planted.edges).map((c) => c.join(' -> '))).toEqual(['src/app/a.ts -> src/app/b.ts -> src/app/a.ts']);
    expect(layerViolations(planted).map((p) => p.replace(/ \(.*/, ''))).toEqual([
      'src/app/a.ts -> scripts/tool.ts',
      'src/app/b.ts -> src/train/t.ts',
      'src/core/c.ts -> src/app/a.ts',
      'src/core/c.ts -> @tensorflow/tfjs',
      'src/core/c.ts -> node:fs',
      'src/learn/n.ts -> src/train/t.ts',
      'src/learn/n.ts -> src/app/a.ts',
      'src/learn/n.ts -> node:fs',
      'src/lib/l.ts -> src/train/t.ts',
      'src/train/t.ts -> test/helpers/png.ts',
    ]);
    expect(() => buildGraph(new Map([['src/app/a.ts', ['./gone.ts']]]), () => false)).toThrow(
      /src\/app\/a\.ts: cannot resolve \.\/gone\.ts/,
    );
  });

  it('reads the import forms the code base uses, not imports shown in comments', () => {
    const code = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import {\n  c,\n  type D,\n} from './c.ts';",
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "import './g.css';",
      "const h = await import('./h.ts');",
      "new Worker(new URL('./w.ts', import.meta.url));",
      "/** import x from './not-me.ts' */",
      "// import y from './nor-me.ts';",
    ].join('\n');
    expect(specifiersOf(code).sort()).toEqual(['./a.ts', './b.ts', './c.ts', './e.ts', './f.ts', './g.css', './h.ts', './w.ts']);
  });
});
