/**
 * A recording of the live view's readings, kept only while the user asks (Record ... Stop), and its
 * export as CSV and JSON. Pure: no DOM, so it is tested without a browser.
 *
 * Schema (one row per face, model and frame), in this column order:
 *   t_ms     milliseconds since Record was pressed, when the frame's result arrived (0.1 ms steps)
 *   face     the face's track id (stable while the face stays in view; the number on the video)
 *   model    the model's id (models/index.json)
 *   label    the model's top emotion for this face (one of the seven names below)
 *   angry, disgust, fear, happy, sad, surprise, neutral
 *            the model's probabilities (after smoothing when it is on), 6 decimals; they sum to ~1
 * CSV: RFC 4180 (comma separated, CRLF line ends, a header row, fields with a comma, a quote or a
 * line break quoted, quotes doubled). JSON: { format, columns, models, capped, rows }, each row an
 * array in the column order above; `models` maps each model id to its display name.
 *
 * Memory is bounded: at most `maxRows` rows (default 200,000, ~5 MB in typed arrays). A frame that
 * does not fit whole is not recorded: the recording stops and says so (`capped`), so every
 * recorded frame has all its rows.
 */
import { EMOTIONS } from '../../core/labels.ts';
import { argmax } from '../../core/metrics.ts';
import type { FrameResult } from './types.ts';

export const RECORDING_COLUMNS = ['t_ms', 'face', 'model', 'label', ...EMOTIONS] as const;
export const RECORDING_FORMAT = 'emotion-lens.recording.v1';
export const DEFAULT_MAX_ROWS = 200_000;

export interface RecordingRow {
  tMs: number;
  face: number;
  model: string;
  label: string;
  /** Seven probabilities, EMOTIONS order. */
  probs: number[];
}

export interface RecordingOptions {
  maxRows?: number;
  /** The clock (ms); performance.now in the app. */
  now: () => number;
}

const N = EMOTIONS.length;

export class Recording {
  readonly maxRows: number;
  private readonly now: () => number;
  private readonly start: number;
  private stopped = false;
  private capReached = false;
  private count = 0;
  private frameCount = 0;
  private lastT = 0;
  // Growable typed arrays (doubling up to maxRows): compact, and nothing is allocated up front.
  private t = new Float64Array(0);
  private faces = new Int32Array(0);
  private models = new Uint16Array(0);
  private probs = new Float32Array(0);
  private readonly modelIds: string[] = [];
  private readonly modelIndex = new Map<string, number>();

  constructor(options: RecordingOptions) {
    const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`Recording: maxRows must be a positive integer, got ${maxRows}.`);
    this.maxRows = maxRows;
    this.now = options.now;
    this.start = options.now();
  }

  /** Rows recorded so far. */
  get rows(): number {
    return this.count;
  }
  /** Frames recorded so far (frames without a face or a model add no row and are not counted). */
  get frames(): number {
    return this.frameCount;
  }
  get recording(): boolean {
    return !this.stopped;
  }
  /** True when the recording stopped itself because the next frame would pass maxRows. */
  get capped(): boolean {
    return this.capReached;
  }
  /** Milliseconds from Record to now (while recording) or to the last recorded frame. */
  elapsedMs(): number {
    return this.stopped ? this.lastT : this.now() - this.start;
  }

  /**
   * Records one frame's readings, every face and model. Returns false when nothing was recorded
   * because the recording is stopped, or because the frame does not fit (it then stops, capped).
   */
  add(frame: FrameResult): boolean {
    if (this.stopped) return false;
    const needed = frame.faces.reduce((sum, f) => sum + f.readings.length, 0);
    if (needed === 0) return true;
    if (this.count + needed > this.maxRows) {
      this.capReached = true;
      this.stop();
      return false;
    }
    this.reserve(this.count + needed);
    const t = Math.round((this.now() - this.start) * 10) / 10;
    for (const face of frame.faces) {
      for (const reading of face.readings) {
        const i = this.count++;
        this.t[i] = t;
        this.faces[i] = face.trackId;
        this.models[i] = this.indexOf(reading.modelId);
        for (let k = 0; k < N; k++) this.probs[i * N + k] = reading.probs[k] ?? 0;
      }
    }
    this.lastT = t;
    this.frameCount++;
    return true;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.count === 0) this.lastT = Math.round((this.now() - this.start) * 10) / 10;
  }

  /** The rows, oldest first (probabilities as stored: float32). */
  *entries(): Generator<RecordingRow> {
    for (let i = 0; i < this.count; i++) {
      const probs = Array.from(this.probs.subarray(i * N, i * N + N));
      yield { tMs: this.t[i]!, face: this.faces[i]!, model: this.modelIds[this.models[i]!]!, label: EMOTIONS[argmax(probs)]!, probs };
    }
  }

  /** RFC 4180 CSV with a header row (see the schema at the top of this file). */
  toCsv(): string {
    const lines = [RECORDING_COLUMNS.join(',')];
    for (const row of this.entries()) lines.push(rowFields(row).map(csvField).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  /** JSON (see the schema at the top of this file); `names` maps model ids to display names. */
  toJson(names: Readonly<Record<string, string>> = {}): string {
    const rows: (string | number)[][] = [];
    for (const row of this.entries()) rows.push(rowFields(row));
    const models = Object.fromEntries(this.modelIds.map((id) => [id, names[id] ?? id]));
    return JSON.stringify({ format: RECORDING_FORMAT, columns: RECORDING_COLUMNS, models, capped: this.capReached, rows });
  }

  private indexOf(modelId: string): number {
    let index = this.modelIndex.get(modelId);
    if (index === undefined) {
      index = this.modelIds.push(modelId) - 1;
      this.modelIndex.set(modelId, index);
    }
    return index;
  }

  private reserve(rows: number): void {
    if (rows <= this.t.length) return;
    const size = Math.min(this.maxRows, Math.max(rows, 1024, this.t.length * 2));
    const grow = <T extends Float64Array | Int32Array | Uint16Array | Float32Array>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(size * per);
      next.set(old);
      return next;
    };
    this.t = grow(this.t, (n) => new Float64Array(n));
    this.faces = grow(this.faces, (n) => new Int32Array(n));
    this.models = grow(this.models, (n) => new Uint16Array(n));
    this.probs = grow(this.probs, (n) => new Float32Array(n), N);
  }
}

