/**
 * Folder names a user may give their labelled photo folders, mapped to the label indices of
 * src/core/labels.ts (pure; no DOM, no Node APIs).
 *
 * Matching ignores case and surrounding white space: `Happiness/`, `HAPPY/` and ` joy ` all mean
 * happy. Anything else (e.g. `unknown/`, `misc/`) is not a label.
 */
import { EMOTIONS, type Emotion } from './labels.ts';

/** Accepted folder names per emotion, lower case; the canonical name comes first. */
export const LABEL_ALIASES: Readonly<Record<Emotion, readonly string[]>> = {
  angry: ['angry', 'anger'],
  disgust: ['disgust', 'disgusted'],
  fear: ['fear', 'fearful', 'afraid', 'scared'],
  happy: ['happy', 'happiness', 'joy'],
  sad: ['sad', 'sadness'],
  surprise: ['surprise', 'surprised'],
  neutral: ['neutral', 'calm'],
};

const BY_ALIAS: ReadonlyMap<string, number> = new Map(
  EMOTIONS.flatMap((emotion, index) => LABEL_ALIASES[emotion].map((alias) => [alias, index] as const)),
);

/** Label index (0..6, EMOTIONS order) for a folder name or alias, case-insensitive; undefined otherwise. */
export function labelFromFolderName(name: string): number | undefined {
  return BY_ALIAS.get(name.trim().toLowerCase());
}
