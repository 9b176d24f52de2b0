/**
 * A person's neutral face without asking for it: among frames (or photos) of one person, the ones
 * the general models read as most neutral are taken as their relaxed face, and the baseline of
 * src/core/neutral-baseline.ts is made from them exactly as from a capture. People rest between
 * expressions, so a share of any stretch of video shows their relaxed face; the models' raw
 * p(neutral), averaged over the models with a reference moved at their output, finds those frames
 * well enough: on JAFFE (leave-one-out, docs/models.md) the 10 % most relaxed of a person's other
 * photos are 66 % truly neutral, and the best model reads 0.661 with them against 0.714 with the
 * labelled neutral photos.
 */
import { NeutralCapture, type NeutralBaseline, type NeutralReference } from './neutral-baseline.ts';
import { EMOTIONS } from './labels.ts';

/** The share of a person's frames taken as their relaxed face. */
export const AUTO_NEUTRAL_SHARE = 0.1;

const NEUTRAL = EMOTIONS.indexOf('neutral');

/**
 * How relaxed a face looks: the mean raw probability of neutral over the models with a reference
 * that read it; undefined when none did. Models moved at their input (a reference with features:
 * `svm-au`) vote only when no other model does: once a baseline applies, their readings come from
 * moved features, so frames before and after it would be judged differently, while the other
 * models' raw readings stay raw.
 */
export function relaxedScore(
  readings: Readonly<Record<string, ArrayLike<number>>>,
  references: ReadonlyMap<string, NeutralReference>,
): number | undefined {
  const votes = { output: { sum: 0, count: 0 }, input: { sum: 0, count: 0 } };
  for (const [id, probs] of Object.entries(readings)) {
    const reference = references.get(id);
    if (!reference || probs.length !== EMOTIONS.length) continue;
    const vote = reference.features ? votes.input : votes.output;
    vote.sum += probs[NEUTRAL]!;
    vote.count++;
  }
  const { sum, count } = votes.output.count > 0 ? votes.output : votes.input;
  return count > 0 ? sum / count : undefined;
}

/** How many of `n` frames the share takes: at least one when there is any. */
export function relaxedCount(n: number, share = AUTO_NEUTRAL_SHARE): number {
  return n === 0 ? 0 : Math.max(1, Math.round(n * share));
}

/** The indices of the `count` highest scores, highest first (ties: the earlier first). */
export function mostRelaxed(scores: readonly number[], count: number): number[] {
  return scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, count)
    .map((x) => x.i);
}

/** The indices of the most relaxed `share` of frames scored `scores` (at least one), highest first. */
export function relaxedShare(scores: readonly number[], share = AUTO_NEUTRAL_SHARE): number[] {
  return mostRelaxed(scores, relaxedCount(scores.length, share));
}

/** One frame kept by AutoNeutral. */
interface Kept {
  readings: Record<string, number[]>;
  features: Float32Array | undefined;
  score: number;
}

export interface AutoNeutralOptions {
  /** Frames kept: the most recent ones (default 900, ~30-60 s of camera). */
  window?: number;
  /** No baseline before this many frames (default 90, ~3-6 s). */
  minFrames?: number;
  share?: number;
}

/**
 * The live form: a rolling window of one person's recent frames; `baseline()` makes the neutral
 * baseline from the most relaxed share of them, as NeutralCapture makes it from a capture.
 */
export class AutoNeutral {
  private readonly frames: Kept[] = [];
  readonly window: number;
  readonly minFrames: number;
  private readonly share: number;

  constructor(
    private readonly references: ReadonlyMap<string, NeutralReference>,
    o: AutoNeutralOptions = {},
  ) {
    this.window = o.window ?? 900;
    this.minFrames = Math.min(o.minFrames ?? 90, this.window);
    this.share = o.share ?? AUTO_NEUTRAL_SHARE;
  }

  get size(): number {
    return this.frames.length;
  }

  /** One frame of the person: every model's raw probabilities, and the face's features. */
  addFrame(readings: Readonly<Record<string, ArrayLike<number>>>, features?: ArrayLike<number>): void {
    const score = relaxedScore(readings, this.references);
    if (score === undefined) return;
    const kept: Record<string, number[]> = {};
    for (const [id, probs] of Object.entries(readings)) if (this.references.has(id)) kept[id] = Array.from(probs);
    this.frames.push({ readings: kept, features: features ? Float32Array.from(features) : undefined, score });
    if (this.frames.length > this.window) this.frames.shift();
  }

  clear(): void {
    this.frames.length = 0;
  }

  /** The baseline from the most relaxed frames; undefined before minFrames. */
  baseline(now: Date): NeutralBaseline | undefined {
    if (this.frames.length < this.minFrames) return undefined;
    const picked = relaxedShare(
      this.frames.map((f) => f.score),
      this.share,
    );
    const capture = new NeutralCapture(this.references);
    for (const i of picked) capture.addFrame(this.frames[i]!.readings, this.frames[i]!.features);
    return capture.finish(now);
  }
}
