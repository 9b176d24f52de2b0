/**
 * A WebM (VP8, Chromium's MediaRecorder default) recorded in Chromium from a canvas showing photos
 * in turn on gray, each for its number of seconds, moving a little: a stand-in for a short real
 * video, made at test time from ../shared photos (never committed).
 */
import { readFile } from 'node:fs/promises';
import { launchChromium } from '../../src/train/browser/browser.ts';

export async function recordWebm(shots: readonly { photo: string; seconds: number }[]): Promise<Buffer> {
  const urls = await Promise.all(shots.map(async (s) => `data:image/png;base64,${(await readFile(s.photo)).toString('base64')}`));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const b64 = await page.evaluate(
      async (shots) => {
        const images = await Promise.all(
          shots.map(async ({ url }) => {
            const img = new Image();
            img.src = url;
            await img.decode();
            return img;
          }),
        );
        const canvas = document.createElement('canvas');
        canvas.width = 320;
        canvas.height = 240;
        const ctx = canvas.getContext('2d')!;
        const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm' });
        const chunks: Blob[] = [];
        recorder.ondataavailable = (e) => chunks.push(e.data);
        const stopped = new Promise((r) => (recorder.onstop = r));
        recorder.start();
        const start = performance.now();
        let end = 0;
        for (const [k, shot] of shots.entries()) {
          end += shot.seconds * 1000;
          for (let i = 0; performance.now() - start < end; i++) {
            ctx.fillStyle = '#808080';
            ctx.fillRect(0, 0, 320, 240);
            ctx.drawImage(images[k]!, 60 + (i % 3), 20, 200, 200);
            await new Promise((r) => setTimeout(r, 66));
          }
        }
        recorder.stop();
        await stopped;
        const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
        return btoa(s);
      },
      shots.map((s, i) => ({ url: urls[i]!, seconds: s.seconds })),
    );
    return Buffer.from(b64, 'base64');
  } finally {
    await browser.close();
  }
}
