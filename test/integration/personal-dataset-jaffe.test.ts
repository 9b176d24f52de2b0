/** The personal-folder scan and JAFFE name parsing on the real JAFFE folder (fixture trees: test/unit/train/personal-dataset.test.ts). */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../src/core/labels.ts';
import { leaveOneSubjectOutFolds, scanPersonalFolder, subjectFromFileName } from '../../src/train/data/personal-dataset.ts';
import { JAFFE_DIR as JAFFE, missingShared } from '../helpers/shared-data.ts';

const missing = missingShared(join(JAFFE, 'manifest.csv'));

describe.skipIf(!!missing)(`real JAFFE folder (${JAFFE})${missing ? ` (skipped: needs ${missing})` : ''}`, () => {
  describe('subjectFromFileName', () => {
    it('matches the subject column of the real JAFFE manifest for every labelled file', () => {
      const rows = readFileSync(join(JAFFE, 'manifest.csv'), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1)
        .map((l) => l.split(','));
      expect(rows.length).toBeGreaterThan(0);
      for (const [path, , , subject] of rows) expect(subjectFromFileName(basename(path!)), path).toBe(subject);
    });
  });

  describe('scanPersonalFolder', () => {
    it('scans to the counts in its manifest.csv and unknown_labels.csv', async () => {
      const manifest = readFileSync(join(JAFFE, 'manifest.csv'), 'utf8').trim().split(/\r?\n/);
      expect(manifest[0]).toBe('path,label,label_idx,subject,original_file');
      const rows = manifest.slice(1).map((l) => l.split(','));
      const expectedPerClass = EMOTIONS.map((_, c) => rows.filter((r) => Number(r[2]) === c).length);
      const expectedSubjects = new Map(rows.map((r) => [resolve(JAFFE, r[0]!), r[3]]));
      const key = readFileSync(join(JAFFE, 'unknown_labels.csv'), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1)
        .map((l) => l.split(','));

      const scan = await scanPersonalFolder(JAFFE);
      expect(scan.items).toHaveLength(rows.length);
      expect(EMOTIONS.map((_, c) => scan.items.filter((i) => i.label === c).length)).toEqual(expectedPerClass);
      expect(scan.classesPresent).toEqual([0, 1, 2, 3, 4, 5, 6]);
      for (const item of scan.items) expect(item.subject, item.path).toBe(expectedSubjects.get(item.path));
      expect(scan.ignoredFolders).toEqual(['unknown']);
      expect(scan.skippedFiles).toEqual([]);
      expect(scan.unknown.map((p) => basename(p))).toEqual(readdirSync(join(JAFFE, 'unknown')).sort());
      expect(scan.unknown).toHaveLength(key.length);
      expect(scan.unknownLabels).toEqual(new Map(key.map(([f, l]) => [f!, EMOTIONS.indexOf(l as never)])));
      // The totals the README states (192 labelled, 21 unknown) agree with the files.
      const readme = readFileSync(join(JAFFE, 'README.md'), 'utf8');
      expect(readme).toContain(`**${scan.items.length}**`);
      expect(readme).toContain(`**${scan.unknown.length}**`);
    });

    it('gives 10 leave-one-subject-out folds', async () => {
      const scan = await scanPersonalFolder(JAFFE);
      const folds = leaveOneSubjectOutFolds(scan.items.map((i) => i.subject));
      expect(folds).toHaveLength(new Set(scan.items.map((i) => i.subject)).size);
      expect(folds.reduce((n, f) => n + f.val.length, 0)).toBe(scan.items.length);
    });
  });
});
