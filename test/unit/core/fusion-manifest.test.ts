/** Fusion entries of models/index.json: parseManifest (the one validator) and the JSON Schema agree. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cnnInput, parseManifest, serializeManifest } from '../../../src/core/contracts/index.ts';
import { checkFusionEntry } from '../../../src/app/live/fusion-runner.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../../src/core/features/index.ts';
import { validate } from '../../helpers/json-schema.ts';
import { ROOT } from '../../helpers/shared-data.ts';

const schema = JSON.parse(readFileSync(join(ROOT, 'models/index.schema.json'), 'utf8')) as Record<string, unknown>;
const cnn = { id: 'fer-cnn', name: 'CNN', kind: 'cnn', path: 'fer-cnn/model.json', input: cnnInput({ size: 48, tta: 'hflip-mean' }) };
const svm = {
  id: 'svm-au',
  name: 'SVM',
  kind: 'svm',
  path: 'svm-au/model.json',
  input: { type: 'au-features', featureVersion: 1, dim: 168 },
};
const fusion = {
  id: 'fusion-fer-cnn',
  name: 'Fusion',
  kind: 'fusion',
  path: 'fusion-fer-cnn/model.json',
  report: 'fusion-fer-cnn/report.json',
  members: ['fer-cnn'],
  input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT },
};

const parse = (...models: unknown[]) => parseManifest({ models }, 'models/index.json');

describe('fusion entries in models/index.json', () => {
  it('a fusion entry naming a CNN of the list parses, in either order, and passes the schema', () => {
    for (const models of [
      [cnn, fusion],
      [fusion, cnn, svm],
    ]) {
      const m = parseManifest({ models });
      const entry = m.models.find((e) => e.id === 'fusion-fer-cnn')!;
      expect(entry).toEqual(fusion);
      expect(validate(schema, { models })).toEqual([]);
      // Written back unchanged (the writers' serializer keeps members in place).
      expect(JSON.parse(serializeManifest(m)).models).toEqual(JSON.parse(JSON.stringify(models)));
    }
  });

  it('names an unknown member, a member that is no CNN, and the fusion model itself', () => {
    expect(() => parse(svm, { ...fusion, members: ['fer-cnn'] })).toThrow(
      /models\/index\.json: models\[1\] \(fusion-fer-cnn\)\.members\[0\]: no model "fer-cnn" in this list \(its CNNs: none\)/,
    );
    expect(() => parse(cnn, { ...fusion, members: ['fer-cnn', 'fer-cnnn'] })).toThrow(
      /members\[1\]: no model "fer-cnnn" in this list \(its CNNs: "fer-cnn"\); add that CNN's entry or fix the id/,
    );
    expect(() => parse(cnn, svm, { ...fusion, members: ['svm-au'] })).toThrow(
      /models\[2\] \(fusion-fer-cnn\)\.members\[0\]: "svm-au" \(models\[1\]\) is a svm model; a fusion model's members must be CNNs/,
    );
    const second = { ...fusion, id: 'fusion-2', members: ['fusion-fer-cnn'] };
    expect(() => parse(cnn, fusion, second)).toThrow(/"fusion-fer-cnn" \(models\[1\]\) is a fusion model/);
    expect(() => parse(cnn, { ...fusion, members: ['fusion-fer-cnn'] })).toThrow(/members\[0\] names the fusion model itself/);
  });

  it('checks the members list and the input block', () => {
    const { members: _m, ...noMembers } = fusion;
    expect(() => parse(cnn, noMembers)).toThrow(/\(fusion-fer-cnn\)\.members must be a non-empty list of the ids of the CNN entries/);
    expect(() => parse(cnn, { ...fusion, members: [] })).toThrow(/members must be a non-empty list/);
    expect(() => parse(cnn, { ...fusion, members: ['fer-cnn', 'fer-cnn'] })).toThrow(/members lists "fer-cnn" twice/);
    expect(() => parse(cnn, { ...fusion, members: [3] })).toThrow(/members\[0\] must be a model id/);
    expect(() => parse(cnn, { ...fusion, input: { type: 'pixels' } })).toThrow(
      /\(fusion-fer-cnn\)\.input must be \{"type": "au-features", "featureVersion": N, "dim": N\}/,
    );
    expect(() => parse(cnn, { ...fusion, input: { type: 'au-features' } })).toThrow(
      /input\.featureVersion must be the integer feature version/,
    );
    expect(() => parse(cnn, { ...fusion, input: { ...fusion.input, dim: 0 } })).toThrow(/input\.dim must be a positive integer/);
    expect(() => parse(cnn, { ...fusion, input: { ...fusion.input, hog: {} } })).toThrow(/input has an unknown field "hog"/);
    // Only fusion entries have members.
    expect(() => parse({ ...cnn, members: ['x'] })).toThrow(/\(fer-cnn\)\.members is only for "fusion" entries/);
  });

  it('the schema refuses what the parser refuses on its own (no members, a bad input, members on a CNN)', () => {
    const { members: _m, ...noMembers } = fusion;
    for (const bad of [noMembers, { ...fusion, members: [] }, { ...fusion, input: { type: 'pixels' } }, { ...cnn, members: ['x'] }]) {
      expect(validate(schema, { models: [cnn, bad] }).length, JSON.stringify(bad)).toBeGreaterThan(0);
    }
  });

  it('the app refuses another feature version or count, saying to retrain', () => {
    const [, entry] = parse(cnn, fusion).models;
    expect(checkFusionEntry(entry!)).toBeUndefined();
    const [, old] = parse(cnn, { ...fusion, input: { ...fusion.input, featureVersion: FEATURE_VERSION + 1 } }).models;
    expect(checkFusionEntry(old!)).toMatch(
      new RegExp(
        `trained on AU feature version ${FEATURE_VERSION + 1}, the app computes version ${FEATURE_VERSION}: retrain it \\(npm run train -- fusion --members fer-cnn\\)`,
      ),
    );
    const [, wide] = parse(cnn, { ...fusion, input: { ...fusion.input, dim: FEATURE_COUNT + 1 } }).models;
    expect(checkFusionEntry(wide!)).toBe(`expects ${FEATURE_COUNT + 1} features, the app computes ${FEATURE_COUNT}`);
    expect(checkFusionEntry(parse(cnn).models[0]!)).toMatch(/CNN models are not fusion models/);
  });
});
