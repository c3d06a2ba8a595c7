/**
 * What a subcommand is: its option table, a `plan` step that validates the whole
 * command line (and creates nothing), and a `run` step that does the work and
 * resolves with the exit status. The options every command shares are here too.
 */
import { integerOption, type OptionSpec, type ParsedArgs } from './arg-parser.js';
import type { StatsOutput } from './live-stats.js';

/** Streams and environment a command runs with (process.* in the CLI). */
export interface CliIo {
  stdout: StatsOutput;
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** A subcommand. */
export interface Command<Plan> {
  name: string;
  /** Synopsis after `tunpipe` (`up [--name N] ...`). */
  synopsis: string;
  /** One line for the global help. */
  summary: string;
  /** Paragraphs shown in the command's help after the synopsis. */
  description: string;
  options: readonly OptionSpec[];
  /** Validates the command line; throws coded errors (exit 2); creates nothing. */
  plan(args: ParsedArgs, io: CliIo): Plan;
  /** Runs; resolves with the exit status; throws coded errors (exit 1). */
  run(plan: Plan, io: CliIo): Promise<number>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'stats-interval', kind: 'value', placeholder: 'MS', help: 'statistics every MS ms, 50..60000 (default 1000 on a terminal; off otherwise)' },
  { name: 'json', kind: 'flag', help: 'machine-readable output: one JSON object per line' },
  { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
];

/** How a command reports: JSON lines or text, and its statistics interval. */
export interface OutputPlan {
  json: boolean;
  intervalMs: number;
  intervalGiven: boolean;
}

/** Reads `--json` and `--stats-interval`. */
export function planOutput(args: ParsedArgs): OutputPlan {
  return {
    json: args.flags.has('json'),
    intervalMs: integerOption(args, 'stats-interval', 50, 60_000, 1000),
    intervalGiven: args.values.has('stats-interval'),
  };
}

/** Writes an event: a JSON line `{event, ...fields}` with --json, else `text` (when given). */
export function report(io: CliIo, output: OutputPlan, event: string, fields: Record<string, unknown>, text?: string): void {
  if (output.json) io.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
  else if (text !== undefined) io.stdout.write(`${text}\n`);
}
