/**
 * The CLI's error codes and exit statuses. Every failure ends as ONE stderr line
 * `tunpipe: ERR_TUN_...: message`; the exit status says whose fault it was:
 * 2 = usage (bad command line, nothing was created), 1 = runtime (the system refused).
 */
import { TunError, isTunError } from '@tunpipe/core';

/** Exit status of a successful run (also after a clean SIGINT/SIGTERM shutdown). */
export const EXIT_OK = 0;
/** Exit status of a runtime failure: the command line was valid, the system said no. */
export const EXIT_RUNTIME = 1;
/** Exit status of a usage error: detected before anything was created. */
export const EXIT_USAGE = 2;

/** Codes the CLI itself throws (device and address codes come from @tunpipe/core). */
export const CliErrorCode = {
  /** No command, or a command that does not exist. */
  UNKNOWN_COMMAND: 'ERR_TUN_UNKNOWN_COMMAND',
  /** An option the command does not know. */
  UNKNOWN_OPTION: 'ERR_TUN_UNKNOWN_OPTION',
  /** An option given without its value, a required option or operand missing, or too many operands. */
  USAGE: 'ERR_TUN_USAGE',
  /** A value outside its domain: queue count, packet count, interval, mode. */
  INVALID_ARGUMENT: 'ERR_TUN_INVALID_ARGUMENT',
  /** `capture`/`echo`: the named device cannot be shared as it is (see README, "attaching"). */
  DEVICE_BUSY: 'ERR_TUN_DEVICE_BUSY',
} as const;

/** Throws the TunError `code`; thrown while the command line is read, it exits with status 2. */
export function usage(code: string, message: string): never {
  throw new TunError(code as `ERR_TUN_${string}`, message);
}

/** The one line printed for `e`. */
export function formatError(e: unknown): string {
  if (isTunError(e)) {
    const sys = e.sysCode !== undefined && !e.message.includes(e.sysCode) ? ` (${e.sysCode})` : '';
    const hint = e.sysCode === 'EPERM' || e.sysCode === 'EACCES' ? '; tunpipe needs CAP_NET_ADMIN: run it as root' : '';
    return `tunpipe: ${e.code}: ${oneLine(e.message)}${sys}${hint}`;
  }
  const err = e as { message?: unknown };
  return `tunpipe: ERR_TUN_INTERNAL: ${oneLine(typeof err?.message === 'string' ? err.message : String(e))}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ');
}
