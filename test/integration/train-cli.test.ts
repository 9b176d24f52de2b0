/** npm run train -- cnn: the first line of output names the backend and the fast kernels (no data needed). */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) =>
  spawnSync('npx', ['tsx', 'src/train/commands/train.ts', 'cnn', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('train CLI', () => {
  it('uses the fast path by default and says so in its first line; --reference-kernels says so too', () => {
    // A missing data file stops the run right after that line, with an error naming the file.
    const fast = run('--data', '/nonexistent/fer2013.csv', '--out', '/tmp/emotion-lens-train-cli-test');
    expect(fast.status).toBe(1);
    const first = fast.stdout.split('\n')[0]!;
    // tfjs-node is optional; without it (as in CI) the default is wasm with our kernels.
    if (first.startsWith('backend: wasm')) expect(first).toMatch(/^backend: wasm .* with fast kernels \(our WebAssembly SIMD convolutions/);
    else expect(first).toMatch(/^backend: tensorflow/);
    expect(fast.stderr).toMatch(/FER2013 data file not found: \/nonexistent\/fer2013\.csv/);
    const reference = run(
      '--data',
      '/nonexistent/fer2013.csv',
      '--out',
      '/tmp/emotion-lens-train-cli-test',
      '--backend',
      'wasm',
      '--reference-kernels',
    );
    expect(reference.stdout.split('\n')[0]).toMatch(/^backend: wasm .* with reference kernels/);
  });

  it('refit-head refuses what it cannot refit before reading any data, naming the option (exit 2)', () => {
    const refit = (...args: string[]) =>
      spawnSync('npx', ['tsx', 'src/train/commands/train.ts', 'refit-head', ...args], { encoding: 'utf8', timeout: 60_000 });
    const none = refit('--out', '/tmp/emotion-lens-refit-cli-test');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--model is required/);
    const svm = refit('--model', 'models/svm-au', '--out', '/tmp/emotion-lens-refit-cli-test');
    expect(svm.status).toBe(2);
    expect(svm.stderr).toMatch(/--model .*models\/svm-au: its report says a svm model; refit-head refits the last layer of a CNN/);
    const folder = refit('--model', 'models/fer-cnn', '--out', 'models');
    expect(folder.status).toBe(2);
    expect(folder.stderr).toMatch(/is not a model folder/);
  });
});
