/**
 * The CLI's small framework: a command declares its options once; parsing, `--help` text and usage errors
 * all come from that declaration. Commands stay thin: parse, call one library function, print.
 */
import { parseArgs } from 'node:util';
import type { HealbertError } from '../errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help as `--name <valueName>`. */
  valueName?: string;
  /** Shown in help; the command applies defaults itself so that library defaults stay in one place. */
  defaultText?: string;
  /**
   * The command refuses to run without this option. Declared here so that tools (the docs test) know it; the
   * command itself still checks, with its own message.
   */
  required?: boolean;
}

export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  io: CliIO;
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. '<model-dir>'. */
  args?: string;
  positionals?: { min: number; max: number };
  description?: string;
  examples?: string[];
  options: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<number | undefined>;
}

/** Bad command-line usage: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {}

export function helpText(command: Command): string {
  const lines = [`Usage: healbert ${command.name}${command.args ? ` ${command.args}` : ''} [options]`, '', command.summary];
  if (command.description) lines.push('', command.description);
  const rows: [string, string][] = [];
  for (const [name, spec] of Object.entries({ ...command.options, help: helpOption })) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : ''}`;
    rows.push([flag, spec.description + (spec.defaultText ? ` (default: ${spec.defaultText})` : '')]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length));
  lines.push('', 'Options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`));
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** A command's options (and --help) in the form node:util's parseArgs takes: what the command line accepts. */
export function parseArgsOptions(command: Command): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries({ ...command.options, help: helpOption })) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  return options;
}

export function parseCommandArgs(command: Command, argv: string[]): Omit<CommandContext, 'io' | 'signal'> & { help: boolean } {
  const options = parseArgsOptions(command);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values = parsed.values as CommandContext['values'];
  const help = values.help === true;
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (!help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    const expected = command.args ? `expected ${command.args}` : 'expected no positional arguments';
    throw new UsageError(
      `${expected}, got ${parsed.positionals.length === 0 ? 'none' : parsed.positionals.map((p) => `'${p}'`).join(' ')}`,
    );
  }
  return { values, positionals: parsed.positionals, help };
}

/** A string option, or undefined. */
export function stringOption(values: CommandContext['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A --layers/--heads/--neurons value as a spec selector: "3" -> 3, "1,4-5" -> [1, "4-5"]; undefined when absent. */
export function selectorOption(value: string | undefined): number | string | (number | string)[] | undefined {
  const items = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  if (!items || items.length === 0) return undefined;
  return items.length === 1 ? (items[0] as number | string) : items;
}

/** A string option that must be given. */
export function requiredOption(values: CommandContext['values'], name: string): string {
  const value = stringOption(values, name);
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

/** A numeric option checked against bounds; `integer` rejects fractions. */
export function numberOption(
  values: CommandContext['values'],
  name: string,
  bounds: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = bounds.integer ? 'an integer' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(value) || (bounds.integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${kind}, got '${raw}'`);
  }
  if ((bounds.min !== undefined && value < bounds.min) || (bounds.max !== undefined && value > bounds.max)) {
    throw new UsageError(`--${name} must be ${kind} in [${bounds.min ?? '-inf'}, ${bounds.max ?? 'inf'}], got ${raw}`);
  }
  return value;
}

/** Formats an error for the terminal: code first so scripts can grep it, then the message. */
export function formatError(commandName: string, error: unknown): string {
  if (error instanceof UsageError) {
    return `healbert ${commandName}: ${error.message}\nRun 'healbert ${commandName} --help' for usage.\n`;
  }
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return `healbert ${commandName}: error [${(error as HealbertError).code}]: ${error.message}\n`;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `healbert ${commandName}: unexpected error (a bug; please report it):\n${text}\n`;
}
