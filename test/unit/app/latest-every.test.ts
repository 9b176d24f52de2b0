import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LatestEvery } from '../../../src/app/live/latest-every.ts';

describe('LatestEvery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the first value at once, then at most one per period, and always the last one', () => {
    const seen: number[] = [];
    const feed = new LatestEvery<number>(
      100,
      (v) => seen.push(v),
      () => Date.now(),
    );
    feed.push(1);
    expect(seen).toEqual([1]);
    // 30 FPS for a tenth of a second: nothing more until the period is over, then the latest.
    for (let i = 2; i <= 4; i++) {
      vi.advanceTimersByTime(33);
      feed.push(i);
    }
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 4]);
    // The stream stops after one more value: it still shows, once the period is up.
    vi.advanceTimersByTime(19);
    feed.push(5);
    expect(seen).toEqual([1, 4]);
    vi.advanceTimersByTime(80);
    expect(seen).toEqual([1, 4]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 4, 5]);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 4, 5]);
  });

  it('lets an urgent value through at once and drops what was waiting; cancel drops it too', () => {
    const seen: string[] = [];
    const feed = new LatestEvery<string>(
      100,
      (v) => seen.push(v),
      () => Date.now(),
    );
    feed.push('a');
    vi.advanceTimersByTime(10);
    feed.push('b');
    feed.push('new face', true);
    feed.push('c');
    feed.cancel();
    vi.advanceTimersByTime(500);
    expect(seen).toEqual(['a', 'new face']);
  });
});
