import { describe, expect, it } from 'vitest';
import {
  csvField,
  parseCsv,
  parseRecordingCsv,
  parseRecordingJson,
  Recording,
  RECORDING_COLUMNS,
  type RecordingRow,
} from '../../../src/app/live/recording.ts';
import type { FrameResult } from '../../../src/app/live/types.ts';

const ZERO_TIMES = {} as FrameResult['times'];

/** A frame with the given faces (track ids), each read by every model; probabilities vary per frame, face and model. */
function frame(trackIds: number[], models: string[], seed: number): FrameResult {
  return {
    width: 640,
    height: 480,
    times: ZERO_TIMES,
    faces: trackIds.map((trackId, f) => ({
      trackId,
      box: { x: 10, y: 10, width: 100, height: 100 },
      readings: models.map((modelId, m) => {
        const raw = Array.from({ length: 7 }, (_, k) => 1 + ((seed * 7 + f * 3 + m * 5 + k * 11) % 13));
        const sum = raw.reduce((a, b) => a + b, 0);
        const probs = raw.map((v) => v / sum);
        return { modelId, probs, top: probs.indexOf(Math.max(...probs)) };
      }),
    })),
  };
}

function clock(step = 33.3) {
  let t = 1000;
  return () => (t += step);
}

function expectRowsClose(actual: RecordingRow[], expected: RecordingRow[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i]!;
    expect({ ...row, probs: [] }).toEqual({ ...want, probs: [] });
    row.probs.forEach((p, k) => expect(p).toBeCloseTo(want.probs[k]!, 5));
  });
}

const AWKWARD = ['plain', 'has,comma', 'has "quotes"', 'line\nbreak', 'crlf\r\nand, "all"'];