function rowFields(row: RecordingRow): (string | number)[] {
  return [row.tMs, row.face, row.model, row.label, ...row.probs.map((p) => Number(p.toFixed(6)))];
}

/** A field quoted when it holds a comma, a quote or a line break (RFC 4180), quotes doubled. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Splits RFC 4180 CSV text into records of fields (quoted fields may hold commas, quotes, line breaks). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' || c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else field += c;
    i++;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** Reads a recording's CSV back (tests, and scripts); throws naming the line at fault. */
export function parseRecordingCsv(text: string): RecordingRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header || header.join(',') !== RECORDING_COLUMNS.join(','))
    throw new Error(`Recording CSV: the header must be "${RECORDING_COLUMNS.join(',')}", got "${header?.join(',') ?? ''}".`);
  return records.map((fields, i) => {
    if (fields.length !== RECORDING_COLUMNS.length)
      throw new Error(`Recording CSV line ${i + 2}: ${fields.length} fields, expected ${RECORDING_COLUMNS.length}.`);
    return toRow(fields, `Recording CSV line ${i + 2}`);
  });
}

/** Reads a recording's JSON back; throws naming what is wrong. */
export function parseRecordingJson(text: string): { rows: RecordingRow[]; models: Record<string, string>; capped: boolean } {
  const data = JSON.parse(text) as { format?: unknown; rows?: unknown; models?: Record<string, string>; capped?: boolean };
  if (data.format !== RECORDING_FORMAT)
    throw new Error(`Recording JSON: format must be "${RECORDING_FORMAT}", got ${JSON.stringify(data.format)}.`);
  if (!Array.isArray(data.rows)) throw new Error('Recording JSON: "rows" must be an array.');
  const rows = (data.rows as unknown[][]).map((fields, i) => toRow(fields, `Recording JSON row ${i}`));
  return { rows, models: data.models ?? {}, capped: data.capped === true };
}

function toRow(fields: readonly unknown[], where: string): RecordingRow {
  const num = (v: unknown, name: string) => {
    const n = typeof v === 'number' ? v : Number(v);
    if (typeof v === 'string' && v.trim() === '') throw new Error(`${where}: ${name} is empty.`);
    if (!Number.isFinite(n)) throw new Error(`${where}: ${name} is not a number (${String(v)}).`);
    return n;
  };
  const label = String(fields[3]);
  if (!(EMOTIONS as readonly string[]).includes(label)) throw new Error(`${where}: label "${label}" is not one of ${EMOTIONS.join(', ')}.`);
  return {
    tMs: num(fields[0], 't_ms'),
    face: num(fields[1], 'face'),
    model: String(fields[2]),
    label,
    probs: EMOTIONS.map((e, k) => num(fields[4 + k], e)),
  };
}
