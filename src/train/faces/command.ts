/**
 * npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR] [--neutral-baseline [--auto-neutral] [--subject REGEX]]
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
import { DEFAULT_SUBJECT, parseSubject } from './neutral-eval.ts';
import { renderConfusion, renderRealFacesTable } from './render.ts';

export const FACES_USAGE = `usage: npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR] [--neutral-baseline [--auto-neutral] [--subject REGEX]]

  --faces DIR    labelled photos, DIR/<emotion>/* (folder names as for finetune, any case: happy/,
                 Happiness/, anger/, ...); unknown/ and other folders are skipped and listed.
                 Every model runs through the app's pipeline (as npm run predict); a photo with
                 no face counts as wrong; a model trained on this folder is marked in-sample.
  --out FILE     JSON result (default: runs/faces/<folder name>.json, with --neutral-baseline
                 runs/faces/<folder name>-neutral.json, with --auto-neutral -neutral-auto.json)
  --models DIR   models folder with index.json (default: models)
  --neutral-baseline
                 what a user's captured neutral face would give: every photo's answers moved by
                 the mean of the same person's OTHER neutral photos (leave-one-out), as the app
                 moves them; models without a neutral reference in index.json stay as they are
  --auto-neutral with --neutral-baseline: no label used; each person's neutral face is the most
                 relaxed 10 % of their OTHER photos (highest mean p(neutral) over the models with a
                 reference), as the app's automatic neutral face picks frames
  --subject REGEX
                 with --neutral-baseline: the person of a photo is the first group of REGEX on
                 its file name (default ${DEFAULT_SUBJECT}, as JAFFE's KA.AN1.39.png: KA); photos
                 whose name does not match stay as they are`;

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The default output file for a photo folder: runs/faces/<folder name>.json, and
 * runs/faces/<folder name>-neutral.json with the neutral baseline (never the plain run's file).
 */
export function defaultFacesOut(dir: string, neutralBaseline = false, auto = false): string {
  const name = basename(resolve(dir)).replace(/[^A-Za-z0-9_.-]+/g, '_') || 'faces';
  return `runs/faces/${name}${neutralBaseline ? (auto ? '-neutral-auto' : '-neutral') : ''}.json`;
}

interface FacesArgs {
  dir: string;
  out: string;
  models: string;
  /** The --subject pattern when --neutral-baseline is on, and 'auto' with --auto-neutral. */
  neutralBaseline?: { subject: string; pick?: 'auto' };
}

function parse(argv: readonly string[]): FacesArgs {
  const { values } = parseOptions(argv, {
    faces: { type: 'string' },
    out: { type: 'string' },
    models: { type: 'string' },
    'neutral-baseline': { type: 'boolean' },
    'auto-neutral': { type: 'boolean' },
    subject: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.faces === undefined || values.faces.trim() === '')
    throw new UsageError('--faces needs a folder of labelled photos (DIR/<emotion>/*)');
  const neutral = values['neutral-baseline'] === true;
  if (values.subject !== undefined && !neutral)
    throw new UsageError(
      '--subject names the person in each file name for --neutral-baseline: add --neutral-baseline, or leave --subject out',
    );
  const auto = values['auto-neutral'] === true;
  if (auto && !neutral)
    throw new UsageError("--auto-neutral picks each person's neutral face for --neutral-baseline without labels: add --neutral-baseline");
  const subject = values.subject ?? DEFAULT_SUBJECT;
  if (neutral) parseSubject(subject);
  const out = values.out ?? defaultFacesOut(values.faces, neutral, auto);
  if (!out.toLowerCase().endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${out}"`);
  return {
    dir: values.faces,
    out,
    models: values.models ?? 'models',
    ...(neutral ? { neutralBaseline: { subject, ...(auto ? { pick: 'auto' as const } : {}) } } : {}),
  };
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
    const { dir, out, models, neutralBaseline } = parse(argv);
    const result = await evaluateFaces({
      dir,
      modelsDir: models,
      log: (line) => console.error(line),
      ...(neutralBaseline ? { neutralBaseline } : {}),
    });
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
