/** The message of the UsageError that `f` throws; fails the test if it throws anything else. */
import { expect } from 'vitest';
import { UsageError } from '../../src/train/util/cli-args.ts';

export function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  return 'no error';
}
