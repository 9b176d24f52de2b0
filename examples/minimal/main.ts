/**
 * The library on a webcam or a photo: boxes and each face's consensus label drawn on a canvas,
 * every model's reading listed below. Run it with `npm run example`.
 */
import { createEmotionLens, type DetectResult, type DetectSource } from 'emotion-lens';

const status = document.getElementById('status')!;
const cameraButton = document.getElementById('camera') as HTMLButtonElement;
const fileInput = document.getElementById('file') as HTMLInputElement;
const canvas = document.getElementById('view') as HTMLCanvasElement;
const list = document.getElementById('faces')!;
const ctx = canvas.getContext('2d')!;

// Every URL below is the default (the files on this page's origin); shown for the reader.
const lens = createEmotionLens({
  modelsUrl: '/models/',
  mediapipeWasmUrl: '/mediapipe/wasm',
  faceLandmarkerUrl: '/mediapipe/face_landmarker.task',
  maxFaces: 2,
});

function say(text: string, state: string): void {
  status.textContent = text;
  status.dataset.status = state;
}

/** Draws `source` and the faces on the canvas, and lists every model's reading. */
function show(source: CanvasImageSource, result: DetectResult): void {
  canvas.width = result.width;
  canvas.height = result.height;
  ctx.drawImage(source, 0, 0);
  ctx.lineWidth = Math.max(2, result.width / 300);
  ctx.font = `${Math.max(14, result.width / 40)}px sans-serif`;
  list.replaceChildren();
  result.faces.forEach((face, i) => {
    const { x, y, width, height } = face.box;
    const label = face.consensus ? `${face.consensus.label}${face.consensus.agree ? '' : ' (models disagree)'}` : 'face';
    ctx.strokeStyle = ctx.fillStyle = '#f5b400';
    ctx.strokeRect(x, y, width, height);
    ctx.fillText(`${i + 1}: ${label}`, x, Math.max(16, y - 6));
    const item = document.createElement('li');
    item.dataset.face = String(i);
    if (face.consensus) item.dataset.label = face.consensus.label;
    item.textContent =
      `Face ${i + 1}: ${label}. ` + face.models.map((m) => `${m.name}: ${m.label} ${Math.round(m.score * 100)}%`).join('; ');
    list.append(item);
  });
  say(`${result.faces.length} face(s) in ${result.times.total.toFixed(0)} ms`, 'done');
}

async function detectOnce(source: DetectSource & CanvasImageSource): Promise<void> {
  show(source, await lens.detect(source));
}

fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  const image = new Image();
  image.src = URL.createObjectURL(file);
  try {
    await image.decode();
    lens.reset();
    await detectOnce(image);
  } catch (error) {
    say(`Could not read ${file.name}: ${(error as Error).message}`, 'error');
  } finally {
    URL.revokeObjectURL(image.src);
  }
});

cameraButton.addEventListener('click', async () => {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  await video.play();
  lens.reset();
  const loop = async (): Promise<void> => {
    await detectOnce(video);
    video.requestVideoFrameCallback(() => void loop());
  };
  void loop();
});

lens.load({ onProgress: (step) => say(step, 'loading') }).then(
  ({ backend, models }) => {
    const ready = models.filter((m) => m.status.state === 'ready').map((m) => m.name);
    say(`Ready on ${backend?.active ?? 'no backend'} with ${ready.length} model(s): ${ready.join(', ') || 'none'}`, 'ready');
    cameraButton.disabled = false;
  },
  (error: unknown) => say(`Could not load: ${(error as Error).message}`, 'error'),
);
