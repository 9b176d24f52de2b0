/**
 * npm run extract -- <fer2013.csv[.gz] | image folder> [--out DIR] [--pages N] [--limit N] [--export-csv FILE]
 *
 * Runs the app's face pipeline (MediaPipe landmarks, FER2013 framing, 48x48 crop, AU-style
 * features) in headless Chromium over every image and caches the results (resumable).
 */
import { writeFileAtomic } from '../util/atomic.ts';
import { parseInteger, parseOptions, readCommandLine, UsageError } from '../util/cli-args.ts';
import { join } from 'node:path';
import { exportFeaturesCsv } from '../extract/features-csv.ts';
import { ExtractionInterrupted, runExtraction, type ExtractSummary } from '../extract/extract.ts';
import { openSource } from '../extract/sources.ts';

const USAGE = 'usage: npm run extract -- <fer2013.csv[.gz] | image folder> [--out DIR] [--pages N] [--limit N] [--export-csv FILE]';

export function describeSummary(s: ExtractSummary): string[] {
  const lines = [
    `${s.total} images: face found in ${s.faces} (${((100 * s.faces) / Math.max(1, s.total)).toFixed(1)}%), no face ${s.noFace}, corrupt ${s.corrupt}, not an image ${s.notImage}` +
      (s.skipped > 0 ? `, not read ${s.skipped} (special files, too large or unreadable)` : '') +
      (s.severalFaces > 0 ? `; ${s.severalFaces} with several faces (largest kept)` : ''),
  ];
  const shown = s.problems.slice(0, 10);
  for (const p of shown) lines.push(`  skipped ${p.id}: ${p.status}${p.error ? ` (${p.error})` : ''}`);
  if (s.problems.length > shown.length)
    lines.push(`  ... and ${s.problems.length - shown.length} more (all in ${join(s.dir, 'problems.csv')})`);
  return lines;
}

/** The command line: the input (a FER2013 CSV or an image folder) and the options. */
function parseCommandLine(args: readonly string[]) {
  const { values, positionals } = parseOptions(
    args,
    {
      out: { type: 'string' },
      pages: { type: 'string' },
      limit: { type: 'string' },
      'export-csv': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (positionals.length !== 1)
    throw new UsageError(
      `expected one FER2013 CSV or image folder, got ${positionals.length ? positionals.map((p) => `"${p}"`).join(' ') : 'none'}`,
    );
  return {
    values,
    input: positionals[0]!,
    pages: values.pages === undefined ? undefined : parseInteger('pages', values.pages, { min: 1, max: 16 }),
    limit: values.limit === undefined ? undefined : parseInteger('limit', values.limit, { min: 1 }),
  };
}

async function main(): Promise<number> {
  const line = readCommandLine('extract', USAGE, process.argv.slice(2), parseCommandLine);
  if ('exitCode' in line) return line.exitCode;
  const { values, input, pages, limit } = line.options;
  const abort = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nstopping after the chunks in progress (Ctrl-C again to quit at once)...');
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  try {
    console.error(`reading ${input}...`);
    const source = await openSource(input);
    console.error(`${source.items.length} items (${source.kind})`);
    const summary = await runExtraction(source, {
      ...(values.out ? { outDir: values.out } : {}),
      ...(pages ? { pages } : {}),
      ...(limit ? { limit } : {}),
      signal: abort.signal,
      log: (line) => console.error(line),
    });
    const problems = [
      'id,status,error',
      ...summary.problems.map((p) => `${JSON.stringify(p.id)},${p.status},${JSON.stringify(p.error ?? '')}`),
    ];
    await writeFileAtomic(join(summary.dir, 'problems.csv'), problems.join('\n') + '\n');
    for (const line of describeSummary(summary)) console.log(line);
    console.log(`cache: ${summary.dir}`);
    if (values['export-csv']) {
      const rows = await exportFeaturesCsv(summary.dir, values['export-csv']);
      console.log(`wrote ${rows} rows to ${values['export-csv']}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ExtractionInterrupted) {
      console.error(error.message);
      return 130;
    }
    console.error(`extract: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
