/**
 * The canonical FER2013 face framing: where the eyes and mouth of a FER2013 face sit in its
 * 48 x 48 image. Live crops are warped so the detected face lands on these numbers, so the CNNs see
 * faces framed the way they were trained.
 *
 * How they were measured (scripts/derive-framing.ts, reproducible with
 * `npx tsx scripts/derive-framing.ts --count 400`): PLACEHOLDER
 */
import type { CanonicalFraming } from './types.ts';

export const FER2013_FRAMING: CanonicalFraming = {
  size: 48,
  eyeMid: { x: 24, y: 19 },
  interocular: 19,
  mouthDrop: 16,
};
