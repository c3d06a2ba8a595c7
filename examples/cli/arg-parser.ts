/**
 * A small command-line parser (no dependency): long options `--name value` or
 * `--name=value`, short aliases `-w value`, boolean flags, repeatable options,
 * `--` ends the options. It knows nothing about meanings: each command gives an
 * option table and validates the values itself.
 */
import { CliErrorCode, usage } from './cli-error.js';

/** How one option is written and what it takes. */
export interface OptionSpec {
  /** Long name without dashes (`stats-interval`). */
  name: string;
  /** One-letter alias without the dash (`w`). */
  short?: string;
  /** `flag`: no value; `value`: one value (the last one wins); `list`: repeatable. */
  kind: 'flag' | 'value' | 'list';
  /** Placeholder shown in help (`MS`, `FILE`). */
  placeholder?: string;
  /** One line of help. */
  help: string;
}

/** What the parser found: flags as booleans, values as strings, lists as arrays, and the operands. */
export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  operands: string[];
}

/** Splits `argv` by `specs`; unknown options and missing values are usage errors. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short!, s]));
  const out: ParsedArgs = { flags: new Set(), values: new Map(), lists: new Map(), operands: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.operands.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      spec = byLong.get(name);
      if (spec === undefined) usage(CliErrorCode.UNKNOWN_OPTION, `unknown option --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg.slice(1, 2));
      if (spec === undefined) usage(CliErrorCode.UNKNOWN_OPTION, `unknown option ${arg.slice(0, 2)}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      out.operands.push(arg);
      continue;
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) usage(CliErrorCode.USAGE, `--${spec.name} takes no value`);
      out.flags.add(spec.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next.length > 1 && !/^-\d/.test(next))) {
        usage(CliErrorCode.USAGE, `--${spec.name} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ''}`);
      }
      value = next;
      i++;
    }
    if (spec.kind === 'value') out.values.set(spec.name, value);
    else out.lists.set(spec.name, [...(out.lists.get(spec.name) ?? []), value]);
  }
  return out;
}

/** An integer option in `[min, max]`, or `fallback` when absent. */
export function integerOption(args: ParsedArgs, name: string, min: number, max: number, fallback: number): number {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    usage(CliErrorCode.INVALID_ARGUMENT, `--${name} must be an integer from ${min} to ${max}, not '${raw}'`);
  }
  return Number(raw);
}

/** One of `choices`, or `fallback` when absent. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    usage(CliErrorCode.INVALID_ARGUMENT, `--${name} must be one of ${choices.join(', ')}, not '${raw}'`);
  }
  return raw as T;
}

/** Help lines for an option table, aligned. */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'flag' ? '' : ` ${s.placeholder ?? 'VALUE'}`}`);
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs.map((s, i) => `  ${heads[i]!.padEnd(width)}${s.help}${s.kind === 'list' ? ' (repeatable)' : ''}`).join('\n');
}
