/**
 * The CLI's entry: picks the command, parses and validates the whole command
 * line (errors exit 2, nothing created), runs it (errors exit 1), and prints
 * every error as one line with its code.
 */
import { parseArgs } from './arg-parser.js';
import { CliErrorCode, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, formatError, usage } from './cli-error.js';
import type { CliIo, Command } from './command.js';
import { captureCommand } from './capture-command.js';
import { echoCommand } from './echo-command.js';
import { cliVersion, commandHelp, globalHelp } from './help-text.js';
import { relayCommand } from './relay-command.js';
import { upCommand } from './up-command.js';

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command<unknown>[] = [upCommand, captureCommand, relayCommand, echoCommand] as Command<unknown>[];

/** What a command line asks for: an exit status now (help, version) or a command with its validated plan. */
export type CommandLine = { exit: number } | { command: Command<unknown>; plan: unknown };

/**
 * Picks the command and parses and validates the whole command line (help and
 * version are printed here); throws coded errors (usage, exit 2); creates nothing.
 */
export function readCommandLine(argv: readonly string[], io: CliIo): CommandLine {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === undefined) {
      io.stderr.write(`${globalHelp(COMMANDS)}\n`);
      return { exit: EXIT_USAGE };
    }
    io.stdout.write(`${globalHelp(COMMANDS)}\n`);
    return { exit: EXIT_OK };
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`tunpipe ${cliVersion()}\n`);
    return { exit: EXIT_OK };
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) usage(CliErrorCode.UNKNOWN_COMMAND, `unknown command '${first}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
  const args = parseArgs(argv.slice(1), command.options);
  if (args.flags.has('help')) {
    io.stdout.write(`${commandHelp(command)}\n`);
    return { exit: EXIT_OK };
  }
  return { command, plan: command.plan(args, io) };
}

/** Runs `tunpipe argv...` and resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  let line: CommandLine;
  try {
    line = readCommandLine(argv, io);
  } catch (e) {
    io.stderr.write(`${formatError(e)}\n`);
    return EXIT_USAGE;
  }
  if ('exit' in line) return line.exit;
  try {
    return await line.command.run(line.plan, io);
  } catch (e) {
    io.stderr.write(`${formatError(e)}\n`);
    return EXIT_RUNTIME;
  }
}
