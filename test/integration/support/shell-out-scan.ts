/**
 * Finds ways to start other programs in JavaScript source: the check behind "no
 * shell-outs in the libraries" (issue #8). Libraries configure devices through
 * ioctls and rtnetlink; a child process built from user strings (a device name,
 * an address) would be a command-injection hole, and any child process at all
 * would inherit the process's privileges.
 *
 * What counts (each a rule below): loading `child_process` in any form; the
 * functions that module exports, by name; reaching the process-spawning bindings
 * directly (`process.binding`); declaring libc's process starters (system, popen,
 * exec*, posix_spawn, fork) through koffi. Method calls such as `regex.exec(s)` or
 * `this.spawn(...)`, and method definitions named spawn/exec, are not shell-outs.
 */

/** One hit. */
export interface ShellOutFinding {
  /** Which rule matched. */
  rule: string;
  /** 1-based line number. */
  line: number;
  /** The matching text. */
  text: string;
}

/** The rules: a name and a pattern applied to each line. */
export const SHELL_OUT_RULES: ReadonlyArray<{ rule: string; pattern: RegExp }> = [
  // import ... from 'node:child_process', require("child_process"), import('child_process')
  { rule: 'child_process module', pattern: /['"](?:node:)?child_process['"]/ },
  { rule: 'child_process function', pattern: /\b(?:execSync|execFileSync|spawnSync|execFile)\b/ },
  // A bare call (destructured import): not `.exec(` / `.spawn(`, not part of a longer name.
  { rule: 'bare exec/spawn/fork call', pattern: /(?<![.\w$#])(?:exec|spawn|fork)\s*\((?![^)]*\)\s*\{)/ },
  { rule: 'process binding', pattern: /\bprocess\s*\.\s*(?:binding|_linkedBinding)\s*\(/ },
  { rule: 'libc process starter', pattern: /\.func\(\s*['"`][^'"`]*\b(?:system|popen|execl[ep]?|execv(?:p|e|pe)?|fexecve|posix_spawnp?|v?fork|clone3?)\s*\(/ },
];

/** Every rule hit in `source`, line by line. */
export function findShellOuts(source: string): ShellOutFinding[] {
  const findings: ShellOutFinding[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const { rule, pattern } of SHELL_OUT_RULES) {
      const m = pattern.exec(line);
      if (m !== null) findings.push({ rule, line: i + 1, text: line.trim().slice(0, 160) });
    }
  }
  return findings;
}
