/** How predictions are shown: a colour per emotion, percentages, and whether models agree (pure). */
import { EMOTIONS, type Emotion } from '../core/labels.ts';

/** One fixed, distinguishable colour per emotion, used by every view. */
export const EMOTION_COLORS: Record<Emotion, string> = {
  angry: '#e5484d',
  disgust: '#8db600',
  fear: '#8e4ec6',
  happy: '#f5b400',
  sad: '#3e63dd',
  surprise: '#12a594',
  neutral: '#8b8d98',
};

export function emotionColor(index: number): string {
  const name = EMOTIONS[index];
  return name ? EMOTION_COLORS[name] : '#ffffff';
}

export function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

export type Agreement = { kind: 'single' } | { kind: 'agree'; label: number } | { kind: 'disagree'; labels: number[] };

/** Agreement of the models' top labels on one face. */
export function agreement(tops: readonly number[]): Agreement {
  if (tops.length < 2) return { kind: 'single' };
  const distinct = [...new Set(tops)];
  return distinct.length === 1 ? { kind: 'agree', label: distinct[0]! } : { kind: 'disagree', labels: distinct };
}

export function ms(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(1)} ms`;
}
