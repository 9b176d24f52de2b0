/**
 * Fake-webcam videos for Chromium (--use-file-for-fake-video-capture): composes face photos onto a
 * gray 640x480 frame inside the browser (which decodes PNG/JPEG/TIFF for us) and writes a Y4M
 * (YUV 4:2:0, gray: chroma at 128). Made at test time; never committed. Node only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { gaussian, mulberry32 } from '../../core/random.ts';

export const WIDTH = 640;
export const HEIGHT = 480;

/** Luma planes (WIDTH x HEIGHT) of each photo centred on mid-gray, scaled to `faceHeight` pixels. */
export async function composeFrames(browser: Browser, photos: string[], faceHeight = 384): Promise<Uint8Array[]> {
  const page = await browser.newPage();
  try {
    const planes: Uint8Array[] = [];
    for (const photo of photos) {
      const data = (await readFile(photo)).toString('base64');
      const mime = photo.endsWith('.png') ? 'image/png' : photo.match(/\.jpe?g$/) ? 'image/jpeg' : 'image/tiff';
      const b64 = await page.evaluate(
        async ({ url, W, H, faceHeight }) => {
          const img = new Image();
          img.src = url;
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = W;
          canvas.height = H;
          const ctx = canvas.getContext('2d')!;
          ctx.fillStyle = 'rgb(128,128,128)';
          ctx.fillRect(0, 0, W, H);
          const w = (img.naturalWidth * faceHeight) / img.naturalHeight;
          ctx.drawImage(img, (W - w) / 2, (H - faceHeight) / 2, w, faceHeight);
          const px = ctx.getImageData(0, 0, W, H).data;
          let s = '';
          for (let i = 0; i < W * H; i++)
            s += String.fromCharCode(Math.round(0.299 * px[i * 4]! + 0.587 * px[i * 4 + 1]! + 0.114 * px[i * 4 + 2]!));
          return btoa(s);
        },
        { url: `data:${mime};base64,${data}`, W: WIDTH, H: HEIGHT, faceHeight },
      );
      planes.push(new Uint8Array(Buffer.from(b64, 'base64')));
    }
    return planes;
  } finally {
    await page.close();
  }
}

/**
 * Writes `frames` (each shown `repeat` times) as a Y4M at `fps`. `noise`: the standard deviation, in
 * gray levels, of seeded Gaussian pixel noise drawn afresh for every frame, as a camera sensor adds.
 */
export async function writeY4m(path: string, frames: Uint8Array[], repeat = 1, fps = 30, noise = 0): Promise<void> {
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, 128);
  const marker = Buffer.from('FRAME\n');
  const parts: Buffer[] = [header];
  const rand = mulberry32(7);
  const noisy = (y: Uint8Array) => Buffer.from(y.map((v) => Math.min(255, Math.max(0, Math.round(v + noise * gaussian(rand))))));
  for (const y of frames) for (let r = 0; r < repeat; r++) parts.push(marker, noise > 0 ? noisy(y) : Buffer.from(y), chroma);
  await writeFile(path, Buffer.concat(parts));
}
