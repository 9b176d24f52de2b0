/** Label order used everywhere in the project (FER2013's own order). */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

export type Emotion = (typeof EMOTIONS)[number];

export const NUM_CLASSES = EMOTIONS.length;

/** FER2013 images are 48x48 gray. */
export const IMAGE_SIZE = 48;
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;

export function emotionName(index: number): Emotion {
  const name = EMOTIONS[index];
  if (name === undefined) throw new RangeError(`label index ${index} is outside 0..${NUM_CLASSES - 1}`);
  return name;
}
