/**
 * dropPrivileges / processCredentials. Argument errors are checked in this
 * process (nothing may change); the drop itself runs in child processes
 * (`support/drop-child.ts`), with /proc/<pid>/task/<tid>/status as the oracle for
 * every thread and `setpriv` to start a child that is not root.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropPrivileges, processCredentials, type ProcessCredentials } from '../src/privileges.js';
import type { TaskIds } from './support/drop-child.js';

const CHILD = fileURLToPath(new URL('./support/drop-child.js', import.meta.url));
/** Unused ids (no account needed for setresuid). */
const UID = 64123;
const GID = 64123;
const EXTRA_GROUP = 64125;
const EPERM = 1;

interface ChildReport {
  ok: boolean;
  creds?: ProcessCredentials;
  tasks?: TaskIds[];
  regain?: { ret: number; errno: number };
  error?: { code: string; errno?: number; syscall?: string; sysCode?: string; message: string };
}

function runChild(options: unknown, prefix: string[] = []): ChildReport {
  const argv = [...prefix, process.execPath, CHILD, JSON.stringify(options)];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`child exited ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildReport;
}

function rootReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (CAP_SETUID/CAP_SETGID) to drop privileges';
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0) return 'needs setpriv (util-linux)';
  return null;
}

t.test('processCredentials reports what process.get*id report', async (t) => {
  const c = processCredentials();
  t.equal(c.uid.real, process.getuid!());
  t.equal(c.uid.effective, process.geteuid!());
  t.equal(c.gid.real, process.getgid!());
  t.equal(c.gid.effective, process.getegid!());
  // Node's getgroups() adds the effective gid when the kernel's list lacks it.
  const node = new Set(process.getgroups!());
  node.delete(process.getegid!());
  t.same(c.groups.filter((g) => g !== process.getegid!()), [...node].sort((a, b) => a - b));
  t.equal(typeof c.noNewPrivileges, 'boolean');
});

t.test('bad options are refused before any id changes', async (t) => {
  const before = processCredentials();
  const cases: Array<[string, unknown]> = [
    ['no options', undefined],
    ['uid missing', { gid: GID }],
    ['gid missing', { uid: UID }],
    ['negative uid', { uid: -1, gid: GID }],
    ['uid (uid_t)-1, which means "unchanged"', { uid: 0xffffffff, gid: GID }],
    ['fractional gid', { uid: UID, gid: 1.5 }],
    ['uid as a string', { uid: '64123', gid: GID }],
    ['groups not an array', { uid: UID, gid: GID, groups: 5 }],
    ['a bad group', { uid: UID, gid: GID, groups: [1, -2] }],
    ['noNewPrivileges not a boolean', { uid: UID, gid: GID, noNewPrivileges: 'yes' }],
  ];
  for (const [name, options] of cases) {
    t.throws(() => dropPrivileges(options as never), { code: 'ERR_TUN_INVALID_ARGUMENT' }, name);
  }
  t.same(processCredentials(), before, 'credentials unchanged');
});

t.test('root drops to uid/gid on every thread, for good', async (t) => {
  const reason = rootReason();
  if (reason !== null) return void t.plan(0, `skipped: ${reason}`);
  const r = runChild({ uid: UID, gid: GID, groups: [EXTRA_GROUP] });
  t.ok(r.ok, r.error?.message ?? 'dropPrivileges returned');
  t.same(r.creds, {
    uid: { real: UID, effective: UID, saved: UID },
    gid: { real: GID, effective: GID, saved: GID },
    groups: [EXTRA_GROUP],
    noNewPrivileges: true,
  }, 'returned credentials: all three ids, only the given groups, no_new_privs');
  t.ok(r.tasks!.length >= 2, `${r.tasks!.length} threads (the main thread, the parked worker, V8 and libuv threads)`);
  for (const task of r.tasks!) {
    t.equal(task.uid, `${UID}\t${UID}\t${UID}\t${UID}`, `thread ${task.tid}: real, effective, saved, fs uid`);
    t.equal(task.gid, `${GID}\t${GID}\t${GID}\t${GID}`, `thread ${task.tid}: gids`);
    t.equal(task.groups, `${EXTRA_GROUP}`, `thread ${task.tid}: groups`);
  }
  t.same(r.regain, { ret: -1, errno: EPERM }, 'setresuid(0, 0, 0) afterwards fails with EPERM');
});

t.test('noNewPrivileges: false leaves no_new_privs alone', async (t) => {
  const reason = rootReason();
  if (reason !== null) return void t.plan(0, `skipped: ${reason}`);
  const r = runChild({ uid: UID, gid: GID, noNewPrivileges: false });
  t.ok(r.ok, r.error?.message ?? 'dropPrivileges returned');
  t.equal(r.creds?.noNewPrivileges, false);
  t.same(r.creds?.groups, [], 'groups default to none');
});

t.test('an unprivileged process cannot drop to another user: coded EPERM from setgroups', async (t) => {
  const reason = rootReason();
  if (reason !== null) return void t.plan(0, `skipped: ${reason}`);
  const r = runChild({ uid: UID + 1, gid: GID + 1 }, ['setpriv', `--reuid=${UID}`, `--regid=${GID}`, '--clear-groups']);
  t.notOk(r.ok, 'refused');
  t.match(r.error, { code: 'ERR_TUN_PRIVILEGES', errno: EPERM, syscall: 'setgroups', sysCode: 'EPERM' });
});
