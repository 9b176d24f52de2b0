import { describe, it, expect } from 'vitest';
import { assignLanes } from '../../../src/app/live/lanes.ts';

describe('assignLanes (models split between the page thread and the worker)', () => {
  it('balances the committed models measured here, longest first, worker lane with its overhead', () => {
    const costs: [string, number][] = [
      ['fer-cnn', 3.0],
      ['fer-cnn-seed', 1.0],
      ['fer-cnn-finetuned', 2.8],
      ['svm-au', 0.8],
      ['svm-pixels', 0.8],
      ['svm-au-personal', 0.07],
    ];
    const lanes = assignLanes(costs, 2.5);
    // fer-cnn -> page (3.0); finetuned -> worker (2.5 < 3.0: 5.3); seed, svm-au, svm-pixels -> page
    // (4.0, 4.8, 5.6); personal -> worker (5.3 < 5.6).
    expect(lanes.page).toEqual(['fer-cnn', 'fer-cnn-seed', 'svm-au', 'svm-pixels']);
    expect(lanes.worker).toEqual(['fer-cnn-finetuned', 'svm-au-personal']);
    expect(lanes.pageMs).toBeCloseTo(5.6, 9);
    expect(lanes.workerMs).toBeCloseTo(5.37, 9);
  });

  it('keeps everything on the page when the worker overhead outweighs the gain', () => {
    const lanes = assignLanes(
      [
        ['a', 1],
        ['b', 0.5],
      ],
      3,
    );
    expect(lanes.worker).toEqual([]);
    expect(lanes.page).toEqual(['a', 'b']);
    expect(lanes.workerMs).toBe(0);
  });

  it('a single model stays on the page; ids keep manifest order in each lane; bad costs count as 0', () => {
    expect(assignLanes([['only', 10]], 0.5).worker).toEqual([]);
    const lanes = assignLanes(
      [
        ['small', 1],
        ['big', 5],
        ['mid', 4],
        ['nan', NaN],
      ],
      0,
    );
    expect(lanes.page).toEqual(['big', 'nan']);
    expect(lanes.worker).toEqual(['small', 'mid']);
    expect(lanes.workerMs).toBe(5);
  });
});
