/**
 * The one error type of tunpipe. Every package throws `TunError` with a stable
 * `code` (`ERR_TUN_*`); errors that come from a failed system call also carry
 * `errno` (positive, as in C), `syscall` and `sysCode` (the errno name, e.g. `EBUSY`).
 *
 * It lives in @tunpipe/offload because that is the bottom layer: every other
 * package depends on it, and `instanceof TunError` works across all of them.
 */

/** Stable error codes. Tests and users match on these, never on messages. */
export type TunErrorCode = `ERR_TUN_${string}`;

/** Extra fields a TunError may carry. */
export interface TunErrorDetails {
  /** errno of the failed system call (positive). */
  errno?: number;
  /** Name of the failed system call (`ioctl(TUNSETIFF)`, `open`, `sendmsg(RTM_NEWADDR)`...). */
  syscall?: string;
  /** Underlying error. */
  cause?: unknown;
}

/** The error type of every tunpipe package. */
export class TunError extends Error {
  /** Stable code, `ERR_TUN_*`. */
  readonly code: TunErrorCode;
  /** errno of the failed system call, when the error came from one. */
  readonly errno?: number;
  /** The failed system call, when the error came from one. */
  readonly syscall?: string;
  /** The errno name (`EBUSY`, `EPERM`...), when the error came from a system call. */
  readonly sysCode?: string;

  constructor(code: TunErrorCode, message: string, details: TunErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TunError';
    this.code = code;
    if (details.errno !== undefined) {
      this.errno = details.errno;
      this.sysCode = errnoName(details.errno);
    }
    if (details.syscall !== undefined) this.syscall = details.syscall;
  }
}

/** True when `err` is a TunError, optionally with the given code. */
export function isTunError(err: unknown, code?: TunErrorCode): err is TunError {
  return err instanceof TunError && (code === undefined || err.code === code);
}

// errno → name, built once from the table Node ships (os.constants.errno) without
// importing node:os, so this package stays usable wherever Uint8Array is.
let errnoNames: Map<number, string> | undefined;

/** The symbolic name of an errno value (`16` → `EBUSY`), or `E<n>` when unknown. */
export function errnoName(errno: number): string {
  if (errnoNames === undefined) {
    errnoNames = new Map();
    const table = (globalThis as { process?: { binding?: unknown } }).process
      ? (loadErrnoTable() ?? {})
      : {};
    for (const [name, value] of Object.entries(table)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(errno) ?? `E${errno}`;
}

function loadErrnoTable(): Record<string, number> | undefined {
  // process.getBuiltinModule is Node >= 20.16; fall back to nothing elsewhere.
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process?.getBuiltinModule;
  const os = getBuiltin?.('node:os') as { constants?: { errno?: Record<string, number> } } | undefined;
  return os?.constants?.errno;
}
