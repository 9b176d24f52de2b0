/**
 * Command-line options for the Node commands: node:util parseArgs with messages that name the
 * option and say what it accepts, value checks (integers are integers, ranges are checked), and
 * UsageError, which every CLI turns into exit status 2 (run-time failures exit 1).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--name -1` -> `--name=-1` for options that take a value: parseArgs refuses a value starting
 * with "-" as "ambiguous", which hides the real problem (the range) from the user.
 */
function joinNegativeValues(args: readonly string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (
      arg.startsWith('--') &&
      !arg.includes('=') &&
      options[arg.slice(2)]?.type === 'string' &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function optionList(options: OptionSpecs): string {
  return Object.keys(options)
    .map((name) => `--${name}`)
    .join(', ');
}

/** parseArgs' errors, reworded to name the option and say how to fix the command line. */
function explain(error: Error & { code?: string }, options: OptionSpecs): string {
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  const option = quoted.replace(/ <value>$/, '');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}; the options are ${optionList(options)}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}": this command takes only options (${optionList(options)})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(error.message)) return `${option} needs a value`;
      if (/ambiguous/.test(error.message)) return `${option} needs a value (to give one that starts with "-", write ${option}=VALUE)`;
      if (/does not take an argument/.test(error.message)) return `${option} takes no value`;
      return error.message;
    default:
      return error.message;
  }
}

/**
 * parseArgs with strict checking; throws UsageError with our wording. `--name -1` is read as the
 * value -1 for options that take a value.
 */
export function parseOptions<const O extends OptionSpecs, const P extends boolean = false>(
  args: readonly string[],
  options: O,
  allowPositionals?: P,
) {
  const config = {
    args: joinNegativeValues(args, options),
    options,
    allowPositionals: (allowPositionals ?? false) as P,
    strict: true as const,
  };
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(explain(error as Error & { code?: string }, options));
  }
}

export interface Range {
  min?: number;
  max?: number;
  /** min itself is not allowed (e.g. a learning rate > 0). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

function describe(kind: 'an integer' | 'a number', r: Range): string {
  const hasMin = r.min !== undefined;
  const hasMax = r.max !== undefined;
  if (hasMin && hasMax) return `${kind} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  if (hasMin) return `${kind} ${r.minExclusive ? '>' : '>='} ${r.min}`;
  if (hasMax) return `${kind} ${r.maxExclusive ? '<' : '<='} ${r.max}`;
  return kind;
}

function inRange(n: number, r: Range): boolean {
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? n >= r.max : n > r.max)) return false;
  return true;
}

// Plain decimal notation only: Number() would also take '', ' ', '0x10' and 'Infinity'.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number option's value, checked against the range; the message names the option. */
export function parseNumber(name: string, raw: string, range: Range = {}): number {
  const n = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || !inRange(n, range)) throw new UsageError(`--${name} must be ${describe('a number', range)}, got "${raw}"`);
  return n;
}

/** An integer option's value ("1.5" is refused), checked against the range. */
export function parseInteger(name: string, raw: string, range: Range = {}): number {
  const n = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || !inRange(n, range))
    throw new UsageError(`--${name} must be ${describe('an integer', range)}, got "${raw}"`);
  return n;
}

/** One of a fixed set of words. */
export function parseChoice<const T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(
      `--${name} must be ${choices.length === 1 ? choices[0] : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`}, got "${raw}"`,
    );
  }
  return raw as T;
}

/** A comma-separated list, each item checked by `item` (which throws UsageError naming the option). */
export function parseList<T>(name: string, raw: string, item: (name: string, raw: string) => T, length?: number): T[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '') || (length !== undefined && parts.length !== length)) {
    throw new UsageError(`--${name} takes ${length ?? 'one or more'} comma-separated values, got "${raw}"`);
  }
  return parts.map((p) => {
    try {
      return item(name, p);
    } catch (error) {
      throw error instanceof UsageError
        ? new UsageError(`${error.message.replace(/, got "[^"]*"$/, '')} (each of the comma-separated values), got "${raw}"`)
        : error;
    }
  });
}

/** True when the command line asks for help only (`--help` or `-h` anywhere before `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * --NAME LO-HI, a range within (0, 1] (e.g. 0.3-1); with `copies`, also LO-HIxN (N in 1..10,
 * default 1). UsageError naming the option and saying what to give otherwise.
 */
export function parseUnitRange(name: string, raw: string, o: { copies?: boolean } = {}): { low: number; high: number; copies: number } {
  const m = (o.copies ? /^(\d*\.?\d+)-(\d*\.?\d+)(?:x(\d+))?$/ : /^(\d*\.?\d+)-(\d*\.?\d+)$/).exec(raw.trim());
  const how = o.copies
    ? `give LO-HI or LO-HIxCOPIES with 0 < LO <= HI <= 1 and COPIES 1..10, e.g. --${name} 0.3-1`
    : `give LO-HI with 0 < LO <= HI <= 1, e.g. --${name} 0.3-1`;
  if (!m) throw new UsageError(`--${name}: "${raw}" is not a range; ${how}`);
  const low = Number(m[1]);
  const high = Number(m[2]);
  const copies = m[3] === undefined ? 1 : Number(m[3]);
  if (!(low > 0 && low <= high && high <= 1)) throw new UsageError(`--${name}: ${low}-${high} is out of range; ${how}`);
  if (!(copies >= 1 && copies <= 10)) throw new UsageError(`--${name}: ${copies} copies is out of range; ${how}`);
  return { low, high, copies };
}

/** What a command line comes to: the options to run with, or the exit status to stop with. */
export type CommandLine<T> = { options: T } | { exitCode: 0 | 2 };

/**
 * The start every command shares: `--help` prints `usage` (exit 0); a UsageError from `parse` is
 * printed as `command: message` above the usage (exit 2); anything else `parse` throws propagates.
 */
export function readCommandLine<T>(
  command: string,
  usage: string,
  args: readonly string[],
  parse: (args: readonly string[]) => T,
): CommandLine<T> {
  if (wantsHelp(args)) {
    console.log(usage);
    return { exitCode: 0 };
  }
  try {
    return { options: parse(args) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${command}: ${error.message}\n${usage}`);
    return { exitCode: 2 };
  }
}
