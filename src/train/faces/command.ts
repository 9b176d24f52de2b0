/**
 * npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR]
 *
 * The real-face evaluation (evaluate-faces.ts) from the command line: prints the table, every
 * model's confusion matrix and what was skipped, and writes the JSON result atomically.
 * Exit status: 0 done, 2 usage error (bad option, missing folder, no labelled photo, no
 * index.json), 1 anything else (e.g. a corrupt model).
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { CorruptModelError, parseOptions, UsageError, wantsHelp, writeFileAtomic } from './deps.ts';
import { evaluateFaces, type RealFacesResult } from './evaluate-faces.ts';
import { renderConfusion, renderRealFacesTable } from './render.ts';

export const FACES_USAGE = `usage: npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR]

  --faces DIR    labelled photos, DIR/<emotion>/* (folder names as for finetune, any case: happy/,
                 Happiness/, anger/, ...); unknown/ and other folders are skipped and listed.
                 Every model runs through the app's pipeline (as npm run predict); a photo with
                 no face counts as wrong; a model trained on this folder is marked in-sample.
  --out FILE     JSON result (default: runs/faces/<folder name>.json)
  --models DIR   models folder with index.json (default: models)`;

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The default output file for a photo folder: runs/faces/<folder name>.json. */
export function defaultFacesOut(dir: string): string {
  const name = basename(resolve(dir)).replace(/[^A-Za-z0-9_.-]+/g, '_') || 'faces';
  return `runs/faces/${name}.json`;
}

function parse(argv: readonly string[]): { dir: string; out: string; models: string } {
  const { values } = parseOptions(argv, {
    faces: { type: 'string' },
    out: { type: 'string' },
    models: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.faces === undefined || values.faces.trim() === '')
    throw new UsageError('--faces needs a folder of labelled photos (DIR/<emotion>/*)');
  const out = values.out ?? defaultFacesOut(values.faces);
  if (!out.toLowerCase().endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${out}"`);
  return { dir: values.faces, out, models: values.models ?? 'models' };
}

function printResult(result: RealFacesResult): void {
  console.log(renderRealFacesTable(result));
  for (const m of result.models) console.log(`${renderConfusion(result, m)}\n`);
  for (const note of result.notes) console.log(note);
  for (const f of result.skipped.folders) console.log(`skipped ${f.folder}/ (${f.files} file${f.files === 1 ? '' : 's'}): ${f.reason}`);
  for (const f of result.skipped.files) console.log(`skipped ${f.file}: ${f.reason}`);
  for (const f of result.unreadable) console.log(`unreadable ${f.file}: ${f.error}`);
  for (const f of result.noFace) console.log(`no face: ${f}`);
}

/** Runs the command on `argv` (the options after `npm run evaluate --`); resolves to the exit status. */
export async function facesCommand(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(FACES_USAGE);
    return 0;
  }
  try {
    const { dir, out, models } = parse(argv);
    const result = await evaluateFaces({ dir, modelsDir: models, log: (line) => console.error(line) });
    result.command = `npm run evaluate -- ${argv.map(shellWord).join(' ')}`;
    printResult(result);
    await mkdir(dirname(resolve(out)), { recursive: true });
    await writeFileAtomic(resolve(out), JSON.stringify(result, null, 1) + '\n');
    console.error(`wrote ${out}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`evaluate --faces: ${error.message}\n${FACES_USAGE}`);
      return 2;
    }
    if (error instanceof CorruptModelError) {
      console.error(
        `evaluate --faces: ${error.models.map((m) => `model "${m.id}" is ${m.status}`).join('\n')}\n` +
          '(restore or retrain it, or point --models at a folder whose index.json leaves it out)',
      );
      return 1;
    }
    throw error;
  }
}
