/**
 * `npm test` ends by repeating every failure (scripts/tap-failures.mjs), since
 * a CI page may keep only the end of a 7,000-test log. Specified here on TAP
 * logs shaped like tap 21's: a failed assertion inside nested subtests is
 * printed once with its path and diagnostic, the "not ok" lines of the subtests
 * around it are not repeated, and a file that failed without any failed
 * assertion (a crash, a timeout) is printed with the file's own diagnostic.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/tap-failures.mjs', import.meta.url));

function failuresOf(log: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-tap-failures-'));
  try {
    writeFileSync(join(dir, 'log'), log);
    return execFileSync(process.execPath, [SCRIPT, join(dir, 'log')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NESTED = `TAP version 14
1..2
# Subtest: a.test.js
    # Subtest: outer
        # Subtest: inner
            not ok 1 - one is two
              ---
              compare: ===
              diff: |
                -2
                +1
              ...
            
            ok 2 - should be equal
            1..2
        not ok 1 - inner # time=25.655ms
          ---
          at:
            lineNumber: 3
          ...
        
        ok 2 - fine
        1..2
    not ok 1 - outer # time=32.154ms
      ---
      at:
        lineNumber: 2
      ...
    
    1..1
not ok 1 - a.test.js # time=42.546ms
  ---
  exitCode: 1
  ...

# Subtest: b.test.js
    # Subtest: hangs
        ok 1 - started
        1..1
    ok 1 - hangs # time=1ms
    
not ok 2 - b.test.js # time=180000ms
  ---
  signal: SIGTERM
  expired: TAP
  ...

# { total: 5, pass: 3, fail: 2 }
`;

t.test('a nested failure is printed once, with its subtest path and diagnostic', async (t) => {
  const out = failuresOf(NESTED);
  t.match(out, /failed \(2\):/);
  t.match(out, /a\.test\.js > outer > inner > not ok 1 - one is two\n {6}compare: ===\n {6}diff: \|\n {8}-2\n {8}\+1\n/);
  t.notMatch(out, /not ok 1 - inner/, 'the enclosing subtest is not repeated');
  t.notMatch(out, /not ok 1 - outer/);
  t.notMatch(out, /not ok 1 - a\.test\.js/, 'nor the file');
});

t.test('a file that failed with no failed assertion is printed with its own diagnostic', async (t) => {
  const out = failuresOf(NESTED);
  t.match(out, /\n {2}not ok 2 - b\.test\.js # time=180000ms\n {6}signal: SIGTERM\n {6}expired: TAP\n/);
});

t.test('a passing log prints nothing; skipped and todo lines are not failures', async (t) => {
  t.equal(failuresOf('TAP version 14\n1..1\nok 1 - a.test.js\n# { total: 1, pass: 1, fail: 0 }\n'), '');
  t.equal(failuresOf('TAP version 14\n1..2\nnot ok 1 - later # TODO\nnot ok 2 - not here # SKIP\n'), '');
});

t.test('a long diagnostic is cut, saying how much was left out', async (t) => {
  const body = Array.from({ length: 50 }, (_, i) => `  line${i}: ${i}`).join('\n');
  const out = failuresOf(`TAP version 14\n1..1\nnot ok 1 - big\n  ---\n${body}\n  ...\n`);
  t.match(out, /line39: 39\n {6}… 10 more diagnostic lines\n/);
  t.notMatch(out, /line40/);
});
