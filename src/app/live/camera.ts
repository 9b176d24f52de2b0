/** Webcam access: list cameras, open one, and turn getUserMedia failures into user-facing states. */

export type CameraProblem = 'denied' | 'none' | 'busy' | 'insecure' | 'other';

export class CameraError extends Error {
  constructor(
    readonly problem: CameraProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Maps a getUserMedia DOMException name to a state (names from the Media Capture spec). */
export function classifyCameraError(error: unknown): CameraError {
  if (error instanceof CameraError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return new CameraError('denied', message);
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new CameraError('none', message);
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new CameraError('busy', message);
    case 'SecurityError':
      return new CameraError('insecure', message);
    default:
      return new CameraError('other', message);
  }
}

export interface CameraInfo {
  deviceId: string;
  label: string;
}

/** Video inputs; labels are empty until the user has granted camera access once. */
export async function listCameras(): Promise<CameraInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === 'videoinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}

/** Opens a camera at 640x480 by default. Throws CameraError. */
export async function openCamera(deviceId?: string, width = 640, height = 480): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError(window.isSecureContext ? 'none' : 'insecure', 'this browser offers no camera access here');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
        width: { ideal: width },
        height: { ideal: height },
      },
    });
  } catch (error) {
    throw classifyCameraError(error);
  }
}

export function stopStream(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** What to tell the user for each problem. */
export function cameraMessage(problem: CameraProblem): { title: string; action: string } {
  switch (problem) {
    case 'denied':
      return {
        title: 'Camera permission denied.',
        action:
          'Allow camera access for this page in the browser (the camera icon in the address bar), then press Start again. Or open an image or video file instead.',
      };
    case 'none':
      return { title: 'No camera found.', action: 'Connect a camera and press Start, or open an image or video file instead.' };
    case 'busy':
      return { title: 'The camera is busy.', action: 'Another application or tab is using it: close that, then press Start again.' };
    case 'insecure':
      return { title: 'Camera access needs a secure page.', action: 'Open the app at http://127.0.0.1 or over https.' };
    default:
      return { title: 'The camera could not be started.', action: 'Try another camera, or open an image or video file instead.' };
  }
}
