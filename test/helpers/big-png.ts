/**
 * A solid gray PNG of any size, streamed row by row through zlib so a 20000x20000 image (400 MB of
 * pixels) costs a few seconds and a few hundred kilobytes, not 400 MB of memory (Node only).
 */
import { createDeflate } from 'node:zlib';
import { pngChunk as chunk } from './png.ts';

/** An 8-bit gray PNG, `width` x `height`, every pixel `value`. */
export async function solidGrayPng(width: number, height: number, value = 128): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  const row = Buffer.alloc(width + 1, value);
  row[0] = 0; // filter: none
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise<void>((ok, fail) => {
    deflate.on('end', ok);
    deflate.on('error', fail);
  });
  for (let y = 0; y < height; y++) {
    // Respect back-pressure so the rows are not all buffered at once.
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', new Uint8Array()),
  ]);
}
