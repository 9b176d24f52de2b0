/**
 * npm run predict -- ... --neutral PHOTO with the committed models, in headless Chromium: the
 * person's neutral face read from a photo moves the general models (the batch page applies the
 * offsets, or for an SVM on the AU-style features the feature shift), and the personal models are
 * left as they are; with --neutral auto, the most relaxed of the photos being read is that face.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/contracts/index.ts';
import { applyNeutralOffsets, featureShift, logProbs, neutralOffsets, shiftFeatures } from '../../src/core/neutral-baseline.ts';
import { parseSvmInput, predictSvm, svmInputOf } from '../../src/core/svm/index.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { predictImages } from '../../src/train/predict/predict.ts';
import { readSvmModel } from '../../src/train/svm/export.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const NEUTRAL = join(JAFFE_DIR, 'neutral/KA.NE2.27.png');
const SAD = join(JAFFE_DIR, 'sad/KA.SA1.33.png');
const HAPPY = join(JAFFE_DIR, 'happy/KA.HA3.31.png');
const SURPRISE = join(JAFFE_DIR, 'surprise/KA.SU1.36.png');
const skip = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(NEUTRAL) || missingShared(SAD) || undefined;

type Line = { file: string; faces: { models: Record<string, { label: string; probs: number[] }> }[] };
const predict = (...args: string[]): { lines: Line[]; stderr: string; status: number | null } => {
  const r = spawnSync('npx', ['tsx', 'src/train/commands/predict.ts', '--json', ...args], { encoding: 'utf8', timeout: 180_000 });
  return {
    lines: r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line),
    stderr: r.stderr,
    status: r.status,
  };
};

describe.skipIf(skip !== undefined)(`predict --neutral${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it("reads a face against the person's neutral photo: that photo itself reads neutral for every moved model", { timeout: 300_000 }, () => {
    const plain = predict(NEUTRAL, SAD);
    const moved = predict(NEUTRAL, SAD, '--neutral', NEUTRAL);
    expect(plain.status).toBe(0);
    expect(moved.status).toBe(0);
    const names = /neutral face from 1 of 1 photo\(s\): (.*) read against it; as they are \(no neutral reference\): (.*)/.exec(
      moved.stderr,
    );
    expect(names, moved.stderr).not.toBeNull();
    const movedIds = names![1]!.split(', ');
    const personal = names![2]!.split(', ');
    expect(movedIds).toContain('fusion-cnns-au');
    expect(personal).toContain('fer-cnn-finetuned');
    const [neutralPlain, sadPlain] = plain.lines.map((l) => l.faces[0]!.models);
    const [neutralMoved, sadMoved] = moved.lines.map((l) => l.faces[0]!.models);
    // The neutral photo moved onto FER2013's neutral reference, whose top class is neutral.
    for (const id of movedIds) expect(neutralMoved![id]!.label, id).toBe('neutral');
    // Personal models: unchanged.
    for (const id of personal) expect(sadMoved![id]!.probs, id).toEqual(sadPlain![id]!.probs);
    // The sad photo: each moved model's reading is its plain one moved by (reference - the neutral
    // photo's log-probabilities), the formula of src/core/neutral-baseline.ts (the output is
    // rounded to 4 decimals, hence the tolerance).
    const manifest = parseManifest(JSON.parse(readFileSync(join(ROOT, 'models/index.json'), 'utf8')));
    const atInput = movedIds.filter((id) => manifest.models.find((m) => m.id === id)!.neutral!.features);
    expect(atInput).toContain('svm-au');
    for (const id of movedIds.filter((m) => !atInput.includes(m))) {
      const reference = manifest.models.find((m) => m.id === id)!.neutral!.logProbs;
      const expected = applyNeutralOffsets(sadPlain![id]!.probs, neutralOffsets(reference, logProbs(neutralPlain![id]!.probs)));
      sadMoved![id]!.probs.forEach((p, k) => expect(Math.abs(p - expected[k]!), `${id}[${k}]`).toBeLessThan(0.01));
      expect(sadMoved![id]!.probs, id).not.toEqual(sadPlain![id]!.probs);
    }
    expect(neutralPlain).toBeDefined();
  });

  it(
    '--neutral auto: the most relaxed of the photos given (one of three: the neutral one) is the neutral face, exactly as if given with --neutral',
    { timeout: 300_000 },
    () => {
      const models = ['--models', 'fer-cnn,svm-au,fer-cnn-finetuned'];
      const auto = predict(HAPPY, NEUTRAL, SAD, '--neutral', 'auto', ...models);
      expect(auto.status, auto.stderr).toBe(0);
      expect(auto.stderr).toMatch(
        /neutral face from the 1 most relaxed of the 3 photo\(s\) with a face \(([^)]*)\): fer-cnn, svm-au read against it/,
      );
      expect(/with a face \(([^)]*)\)/.exec(auto.stderr)![1]).toBe(NEUTRAL);
      const given = predict(HAPPY, NEUTRAL, SAD, '--neutral', NEUTRAL, ...models);
      expect(given.status, given.stderr).toBe(0);
      const byFile = (lines: Line[]) => Object.fromEntries(lines.map((l) => [l.file, l.faces[0]!.models]));
      expect(byFile(auto.lines)).toEqual(byFile(given.lines));
      expect(Object.keys(byFile(auto.lines)).sort()).toEqual([HAPPY, NEUTRAL, SAD].sort());
    },
  );

  it('says so when the neutral face given reads as a smile or surprise, and still reads against it', { timeout: 300_000 }, () => {
    const r = predict(SAD, '--neutral', SURPRISE, '--models', 'fer-cnn');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /note: that face reads as surprise \(\d+%\), and every face is read against it: give a photo of their relaxed face/,
    );
    const relaxed = predict(SAD, '--neutral', NEUTRAL, '--models', 'fer-cnn');
    expect(relaxed.stderr).not.toMatch(/note: that face reads as/);
  });

  it('--neutral auto with no photo or video to learn from is a usage error that says what to give', { timeout: 60_000 }, () => {
    const r = predict(join(ROOT, 'no-such-folder-for-auto'), '--neutral', 'auto');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--neutral auto learns the neutral face from the photos or videos given, and none was given/);
  });

  it(
    "moves an SVM on the AU-style features at its input: the sad photo read on its features + reference - the neutral photo's",
    { timeout: 300_000 },
    async () => {
      const moved = predict(SAD, '--neutral', NEUTRAL, '--models', 'svm-au');
      expect(moved.status, moved.stderr).toBe(0);
      const [neutralFace, sadFace] = (await predictImages([NEUTRAL, SAD], { models: ['svm-au'], withFeatures: true })).map(
        (im) => im.faces[0]!,
      );
      const entry = parseManifest(JSON.parse(readFileSync(join(ROOT, 'models/index.json'), 'utf8'))).models.find((m) => m.id === 'svm-au')!;
      const model = await readSvmModel(join(ROOT, 'models', entry.path, '..'));
      const shifted = shiftFeatures(sadFace!.features!, featureShift(entry.neutral!.features!, neutralFace!.features!));
      const expected = predictSvm(model, svmInputOf(parseSvmInput(model.input), [], shifted)).probs;
      const got = moved.lines[0]!.faces[0]!.models['svm-au']!.probs;
      got.forEach((p, k) => expect(Math.abs(p - expected[k]!), `svm-au[${k}]`).toBeLessThan(0.01));
      expect(got).not.toEqual(sadFace!.models['svm-au']!.probs);
    },
  );
});
