/**
 * Throwaway models for the e2e tests and the live benchmark: untrained CNNs with the real
 * architectures' shapes (so timings are realistic), an SVM entry (shown as not supported yet) and
 * an entry whose files are missing. Node only.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArch } from '../../src/core/models/architectures.ts';
import { saveLayersModel } from '../../src/train/model-io.ts';

const INPUT = { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48 };

export interface FixtureOptions {
  /** Add the svm, missing and corrupt entries (default true). */
  extras?: boolean;
}

/** Writes a models folder into a new temp dir and returns its path. */
export async function makeFixtureModels(options: FixtureOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emotion-lens-models-'));
  const models: object[] = [];
  const add = async (id: string, name: string, arch: string, widths: number[] | undefined, tta: string) => {
    await mkdir(join(dir, id));
    const model = buildArch(arch, 1, widths);
    await saveLayersModel(model, join(dir, id));
    model.dispose();
    models.push({ id, name, kind: 'cnn', path: `${id}/model.json`, report: `${id}/report.json`, input: { ...INPUT, tta } });
  };
  // Widths of the trained default CNN (README "Design of the default CNN").
  await add('fixture-cnn', 'Fixture CNN', 'default', [16, 32, 64, 128], 'hflip-mean');
  await add('fixture-seed', 'Fixture seed CNN', 'seed', undefined, 'none');
  await writeFile(
    join(dir, 'fixture-cnn', 'report.json'),
    JSON.stringify({
      id: 'fixture-cnn',
      accuracy: 0.5,
      labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
      perClass: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].map((label) => ({ label, precision: 0.5, recall: 0.5, f1: 0.5, support: 10 })),
      macroAvg: { precision: 0.5, recall: 0.5, f1: 0.5, support: 70 },
      confusionMatrix: Array.from({ length: 7 }, (_, t) => Array.from({ length: 7 }, (_, p) => (t === p ? 5 : 1))),
      history: [1, 2, 3].map((epoch) => ({ epoch, loss: 2 / epoch, acc: 0.2 * epoch, valLoss: 2.2 / epoch, valAcc: 0.18 * epoch })),
    }),
  );
  if (options.extras ?? true) {
    models.push({ id: 'fixture-svm', name: 'Fixture SVM', kind: 'svm', path: 'fixture-svm/model.json', input: {} });
    models.push({ id: 'fixture-missing', name: 'Fixture missing', kind: 'cnn', path: 'fixture-missing/model.json', input: INPUT });
    await mkdir(join(dir, 'fixture-corrupt'));
    await writeFile(join(dir, 'fixture-corrupt', 'model.json'), '{"modelTopology": trunc');
    models.push({ id: 'fixture-corrupt', name: 'Fixture corrupt', kind: 'cnn', path: 'fixture-corrupt/model.json', input: INPUT });
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify({ models }, null, 2));
  return dir;
}
