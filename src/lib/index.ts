/**
 * Emotion Lens as a library: on-device face and emotion recognition in the browser.
 *
 *   const lens = createEmotionLens({ modelsUrl: '/models/', maxFaces: 2 });
 *   await lens.load();
 *   const { faces } = await lens.detect(video);
 *   faces[0]?.consensus?.label; // 'happy'
 *
 * Everything is fetched from the page's own origin (see EmotionLensConfig for the files), and
 * importing the library installs Emotion Lens's egress guard on the page: fetch, XHR, beacons,
 * WebSockets and EventSource to other origins are refused (MediaPipe's usage logger included).
 */
export { createEmotionLens, consensusOf, type EmotionLens } from './emotion-lens.ts';
export {
  ConfigError,
  DEFAULT_CONFIG,
  MAX_FACES_LIMIT,
  MAX_SMOOTHING_MS,
  validateConfig,
  type Backend,
  type EmotionLensConfig,
  type EmotionLensOptions,
} from './config.ts';
export { EMOTIONS } from '../core/labels.ts';
export type { NeutralBaseline } from '../core/neutral-baseline.ts';
export type * from './result.ts';
