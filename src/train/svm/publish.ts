/**
 * Publishes a trained SVM: writes its folder atomically (model files, then report files scored on
 * the written model read back, through the app's inference code), then its models/index.json entry.
 * The folder is checked first like every model folder (publish-model.ts): a folder holding anything
 * but model artifacts, the working folder or the project is refused.
 * Shared by `npm run train -- svm-au | svm-pixels` and the personal svm-au.
 */
import { basename, resolve } from 'node:path';
import type { SvmInput } from '../../core/contracts/index.ts';
import { parseSvmInput, predictSvm, svmInputOf } from '../../core/svm/index.ts';
import { publishModelDir } from '../util/publish-model.ts';
import { buildReport, writeReportFiles, type BuildReportInput } from '../report/report.ts';
import { readSvmModel, writeSvmModel, type ModelFiles } from './export.ts';

export interface Scored {
  yPred: number[];
  accuracy: number;
  /** Mean prediction time per row (input adapter included), Node. */
  msPerFace: number;
}

export interface PublishSvmOptions {
  outDir: string;
  /** Name in models/index.json. */
  name: string;
  files: ModelFiles;
  /** Evaluation rows as the pipeline has them: features for AU models, 48x48 crops for pixel models. */
  test: { rows: ArrayLike<number>[]; labels: number[] };
  /** The input block of its models/index.json entry. */
  manifestInput: SvmInput;
  /** The report, given the scores of the written model. */
  report: (scored: Scored) => Omit<BuildReportInput, 'id' | 'kind' | 'yTrue' | 'yPred' | 'confusionMatrix'>;
}

export async function publishSvm(o: PublishSvmOptions): Promise<Scored> {
  const id = basename(resolve(o.outDir));
  let scored: Scored | undefined;
  await publishModelDir(
    o.outDir,
    async (tmp) => {
      await writeSvmModel(tmp, o.files);
      const model = await readSvmModel(tmp);
      const spec = parseSvmInput(model.input);
      const t0 = performance.now();
      const yPred = o.test.rows.map((x) => predictSvm(model, svmInputOf(spec, x, x)).top);
      const msPerFace = (performance.now() - t0) / Math.max(1, o.test.rows.length);
      const hits = yPred.filter((p, i) => p === o.test.labels[i]).length;
      scored = { yPred, accuracy: hits / Math.max(1, yPred.length), msPerFace };
      await writeReportFiles(tmp, buildReport({ ...o.report(scored), id, kind: 'svm', yTrue: o.test.labels, yPred }));
    },
    { manifestEntry: { id, name: o.name, kind: 'svm', input: o.manifestInput } },
  );
  return scored!;
}
