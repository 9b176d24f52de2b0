/**
 * Usage errors: each CLI is spawned once to show it turns a usage error into exit 2, with the
 * message on stderr, before reading data or starting a browser or TensorFlow.js. The option checks
 * themselves run in-process in test/unit/train/cli-args.test.ts.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    // node --import tsx: npx adds half a second per process.
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** At most `n` processes at a time (the CLIs are spawned on shared cores). */
async function runAll(cases: [string, string[]][], n = 3): Promise<Ran[]> {
  const out: Ran[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await run(...cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

/** [script, args, message the stderr must match] — each must exit 2. */
const USAGE_ERRORS: [string, string[], RegExp][] = [
  ['src/train/commands/train.ts', ['cnn', '--epochs', '-1'], /--epochs must be an integer >= 1, got "-1"/],
  ['src/train/commands/train.ts', ['cnn', '--batch-size', '2.5'], /--batch-size must be an integer >= 1, got "2\.5"/],
  ['src/train/commands/train.ts', ['train'], /unknown command "train"; the commands are cnn, svm-au, svm-pixels, finetune/],
  ['src/train/commands/train.ts', ['finetune', '--data', 'x', '--lr', '0'], /--lr must be a number in \(0, 1\], got "0"/],
  ['src/train/commands/train.ts', ['svm-pixels', '--seed', '1.5'], /--seed must be an integer >= 0, got "1\.5"/],
  ['src/train/commands/evaluate.ts', ['--modle', 'x'], /unknown option --modle; the options are --model, --data, --no-tta/],
  ['src/train/commands/report.ts', ['--model', 'x'], /unknown option --model; the options are --data, --models/],
  ['src/train/commands/evaluate.ts', ['--faces', 'x', '--subject', '^(..)'], /--subject .*add --neutral-baseline, or leave --subject out/],
  [
    'src/train/commands/evaluate.ts',
    ['--faces', 'x', '--neutral-baseline', '--subject', '^(..'],
    /--subject "\^\(\.\." is not a regular expression/,
  ],
  ['src/train/commands/extract.ts', ['--limit', '2.5', 'dir'], /--limit must be an integer >= 1, got "2\.5"/],
  ['src/train/commands/predict.ts', ['--pages', '-1', 'x.png'], /--pages must be an integer in \[1, 16\], got "-1"/],
  ['src/train/commands/bench-train.ts', ['--steps', '2.5'], /--steps must be an integer >= 1, got "2\.5"/],
  ['src/train/commands/bench-svm.ts', ['--rows', '-5'], /--rows must be an integer >= 1, got "-5"/],
  ['src/train/commands/bench-live.ts', ['--where', 'page,gpu'], /--where must be split, page, worker, worker-plain or worker-fresh/],
  ['src/train/commands/bench-live.ts', ['--camera-noise', '-1'], /--camera-noise/],
  ['src/train/commands/bench-live.ts', ['--reuse', '99'], /--reuse/],
  ['scripts/probe-embeddings.ts', [], /--faces DIR is required/],
  ['scripts/probe-embeddings.ts', ['--faces', 'no-such-folder'], /--faces no-such-folder: not a folder/],
  ['scripts/profile-areas.ts', ['only-one.cpuprofile'], /expected a profile file and a build folder/],
  ['scripts/profile-areas.ts', ['missing.cpuprofile', 'missing-dir'], /missing\.cpuprofile does not exist/],
  ['scripts/probe-embeddings.ts', ['--faces', 'x', '--l2', '0'], /--l2 must be a positive number/],
];

describe('usage errors exit 2 in every CLI', () => {
  it('each bad command line: exit 2, the message on stderr, nothing run', async () => {
    const results = await runAll(USAGE_ERRORS.map(([script, args]) => [script, args]));
    results.forEach((r, i) => {
      const [script, args, message] = USAGE_ERRORS[i]!;
      const what = `${script} ${args.join(' ')}: ${r.stderr}`;
      expect(r.status, what).toBe(2);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).not.toMatch(/ambiguous|at .*\.ts:\d+/);
    });
  });

  it('npm run train -- --help / -h / cnn --help print the usage (with --fresh) and exit 0', async () => {
    const results = await runAll(
      [['--help'], ['-h'], ['cnn', '--epochs', '1.5', '--help']].map((args) => ['src/train/commands/train.ts', args]),
    );
    for (const r of results) {
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^usage: npm run train -- <cnn\|svm-au\|svm-pixels\|finetune\|fusion\|neutral-reference\|refit-head>/);
      expect(r.stdout).toMatch(/--fresh +start over even if a checkpoint exists \(it is replaced\)/);
      expect(r.stdout).not.toMatch(/unknown command/);
    }
  });
});
