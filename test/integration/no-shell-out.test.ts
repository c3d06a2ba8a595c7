/**
 * No shell-outs in the libraries (issue #8, security): the BUILT library code of
 * every package (packages/<pkg>/dist/src/**.js, what users run; tests, examples
 * and benchmarks excluded) never starts another program. The scanner itself is
 * checked first on a table of sources it must and must not flag, so that this
 * test would fail if someone added a shell-out.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findShellOuts } from './support/shell-out-scan.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Every package of the workspace (a new one is scanned too); these four at least. */
const KNOWN = ['offload', 'core', 'linux-mq', 'streams'];

function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...jsFiles(path));
    else if (entry.name.endsWith('.js')) out.push(path);
  }
  return out;
}

t.test('the scanner flags every way to start a program, and nothing else', async (t) => {
  const flagged: Array<[string, string]> = [
    ["import { spawn } from 'node:child_process';", 'child_process module'],
    ['const cp = require("child_process");', 'child_process module'],
    ["const { exec } = await import('child_process');", 'child_process module'],
    ["execSync(`ip link set ${name} up`);", 'child_process function'],
    ["cp.execFile('ip', ['link']);", 'child_process function'],
    ["const r = spawnSync('ip', args);", 'child_process function'],
    ['    exec(`ping ${address}`, cb);', 'bare exec/spawn/fork call'],
    ["    const child = spawn('tcpdump', ['-i', dev]);", 'bare exec/spawn/fork call'],
    ["fork('./worker.js');", 'bare exec/spawn/fork call'],
    ["process.binding('spawn_sync').spawn(options);", 'process binding'],
    ["system: libc.func('int system(const char *cmd)'),", 'libc process starter'],
    ["libc.func('void *popen(const char *cmd, const char *mode)')", 'libc process starter'],
    ["libc.func('int execve(const char *p, void *argv, void *envp)')", 'libc process starter'],
    ["libc.func('int posix_spawnp(void *pid, const char *file, void *a, void *b, void *c, void *d)')", 'libc process starter'],
    ["libc.func('int fork(void)')", 'libc process starter'],
  ];
  for (const [source, rule] of flagged) {
    const rules = findShellOuts(source).map((f) => f.rule);
    t.ok(rules.includes(rule), `${rule}: ${source}`);
  }
  const clean = [
    'const m = /^tp-(\\d+)$/.exec(name);',
    'const m = TESTKIT_NAME.exec(name);',
    'const ready = all.map((s) => this.spawn(s, peers, allowed));',
    '    spawn(s, peers, allowed) {',
    '    #spawn(q) {',
    '// a child process\'s stdio can be wrapped too',
    "open: libc.func('int open(const char *path, int flags, int mode)'),",
    "libc.func('int ioctl(int fd, unsigned long request, ...)')",
    'const worker = new Worker(url, { workerData });',
  ];
  for (const source of clean) t.same(findShellOuts(source), [], `leaves alone: ${source}`);
  t.match(findShellOuts('line one\nline two\nexecSync("x")'), [{ line: 3 }], 'reports the line number');
});

t.test('no library package starts programs (built packages/*/dist/src)', async (t) => {
  let files = 0;
  const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const pkg of KNOWN) t.ok(packages.includes(pkg), `packages/${pkg} exists`);
  for (const pkg of packages) {
    const dir = join(ROOT, 'packages', pkg, 'dist', 'src');
    t.ok(statSync(dir, { throwIfNoEntry: false })?.isDirectory(), `${relative(ROOT, dir)} is built`);
    const list = statSync(dir, { throwIfNoEntry: false }) === undefined ? [] : jsFiles(dir);
    t.ok(list.length >= 5, `${pkg}: ${list.length} built files scanned`);
    files += list.length;
    for (const file of list) {
      const findings = findShellOuts(readFileSync(file, 'utf8'));
      t.same(findings, [], relative(ROOT, file));
    }
  }
  t.ok(files >= 50, `${files} files scanned in all`);
});
