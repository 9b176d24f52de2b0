/**
 * Model integrity, the pure checks (src/core/weights-integrity.ts): byte lengths and sha256 recorded
 * in model.json, sizes against the weight specs, finite weights and outputs; every error names the
 * file with the expected and actual value. Saved models and the CLIs: test/integration/model-integrity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  firstNonFiniteWeight,
  nonFiniteOutputMessage,
  parseLayersModelJson,
  verifyWeightFiles,
  type ParsedLayersModelJson,
} from '../../../src/core/weights-integrity.ts';

describe('weights integrity checks (pure)', () => {
  const specs = [
    { name: 'a/kernel', shape: [2, 3], dtype: 'float32' },
    { name: 'a/bias', shape: [3], dtype: 'float32' },
  ];
  const model = (integrity?: ParsedLayersModelJson['integrity']): ParsedLayersModelJson => ({
    modelTopology: {},
    weightSpecs: specs,
    paths: ['weights.bin'],
    ...(integrity ? { integrity } : {}),
  });
  const rec = { path: 'weights.bin', byteLength: 36, sha256: 'a'.repeat(64) };
  const file = (byteLength: number, sha256 = rec.sha256) => [{ path: 'weights.bin', display: 'm/weights.bin', byteLength, sha256 }];

  it('accepts files that match their record and the specs', () => {
    expect(verifyWeightFiles(model([rec]), file(36), 'm/model.json').warnings).toEqual([]);
  });

  it('names the file, expected and actual bytes for a truncated or padded file', () => {
    expect(() => verifyWeightFiles(model([rec]), file(32), 'm/model.json')).toThrow(/^m\/weights\.bin: 32 bytes, expected 36 .*truncated/);
    expect(() => verifyWeightFiles(model([rec]), file(40), 'm/model.json')).toThrow(
      /^m\/weights\.bin: 40 bytes, expected 36 .*extra bytes/,
    );
  });

  it('names the file and both hashes when the sha256 differs', () => {
    expect(() => verifyWeightFiles(model([rec]), file(36, 'b'.repeat(64)), 'm/model.json')).toThrow(
      new RegExp(`^m/weights\\.bin: sha256 ${'b'.repeat(64)}, expected ${'a'.repeat(64)}`),
    );
  });

  it('without a record: warns, and still needs exactly the bytes of the weight specs', () => {
    const { warnings } = verifyWeightFiles(model(), file(36), 'm/model.json');
    expect(warnings.join()).toMatch(/m\/model\.json: no weightsIntegrity recorded.*models:stamp/);
    expect(() => verifyWeightFiles(model(), file(35), 'm/model.json')).toThrow(
      /^m\/weights\.bin: 35 bytes, expected 36 \(the weight specs/,
    );
    expect(() => verifyWeightFiles(model(), file(37), 'm/model.json')).toThrow(/^m\/weights\.bin: 37 bytes, expected 36 .*extra bytes/);
  });

  it('a recorded size that disagrees with the specs is an error too', () => {
    expect(() => verifyWeightFiles(model([{ ...rec, byteLength: 40 }]), file(40), 'm/model.json')).toThrow(
      /40 bytes, expected 36 \(the weight specs/,
    );
  });

  it('warns when no hash function was available, after checking the length', () => {
    const files = [{ path: 'weights.bin', display: 'm/weights.bin', byteLength: 36 }];
    expect(verifyWeightFiles(model([rec]), files, 'm/model.json').warnings.join()).toMatch(/sha256 not checked/);
  });

  it('rejects a malformed record, naming model.json', () => {
    const json = {
      modelTopology: {},
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
      weightsIntegrity: [{ path: 'weights.bin', byteLength: 36, sha256: 'xyz' }],
    };
    expect(() => parseLayersModelJson(json, 'm/model.json')).toThrow(/^m\/model\.json: weightsIntegrity\[0\] must be/);
    expect(() => parseLayersModelJson({ modelTopology: {} }, 'm/model.json')).toThrow(/^m\/model\.json: "weightsManifest" is missing/);
  });

  it('finds the first non-finite weight and non-finite outputs', () => {
    const data = new Float32Array(9).fill(1);
    expect(firstNonFiniteWeight(specs, new Uint8Array(data.buffer), 'm')).toBeUndefined();
    data[7] = NaN;
    expect(firstNonFiniteWeight(specs, new Uint8Array(data.buffer), 'm')).toEqual({ name: 'a/bias', index: 1, value: NaN });
    expect(nonFiniteOutputMessage([0.5, 0.5], 'x')).toBeUndefined();
    expect(nonFiniteOutputMessage([0.5, Infinity], 'models/x')).toMatch(/^models\/x: a warm-up inference .* Infinity/);
  });
});
