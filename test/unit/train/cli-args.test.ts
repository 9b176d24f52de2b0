/**
 * Usage errors, in-process: messages name the option and the accepted range; integer options refuse
 * fractions; `--epochs -1` gets our message, not parseArgs' "ambiguous" (src/train/util/cli-args.ts,
 * src/train/commands/train-args.ts). test/integration/cli-usage.test.ts spawns each CLI to check exit 2.
 */
import { describe, expect, it } from 'vitest';
import {
  parseChoice,
  parseInteger,
  parseList,
  parseNumber,
  parseOptions,
  UsageError,
  wantsHelp,
} from '../../../src/train/util/cli-args.ts';
import { parseCnnArgs, parseFinetuneArgs, parseSvmArgs } from '../../../src/train/commands/train-args.ts';

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('cli-args', () => {
  const options = {
    epochs: { type: 'string' },
    lr: { type: 'string' },
    resume: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;

  it('reads "--epochs -1" as the value -1 (range checked after) and keeps "--epochs=-1"', () => {
    expect(parseOptions(['--epochs', '-1'], options).values.epochs).toBe('-1');
    expect(parseOptions(['--epochs=-1'], options).values.epochs).toBe('-1');
    expect(parseOptions(['--lr', '-.5'], options).values.lr).toBe('-.5');
  });

  it('rewords parseArgs errors: unknown option (listing the options), missing value, value for a flag, stray argument', () => {
    const message = (args: string[]) => usageError(() => parseOptions(args, options));
    expect(message(['--epoch', '3'])).toBe('unknown option --epoch; the options are --epochs, --lr, --resume, --help');
    expect(message(['--epochs'])).toBe('--epochs needs a value');
    expect(message(['--epochs', '--resume'])).toMatch(
      /^--epochs needs a value \(to give one that starts with "-", write --epochs=VALUE\)$/,
    );
    expect(message(['--resume=yes'])).toBe('--resume takes no value');
    expect(message(['extra'])).toMatch(/^unexpected argument "extra": this command takes only options/);
  });

  it('checks integers, numbers, ranges, choices and lists, naming the option and the range', () => {
    expect(parseInteger('epochs', '12', { min: 1 })).toBe(12);
    expect(() => parseInteger('epochs', '1.5', { min: 1 })).toThrow(new UsageError('--epochs must be an integer >= 1, got "1.5"'));
    expect(() => parseInteger('epochs', '', { min: 1 })).toThrow(UsageError);
    expect(() => parseInteger('epochs', '0x10', { min: 1 })).toThrow(UsageError);
    expect(() => parseInteger('pages', '17', { min: 1, max: 16 })).toThrow('--pages must be an integer in [1, 16], got "17"');
    expect(parseNumber('lr', '1e-3', { min: 0, minExclusive: true })).toBe(0.001);
    expect(() => parseNumber('lr', '0', { min: 0, minExclusive: true })).toThrow('--lr must be a number > 0, got "0"');
    expect(() => parseNumber('p', '1', { min: 0, max: 1, maxExclusive: true })).toThrow('--p must be a number in [0, 1), got "1"');
    expect(() => parseNumber('lr', 'Infinity')).toThrow(UsageError);
    expect(parseChoice('arch', 'seed', ['seed', 'default'])).toBe('seed');
    expect(() => parseChoice('arch', 'big', ['seed', 'default', 'all'])).toThrow('--arch must be seed, default or all, got "big"');
    expect(parseList('widths', '8,16', (n, v) => parseInteger(n, v, { min: 1 }))).toEqual([8, 16]);
    expect(() => parseList('widths', '8,16', (n, v) => parseInteger(n, v), 4)).toThrow(
      '--widths takes 4 comma-separated values, got "8,16"',
    );
    expect(() => parseList('widths', '8,1.5', (n, v) => parseInteger(n, v, { min: 1 }))).toThrow(
      /--widths must be an integer >= 1 .*got "8,1\.5"/,
    );
    expect(wantsHelp(['--epochs', '3', '-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
  });
});

describe('train command lines', () => {
  it('cnn: integers are integers, lr > 0, probabilities in range, negative numbers read as numbers', () => {
    expect(usageError(() => parseCnnArgs(['--epochs', '1.5']))).toBe('--epochs must be an integer >= 1, got "1.5"');
    expect(usageError(() => parseCnnArgs(['--epochs', '-1']))).toBe('--epochs must be an integer >= 1, got "-1"');
    expect(usageError(() => parseCnnArgs(['--epochs=-1']))).toBe('--epochs must be an integer >= 1, got "-1"');
    expect(usageError(() => parseCnnArgs(['--batch-size', '2.5']))).toBe('--batch-size must be an integer >= 1, got "2.5"');
    expect(usageError(() => parseCnnArgs(['--lr', '0']))).toBe('--lr must be a number in (0, 1], got "0"');
    expect(usageError(() => parseCnnArgs(['--label-smoothing', '1']))).toBe('--label-smoothing must be a number in [0, 1), got "1"');
    expect(usageError(() => parseCnnArgs(['--patience', '0']))).toBe('--patience must be an integer >= 1, got "0"');
    expect(usageError(() => parseCnnArgs(['--workers', '2.5']))).toBe('--workers must be an integer in [1, 256], got "2.5"');
    expect(usageError(() => parseCnnArgs(['--limit', '1e2.5']))).toBe('--limit must be an integer >= 1, got "1e2.5"');
    expect(usageError(() => parseCnnArgs(['--seed', '-3']))).toBe('--seed must be an integer >= 0, got "-3"');
    expect(usageError(() => parseCnnArgs(['--time-budget', '0']))).toBe('--time-budget must be a number > 0, got "0"');
    expect(usageError(() => parseCnnArgs(['--widths', '8,16,32']))).toBe('--widths takes 4 comma-separated values, got "8,16,32"');
    expect(usageError(() => parseCnnArgs(['--arch', 'big']))).toBe('--arch must be seed, default or tiny, got "big"');
    expect(usageError(() => parseCnnArgs(['--eopchs', '3']))).toMatch(/^unknown option --eopchs; the options are --arch, --epochs, /);
    expect(usageError(() => parseCnnArgs(['--resume', '--fresh']))).toMatch(/--resume and --fresh contradict/);
  });

  it('cnn: good values pass through, --fresh included', () => {
    const o = parseCnnArgs([
      '--epochs',
      '3',
      '--batch-size',
      '32',
      '--lr',
      '1e-3',
      '--fresh',
      '--limit',
      '100',
      '--time-budget',
      '0.5',
      '--out',
      'runs/x',
    ]);
    if (o === 'help') throw new Error('help');
    expect(o).toMatchObject({
      epochs: 3,
      batchSize: 32,
      lr: 0.001,
      fresh: true,
      resume: false,
      limit: 100,
      timeBudgetSec: 30,
      id: 'x',
      arch: 'default',
    });
    expect(parseCnnArgs(['--epochs', '1.5', '-h'])).toBe('help');
  });

  it('finetune and svm: the same checks', () => {
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--epochs', '1.5']))).toBe('--epochs must be an integer >= 1, got "1.5"');
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--epochs', '-1']))).toBe('--epochs must be an integer >= 1, got "-1"');
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--batch-size', '2.5']))).toBe(
      '--batch-size must be an integer >= 1, got "2.5"',
    );
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--lr', '0']))).toBe('--lr must be a number in (0, 1], got "0"');
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--val-split', '1']))).toBe(
      '--val-split must be a number in [0.01, 0.9], got "1"',
    );
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--freeze', '1.5']))).toBe('--freeze must be an integer >= 0, got "1.5"');
    expect(usageError(() => parseFinetuneArgs(['--data', 'd', '--estimate', 'all']))).toBe(
      '--estimate must be auto, loso, repeated or none, got "all"',
    );
    expect(usageError(() => parseFinetuneArgs([]))).toMatch(/^--data <dir> is required/);
    expect(parseFinetuneArgs(['--data', 'd', '--epochs', '4'])).toMatchObject({
      data: 'd',
      epochs: 4,
      lr: 0.0005,
      batchSize: 16,
      valSplit: 0.2,
      seed: 42,
    });
    expect(usageError(() => parseSvmArgs(['--seed', '1.5']))).toBe('--seed must be an integer >= 0, got "1.5"');
    expect(usageError(() => parseSvmArgs(['--cv-rows', '5']))).toBe('--cv-rows must be an integer >= 10, got "5"');
    expect(usageError(() => parseSvmArgs(['--grid-c', '1,-4']))).toMatch(/^--grid-c must be a number > 0 .*got "1,-4"$/);
    expect(parseSvmArgs(['--grid-gamma', '0.5,1'])).toMatchObject({
      gridGammaFactors: [0.5, 1],
      gridC: [1, 4, 16],
      cvRows: 3000,
      components: 150,
    });
  });
});