describe('Recording', () => {
  it('records one row per face, model and frame, with t_ms, face, model, label and the probabilities', () => {
    const rec = new Recording({ now: clock() });
    const models = ['cnn', 'svm', 'seed'];
    for (let i = 0; i < 5; i++) expect(rec.add(frame([3, 8], models, i))).toBe(true);
    expect(rec.rows).toBe(2 * 3 * 5);
    expect(rec.frames).toBe(5);
    const rows = [...rec.entries()];
    // Grouped by frame: every frame has every face x model, at one time.
    const byTime = new Map<number, RecordingRow[]>();
    for (const r of rows) byTime.set(r.tMs, [...(byTime.get(r.tMs) ?? []), r]);
    expect(byTime.size).toBe(5);
    for (const group of byTime.values())
      expect(group.map((r) => `${r.face}/${r.model}`).sort()).toEqual(['3/cnn', '3/seed', '3/svm', '8/cnn', '8/seed', '8/svm']);
    const first = frame([3, 8], models, 0).faces[1]!.readings[2]!;
    expect(rows[5]!.face).toBe(8);
    expect(rows[5]!.model).toBe('seed');
    expect(rows[5]!.label).toBe(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'][first.top]);
    rows[5]!.probs.forEach((p, k) => expect(p).toBeCloseTo(first.probs[k]!, 6));
    for (const r of rows) expect(r.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(rows[0]!.tMs).toBeGreaterThan(0);
    expect(rows.at(-1)!.tMs).toBeGreaterThan(rows[0]!.tMs);
  });

  it('adds nothing for frames without faces or readings, and nothing after stop', () => {
    const rec = new Recording({ now: clock() });
    expect(rec.add(frame([], ['a'], 0))).toBe(true);
    expect(rec.add(frame([1], [], 0))).toBe(true);
    expect(rec.rows).toBe(0);
    expect(rec.add(frame([1], ['a'], 1))).toBe(true);
    rec.stop();
    expect(rec.recording).toBe(false);
    expect(rec.add(frame([1], ['a'], 2))).toBe(false);
    expect(rec.rows).toBe(1);
    expect(rec.capped).toBe(false);
  });

  it('stops at its cap, flags it, and keeps only whole frames', () => {
    const rec = new Recording({ now: clock(), maxRows: 10 });
    // 2 faces x 2 models = 4 rows a frame: frames 1 and 2 fit (8 rows), frame 3 would make 12.
    expect(rec.add(frame([1, 2], ['a', 'b'], 0))).toBe(true);
    expect(rec.add(frame([1, 2], ['a', 'b'], 1))).toBe(true);
    expect(rec.capped).toBe(false);
    expect(rec.add(frame([1, 2], ['a', 'b'], 2))).toBe(false);
    expect(rec.capped).toBe(true);
    expect(rec.recording).toBe(false);
    expect(rec.rows).toBe(8);
    expect(rec.frames).toBe(2);
    expect(rec.add(frame([1], ['a'], 3))).toBe(false); // stopped: even a frame that would fit
    expect(JSON.parse(rec.toJson()).capped).toBe(true);
  });

  it('grows past its first allocation up to a large cap', () => {
    const rec = new Recording({ now: clock(), maxRows: 5000 });
    for (let i = 0; i < 600; i++) rec.add(frame([1, 2], ['a', 'b', 'c'], i));
    expect(rec.rows).toBe(3600);
    expect(parseRecordingCsv(rec.toCsv())).toHaveLength(3600);
  });

  it('rejects a bad cap, naming the option', () => {
    expect(() => new Recording({ now: clock(), maxRows: 0 })).toThrow(/maxRows/);
  });
});

describe('export', () => {
  it('CSV: the documented header, CRLF lines, and a round trip', () => {
    const rec = new Recording({ now: clock() });
    for (let i = 0; i < 4; i++) rec.add(frame([1, 2], ['cnn', 'svm'], i));
    const csv = rec.toCsv();
    expect(csv.startsWith('t_ms,face,model,label,angry,disgust,fear,happy,sad,surprise,neutral\r\n')).toBe(true);
    expect(csv.split('\r\n')).toHaveLength(1 + 16 + 1);
    expectRowsClose(parseRecordingCsv(csv), [...rec.entries()]);
  });

  it('CSV escapes model ids with commas, quotes and line breaks (RFC 4180) and reads them back', () => {
    const rec = new Recording({ now: clock() });
    for (let i = 0; i < 3; i++) rec.add(frame([7], AWKWARD, i));
    const csv = rec.toCsv();
    expect(csv).toContain(',"has,comma",');
    expect(csv).toContain(',"has ""quotes""",');
    expect(csv).toContain(',"line\nbreak",');
    const rows = parseRecordingCsv(csv);
    expect(rows.slice(0, AWKWARD.length).map((r) => r.model)).toEqual(AWKWARD);
    expectRowsClose(rows, [...rec.entries()]);
    // Every record has exactly the 11 columns despite the embedded separators.
    for (const record of parseCsv(csv)) expect(record).toHaveLength(RECORDING_COLUMNS.length);
  });

  it('csvField quotes only what needs it', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField(0.25)).toBe('0.25');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('a\rb')).toBe('"a\rb"');
  });

  it('JSON: format, columns, model names, and a round trip', () => {
    const rec = new Recording({ now: clock() });
    for (let i = 0; i < 3; i++) rec.add(frame([4], AWKWARD, i));
    const json = rec.toJson({ plain: 'Plain CNN', 'has,comma': 'Comma, model' });
    const data = JSON.parse(json);
    expect(data.columns).toEqual([...RECORDING_COLUMNS]);
    expect(data.models).toEqual({
      plain: 'Plain CNN',
      'has,comma': 'Comma, model',
      'has "quotes"': 'has "quotes"',
      'line\nbreak': 'line\nbreak',
      'crlf\r\nand, "all"': 'crlf\r\nand, "all"',
    });
    const back = parseRecordingJson(json);
    expect(back.capped).toBe(false);
    expectRowsClose(back.rows, [...rec.entries()]);
  });

  it('parsers name what is wrong', () => {
    expect(() => parseRecordingCsv('a,b\r\n')).toThrow(/header must be/);
    expect(() => parseRecordingCsv(`${RECORDING_COLUMNS.join(',')}\r\n1,2,m\r\n`)).toThrow(/line 2: 3 fields/);
    expect(() => parseRecordingCsv(`${RECORDING_COLUMNS.join(',')}\r\n1,2,m,joy,0,0,0,0,0,0,1\r\n`)).toThrow(/label "joy"/);
    expect(() => parseRecordingCsv(`${RECORDING_COLUMNS.join(',')}\r\nx,2,m,sad,0,0,0,0,1,0,0\r\n`)).toThrow(/t_ms is not a number/);
    expect(() => parseRecordingJson('{"format":"other","rows":[]}')).toThrow(/format must be/);
  });
});
