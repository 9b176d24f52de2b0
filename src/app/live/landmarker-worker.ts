/**
 * MediaPipe FaceLandmarker tasks off the page's thread (landmarker-remote.ts is the page side), so
 * the page draws and answers while a frame's landmarks are found. In a module worker MediaPipe's
 * classic loader script cannot be imported, so the fileset asks for its ES module build
 * (`forVisionTasks(folder, true)`: vision_wasm_module_internal.js, copied by setup-assets).
 */
// First: MediaPipe's usage logger must not send from here either.
import '../egress-guard.ts';
import { FaceLandmarker, FilesetResolver, type FaceLandmarkerResult } from '@mediapipe/tasks-vision';
import type { FromLandmarker, ToLandmarker, WireImage } from './landmarker-protocol.ts';

const scope = self as unknown as {
  postMessage(m: FromLandmarker): void;
  onmessage: ((e: MessageEvent<ToLandmarker>) => void) | null;
};
const tasks = new Map<number, FaceLandmarker>();

function unwrap(image: WireImage): TexImageSource {
  return image.kind === 'pixels' ? new ImageData(image.data, image.width, image.height) : image.bitmap;
}

/** The result as plain data (what structured cloning keeps anyway), without MediaPipe's classes. */
function plain(result: FaceLandmarkerResult): FaceLandmarkerResult {
  return {
    faceLandmarks: result.faceLandmarks,
    faceBlendshapes: result.faceBlendshapes,
    facialTransformationMatrixes: result.facialTransformationMatrixes,
  };
}

async function handle(m: ToLandmarker): Promise<FaceLandmarkerResult | undefined> {
  if (m.type === 'create') {
    const fileset = await FilesetResolver.forVisionTasks(m.assets.mediapipeWasm, true);
    // Options as on the page (landmarker.ts, createTask).
    const task = await FaceLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: m.assets.faceLandmarkerTask, delegate: 'CPU' },
      runningMode: m.mode,
      numFaces: m.numFaces,
      outputFaceBlendshapes: true,
      outputFacialTransformationMatrixes: true,
    });
    tasks.set(m.task, task);
    return undefined;
  }
  const task = tasks.get(m.task);
  if (m.type === 'close') {
    tasks.delete(m.task);
    task?.close();
    return undefined;
  }
  if (!task) throw new Error(`landmarker task ${m.task} does not exist (closed or never made)`);
  if (m.type === 'set-options') {
    await task.setOptions(m.options);
    return undefined;
  }
  const image = unwrap(m.image);
  try {
    return plain(m.mode === 'VIDEO' ? task.detectForVideo(image, m.timestampMs) : task.detect(image));
  } finally {
    if (m.image.kind === 'bitmap') m.image.bitmap.close();
  }
}

// One message at a time, in order (a task's timestamps must increase).
let queue = Promise.resolve();
scope.onmessage = (event) => {
  const m = event.data;
  queue = queue.then(async () => {
    try {
      const result = await handle(m);
      scope.postMessage({ type: 'done', seq: m.seq, ...(result ? { result } : {}) });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      scope.postMessage({ type: 'error', seq: m.seq, message: e.message, name: e.name });
    }
  });
};
