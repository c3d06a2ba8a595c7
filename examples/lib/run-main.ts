/** How every example ends: its exit code from `main`, or one coded error line. */

/**
 * Runs `main` and sets `process.exitCode` to what it resolves to; a rejection
 * prints `<label>: <code or 'error'>: <message>` on stderr and exits 1.
 */
export function runMain(label: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const err = e as { code?: string; message?: string };
      console.error(`${label}: ${err.code ?? 'error'}: ${err.message ?? String(e)}`);
      process.exitCode = 1;
    },
  );
}
