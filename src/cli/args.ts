/**
 * Command-line arguments, with node:util's parseArgs: strict (an unknown option, a missing
 * value or a stray argument is a {@link UsageError}, exit 2), plus the checks of the values
 * the commands share.
 *
 * @internal
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './output.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

/** `--help` / `-h`, which every command takes. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpec;

/** `--profile` and `--role-arn`, for the commands that resolve credentials. */
export const IDENTITY_OPTIONS = {
  profile: { type: 'string' },
  'role-arn': { type: 'string' },
} as const satisfies OptionSpec;

/**
 * Parses `argv` (the words after the command) against `options` (`--help` added). No
 * positional arguments are taken. parseArgs's own error messages become usage errors.
 */
export function parseCommandArgs(argv: readonly string[], options: OptionSpec): Values {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(clip(parsed.positionals[0]!))}`);
  }
  const values: Values = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) throw new UsageError(`--${name} is given more than once`);
    values[name] = value;
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' && value.trim() === '') throw new UsageError(`--${name} needs a value`);
  }
  return values;
}

/** parseArgs's message, shortened to its first sentence and without its hint about `--`. */
function usageMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const option = /'(-{1,2}[^']*)'/.exec(raw)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${clip(option)}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /argument missing/.test(raw) ? `${clip(option.split(' ')[0]!)} needs a value` : `${clip(option.split(' ')[0]!)} takes no value`;
  }
  return clip(raw.split('. ')[0] ?? raw, 200);
}

/** A user's word, cut for an error message. */
function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A string option's value, if given. */
export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

/** `--port`: an integer 0..65535 (0: any free port). */
export function portOption(values: Values, fallback: number): number {
  const raw = stringOption(values, 'port');
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`--port must be a number from 0 to 65535, not ${JSON.stringify(clip(raw))}`);
  return Number(raw);
}

/** An option that takes one of `choices`. */
export function choiceOption<T extends string>(values: Values, name: string, choices: readonly T[], fallback: T): T {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const found = choices.find((c) => c === raw.toLowerCase());
  if (found === undefined) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(clip(raw))}`);
  return found;
}
