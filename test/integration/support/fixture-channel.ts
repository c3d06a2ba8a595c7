/**
 * The fixture side of `JsonLineChild`: print reports as JSON lines, take commands
 * from stdin lines, and never outlive the test (stdin closing, or a deadline,
 * ends the process).
 */
import { TunError } from '@tunpipe/core';

/** A TunError as plain data (what the tests assert on). */
export interface ErrorReport {
  code: string;
  errno: number | undefined;
  syscall: string | undefined;
  sysCode: string | undefined;
  message: string;
}

/** Prints one report line. */
export function report(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** A thrown value as an ErrorReport (non-TunErrors get code 'NOT_A_TUN_ERROR'). */
export function errorReport(e: unknown): ErrorReport {
  if (e instanceof TunError) return { code: e.code, errno: e.errno, syscall: e.syscall, sysCode: e.sysCode, message: e.message };
  return { code: 'NOT_A_TUN_ERROR', errno: undefined, syscall: undefined, sysCode: undefined, message: String(e) };
}

/** Runs `fn` for each command line on stdin; exits with status 3 when stdin closes, or 4 after `deadlineMs`. */
export function listen(fn: (command: string) => void, deadlineMs = 60_000): void {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (s: string) => {
    buffered += s;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line !== '') fn(line);
    }
  });
  process.stdin.on('end', () => process.exit(3));
  setTimeout(() => {
    report('deadline');
    process.exit(4);
  }, deadlineMs).unref();
}
