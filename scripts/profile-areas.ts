/**
 * npm run profile:areas -- FILE.cpuprofile BUILD_DIR [--frames N]
 *
 * A page-thread CPU profile from `npm run bench:live -- --cpu-profile FILE`, summed by area of the
 * code (MediaPipe, the timeline chart, the frame grab, the crop warps, ...) through the source maps
 * of a build of the same code: `npx vite build --sourcemap --outDir BUILD_DIR` (the bundle names
 * must match the profiled build's; the script says when they do not).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SourceMapConsumer } from 'source-map-js';
import { areaTimes, type Area, type CpuProfile } from '../src/train/browser/cpu-profile.ts';

const USAGE =
  'usage: npm run profile:areas -- FILE.cpuprofile BUILD_DIR [--frames N]   (BUILD_DIR: npx vite build --sourcemap --outDir BUILD_DIR)';

export const AREAS: Area[] = [
  { name: 'MediaPipe landmarker (wasm and its JS)', test: (s) => s === 'mediapipe' || s.endsWith('live/landmarker.ts') },
  { name: 'timeline chart', test: (s) => s.endsWith('Timeline.svelte') || s.endsWith('core/charts.ts') },
  { name: 'frame grab (FrameGrabber.grab)', test: (_, fn) => fn === 'grab' },
  { name: 'crop warps', test: (s) => s.endsWith('framing/warp.ts') },
  { name: 'worker messages (inference client)', test: (s) => s.endsWith('inference-client.ts') },
  { name: 'other Svelte components', test: (s) => s.endsWith('.svelte') },
];

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { frames: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`profile:areas: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const [file, buildDir] = parsed.positionals;
  const frames = parsed.values.frames === undefined ? undefined : Number(parsed.values.frames);
  if (!file || !buildDir || parsed.positionals.length > 2 || (frames !== undefined && !(frames > 0))) {
    console.error(
      `profile:areas: ${frames !== undefined && !(frames > 0) ? '--frames must be a positive number' : 'expected a profile file and a build folder'}\n${USAGE}`,
    );
    return 2;
  }
  for (const p of [file, buildDir])
    if (!existsSync(p)) {
      console.error(`profile:areas: ${p} does not exist\n${USAGE}`);
      return 2;
    }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const maps = new Map<string, SourceMapConsumer | null>();
  const missing = new Set<string>();
  const areas = areaTimes(
    profile,
    (f) => {
      if (f.url.includes('vision_wasm') || f.url.includes('vision_bundle')) return 'mediapipe';
      if (!f.url) return '';
      const name = f.url
        .replace(/[?#].*$/, '')
        .split('/')
        .pop()!;
      if (!maps.has(name)) {
        const mapFile = join(buildDir, 'assets', `${name}.map`);
        maps.set(name, existsSync(mapFile) ? new SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8'))) : null);
      }
      const map = maps.get(name);
      if (!map) {
        if (name.endsWith('.js')) missing.add(name);
        return '';
      }
      const source = map.originalPositionFor({ line: f.lineNumber + 1, column: f.columnNumber ?? 0 }).source ?? '';
      return source.includes('@mediapipe') ? 'mediapipe' : source;
    },
    AREAS,
  );
  if (missing.size > 0)
    console.warn(
      `profile:areas: no source map in ${buildDir}/assets for ${[...missing].join(', ')}: build the profiled code with --sourcemap`,
    );
  for (const a of areas)
    console.log(
      `${(a.share * 100).toFixed(1).padStart(5)} %  ${frames ? `${(a.selfMs / frames).toFixed(2).padStart(6)} ms/frame  ` : ''}${a.name}`,
    );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main();
