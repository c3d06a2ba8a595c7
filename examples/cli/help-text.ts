/** The `--help` texts (global and per command) and `--version`. */
import { readFileSync } from 'node:fs';
import { formatOptions } from './arg-parser.js';
import type { Command } from './command.js';
import { EXIT_RUNTIME, EXIT_USAGE } from './cli-error.js';

/** The version of the package the CLI ships in (`examples/package.json`). */
export function cliVersion(): string {
  // dist/cli/help-text.js -> examples/package.json
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `tunpipe --help`. */
export function globalHelp(commands: readonly Command<unknown>[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'tunpipe: TUN/TAP devices from the command line',
    '',
    'usage: tunpipe <command> [options]     tunpipe <command> --help     tunpipe --version',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Common options: --stats-interval MS, --json, --help. Needs CAP_NET_ADMIN (root).',
    `Exit status: 0 ok (also after SIGINT/SIGTERM), ${EXIT_RUNTIME} runtime error, ${EXIT_USAGE} usage error (nothing created).`,
    'Errors are one line on stderr: `tunpipe: ERR_TUN_<CODE>: message`.',
  ].join('\n');
}

/** `tunpipe <command> --help`. */
export function commandHelp(command: Command<unknown>): string {
  return [`usage: tunpipe ${command.synopsis}`, '', command.description, '', 'options:', formatOptions(command.options)].join('\n');
}
