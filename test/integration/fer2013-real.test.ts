/** The FER2013 loader on the real file from the shared data folder (the synthetic cases: test/unit/train/fer2013.test.ts). */
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/core/labels.ts';
import { describeLoad, loadFer2013 } from '../../src/train/data/fer2013.ts';
import { FER2013_CSV, missingShared } from '../helpers/shared-data.ts';

const missing = missingShared(FER2013_CSV);
if (missing) console.log(`[fer2013-real.test] skipping the real-data test: needs ${missing}`);

describe.skipIf(!!missing)('real FER2013 file', () => {
  it('loads 35,887 rows split 28,709 / 3,589 / 3,589 with no bad rows', async () => {
    const t0 = performance.now();
    const r = await loadFer2013(FER2013_CSV);
    const sec = (performance.now() - t0) / 1000;
    console.log(`[fer2013-real.test] full load ${sec.toFixed(2)} s\n${describeLoad(r)}`);
    expect(r.totalRows).toBe(35887);
    expect(r.badRows).toBe(0);
    expect(r.train.count).toBe(28709);
    expect(r.val.count).toBe(3589);
    expect(r.test.count).toBe(3589);
    expect(r.train.pixels.length).toBe(28709 * IMAGE_PIXELS);
    const perClass = (labels: Uint8Array): number[] => {
      const c = new Array<number>(7).fill(0);
      for (const l of labels) c[l]!++;
      return c;
    };
    // Class counts of the original split (see shared/data/fer2013/README.md).
    expect(perClass(r.train.labels)).toEqual([3995, 436, 4097, 7215, 4830, 3171, 4965]);
    expect(perClass(r.val.labels)).toEqual([467, 56, 496, 895, 653, 415, 607]);
    expect(perClass(r.test.labels)).toEqual([491, 55, 528, 879, 594, 416, 626]);
  }, 60_000);
});
