import { describe, expect, it } from 'vitest';
import { areaTimes, renderProfileSummary, summarizeProfile, type CpuProfile } from '../../../src/train/browser/cpu-profile.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/** root -> (idle), root -> run (app.js:10) -> warpGray (engine.js:42), and a second node named like the first run. */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('run', 'http://127.0.0.1:5173/assets/app.js?v=1', 9), children: [4] },
    { id: 4, callFrame: frame('warpGray', 'http://127.0.0.1:5173/assets/engine.js', 41) },
    { id: 5, callFrame: frame('run', 'http://127.0.0.1:5173/assets/app.js', 9) },
  ],
  startTime: 1000,
  // Samples at 1000+100, +200, +300, +600, +700; the profile ends at 2000.
  samples: [2, 4, 4, 3, 5],
  timeDeltas: [100, 100, 100, 300, 100],
  endTime: 2000,
};

describe('summarizeProfile (bench:live --cpu-profile)', () => {
  it('gives each sample the time until the next one (the last until endTime) and sums nodes by name and place', () => {
    const s = summarizeProfile(PROFILE);
    // (idle) 100 us; warpGray 100 + 300 us; run: node 3 100 us + node 5 (last, 700 -> 1000) 300 us.
    expect(s.totalMs).toBeCloseTo(0.9, 6);
    expect(s.top).toEqual([
      { name: 'warpGray (engine.js:42)', selfMs: 0.4, share: 0.4444 },
      { name: 'run (app.js:10)', selfMs: 0.4, share: 0.4444 },
      { name: '(idle)', selfMs: 0.1, share: 0.1111 },
    ]);
    expect(s.busy).toBeCloseTo(0.8889, 4);
  });

  it('keeps the top N and prints one line per function', () => {
    const s = summarizeProfile(PROFILE, 1);
    expect(s.top).toHaveLength(1);
    const text = renderProfileSummary(s, 'page thread');
    expect(text).toMatch(/^page thread: 0\.0 s sampled, busy 88\.9%/);
    expect(text).toContain('44.4%');
    expect(text).toContain('warpGray (engine.js:42)');
  });

  it('reads an empty profile as nothing sampled', () => {
    expect(summarizeProfile({ nodes: [], startTime: 0, endTime: 0 })).toEqual({ totalMs: 0, busy: 0, top: [] });
  });
});

describe('areaTimes (npm run profile:areas)', () => {
  const sources: Record<string, string> = { 'app.js': 'src/app/live/landmarker.ts', 'engine.js': 'src/core/framing/warp.ts' };
  const sourceOf = (f: { url: string }) => sources[f.url.split('/').pop()!.replace(/\?.*$/, '')] ?? '';

  it('gives a sample to the first area any frame of its stack belongs to, V8 pseudo-frames to themselves', () => {
    const areas = [
      { name: 'landmarker', test: (s: string) => s.endsWith('landmarker.ts') },
      { name: 'warps', test: (s: string) => s.endsWith('warp.ts') },
    ];
    // warpGray's samples have run (landmarker.ts) above them: the first area listed wins.
    expect(areaTimes(PROFILE, sourceOf, areas)).toEqual([
      { name: 'landmarker', selfMs: 0.8, share: 0.8889 },
      { name: '(idle)', selfMs: 0.1, share: 0.1111 },
    ]);
    expect(areaTimes(PROFILE, sourceOf, [areas[1]!])).toEqual([
      { name: 'warps', selfMs: 0.4, share: 0.4444 },
      { name: 'other JS', selfMs: 0.4, share: 0.4444 },
      { name: '(idle)', selfMs: 0.1, share: 0.1111 },
    ]);
  });
});
