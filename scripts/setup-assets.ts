/**
 * Copies/verifies the browser assets (MediaPipe + tfjs wasm, face_landmarker.task) into public/.
 *
 *   npx tsx scripts/setup-assets.ts              # fatal: exits 1 on failure (start/dev/build)
 *   npx tsx scripts/setup-assets.ts --non-fatal  # prints a warning and exits 0 (postinstall)
 *
 * Environment: FACE_LANDMARKER_PATH=/path/to/face_landmarker.task to use a local copy.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupAssets } from './assets.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nonFatal = process.argv.includes('--non-fatal');
const quiet = process.argv.includes('--quiet');

try {
  await setupAssets(root, { log: quiet ? () => {} : (m) => console.log(`[setup-assets] ${m}`) });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (nonFatal) {
    console.warn(`[setup-assets] WARNING: ${message}`);
    console.warn(
      '[setup-assets] Continuing (--non-fatal). `npm start`, `npm run dev` and `npm run build` will retry and fail until this is fixed.',
    );
    process.exit(0);
  }
  console.error(`[setup-assets] ERROR: ${message}`);
  process.exit(1);
}
