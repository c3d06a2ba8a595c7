/**
 * `tunpipe` as a child process: help, version, and every kind of bad command line
 * rejected with its code on ONE stderr line, exit status 2, and nothing created
 * (`ip link` of the namespace it ran in unchanged). Runtime refusals exit 1.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createNetns, requireNetAdmin } from '@tunpipe/testkit';
import { CLI_MAIN, STARTUP, linkNames, runTunpipe, runTunpipeIn, startTunpipe } from './cli-process.js';
import { parseArgs } from './arg-parser.js';
import { formatError } from './cli-error.js';
import type { CliIo } from './command.js';
import { readCommandLine } from './run-cli.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

t.test('--version prints the package version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const r = await runTunpipe([flag]);
    t.equal(r.code, 0, `${flag} exits 0`);
    t.equal(r.stdout, `tunpipe ${version}\n`);
  }
});

t.test('--help: global and per command', async (t) => {
  const global = await runTunpipe(['--help']);
  t.equal(global.code, 0);
  for (const c of ['up', 'capture', 'relay', 'echo']) t.match(global.stdout, new RegExp(`^  ${c} +\\S`, 'm'), `lists ${c}`);
  t.match(global.stdout, /1 runtime error, 2 usage error/);
  const none = await runTunpipe([]);
  t.equal(none.code, 2, 'no command: usage, exit 2');
  t.match(none.stderr, /usage: tunpipe <command>/);
  const perCommand: Array<[string, RegExp]> = [
    ['up', /--addr CIDR .*repeatable/],
    ['capture', /-w, --write FILE/],
    ['relay', /--mode keep\|split/],
    ['echo', /--dev NAME/],
  ];
  for (const [c, option] of perCommand) {
    const r = await runTunpipe([c, '--help']);
    t.equal(r.code, 0, `${c} --help exits 0`);
    t.match(r.stdout, new RegExp(`^usage: tunpipe ${c} `), `${c} synopsis`);
    t.match(r.stdout, option, `${c} documents its options`);
    t.match(r.stdout, /--stats-interval MS/);
    t.match(r.stdout, /--json/);
  }
});

t.test('the argument parser', async (t) => {
  const specs = [
    { name: 'addr', kind: 'list', help: '' },
    { name: 'write', short: 'w', kind: 'value', help: '' },
    { name: 'json', kind: 'flag', help: '' },
  ] as const;
  const a = parseArgs(['x', '--addr', '198.18.0.1/24', '--addr=fd00::1/64', '-w', 'f.pcap', '--json', '--', '--not-an-option'], specs);
  t.same(a.operands, ['x', '--not-an-option']);
  t.same(a.lists.get('addr'), ['198.18.0.1/24', 'fd00::1/64']);
  t.equal(a.values.get('write'), 'f.pcap');
  t.ok(a.flags.has('json'));
  t.equal(parseArgs(['-wout.pcap'], specs).values.get('write'), 'out.pcap', 'short option with attached value');
  t.throws(() => parseArgs(['--addr'], specs), { code: 'ERR_TUN_USAGE' });
  t.throws(() => parseArgs(['--addr', '--json'], specs), { code: 'ERR_TUN_USAGE' }, 'an option is not a value');
  t.throws(() => parseArgs(['--nope'], specs), { code: 'ERR_TUN_UNKNOWN_OPTION' });
  t.throws(() => parseArgs(['-x'], specs), { code: 'ERR_TUN_UNKNOWN_OPTION' });
  t.throws(() => parseArgs(['--json=1'], specs), { code: 'ERR_TUN_USAGE' });
});

/** Command lines that must be refused before anything is created: [argv, code]. */
const BAD: Array<[string[], string]> = [
  [['frob'], 'ERR_TUN_UNKNOWN_COMMAND'],
  [['up', '--bogus'], 'ERR_TUN_UNKNOWN_OPTION'],
  [['up', '-x'], 'ERR_TUN_UNKNOWN_OPTION'],
  [['up', '--name'], 'ERR_TUN_USAGE'],
  [['up', '--json=yes'], 'ERR_TUN_USAGE'],
  [['up', 'extra'], 'ERR_TUN_USAGE'],
  [['up', '--name', 'tp-name-too-long0'], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name', 'tp/0'], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name', 'tp 0'], 'ERR_TUN_INVALID_NAME'],
  [['up', '--addr', '198.18.0.300/24'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', 'fd00::zz/64'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', '198.18.0.1/33'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', 'fd00::1/129'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1/x'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1/24', '--addr', '198.18.1.1/24'], 'ERR_TUN_USAGE'],
  [['up', '--mtu', '67'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '65536'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '1400x'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '1000', '--addr', 'fd00::1/64'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--tap', '--mtu', '65535'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--queues', '0'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', '65'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', '1.5'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--stats-interval', '10'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--stats-interval', 'fast'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['relay'], 'ERR_TUN_USAGE'],
  [['relay', 'tpa'], 'ERR_TUN_USAGE'],
  [['relay', 'tpa', 'tpa'], 'ERR_TUN_USAGE'],
  [['relay', 'tpa', 'tpb', 'tpc'], 'ERR_TUN_USAGE'],
  [['relay', 'tpa', 'tpb', '--mode', 'fast'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['relay', 'tpa', 'tpb', '--queues', '0'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['relay', 'tp%d', 'tpb'], 'ERR_TUN_INVALID_NAME'],
  [['relay', 'tpa', 'this-is-too-long'], 'ERR_TUN_INVALID_NAME'],
  [['capture', '--dev', 'tpx'], 'ERR_TUN_USAGE'],
  [['capture', '-w', '/tmp/tp-never.pcap'], 'ERR_TUN_USAGE'],
  [['capture', '--dev', 'tpx', '-w', '/tmp/tp-never.pcap', '--count', '0'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['capture', '--dev', 'tpx', '-w', '/tmp/tp-never.pcap', '--count', '-3'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['capture', '--dev', 'lo', '-w', '/tmp/tp-never.pcap'], 'ERR_TUN_DEVICE_BUSY'],
  [['capture', '--dev', 'tp%d', '-w', '/tmp/tp-never.pcap'], 'ERR_TUN_INVALID_NAME'],
  [['echo'], 'ERR_TUN_USAGE'],
  [['echo', '--dev', 'tpx', '--tap'], 'ERR_TUN_UNKNOWN_OPTION'],
  [['echo', '--dev', 'tpx', '--addr', '198.18.0.1/24', '--mtu', '10'], 'ERR_TUN_INVALID_MTU'],
];

/**
 * Edges of each rule (issue 8, bad input), run in-process through the same
 * parse-and-plan step as the binary (`readCommandLine`, as `runCli` does) so
 * that the table can grow without a Node start per row.
 */
const EDGE_BAD: Array<[string[], string]> = [
  // names
  [['up', '--name', '..'], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name', 'tp:0'], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name='], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name', '\u00fc'.repeat(8)], 'ERR_TUN_INVALID_NAME'],
  [['up', '--name', 'tp%s'], 'ERR_TUN_INVALID_NAME'],
  [['relay', 'tpa', '..'], 'ERR_TUN_INVALID_NAME'],
  [['relay', 'tpa', ''], 'ERR_TUN_INVALID_NAME'],
  [['capture', '--dev', '..', '-w', '/tmp/tp-never.pcap'], 'ERR_TUN_INVALID_NAME'],
  [['echo', '--dev', 'tp:x'], 'ERR_TUN_INVALID_NAME'],
  // addresses and prefixes
  [['up', '--addr', '/24'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', '198.018.0.1/24'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', 'fd00::1%tp0/64'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', 'fd00::1/64/64'], 'ERR_TUN_INVALID_ADDRESS'],
  [['up', '--addr', '198.18.0.1/'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1/-1'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1/0024'], 'ERR_TUN_INVALID_PREFIX'],
  [['up', '--addr', '198.18.0.1/255.255.255.0'], 'ERR_TUN_INVALID_PREFIX'],
  // MTU
  [['up', '--mtu', '-1'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', ''], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '1e3'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '0x500'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '99999999999999999999'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--mtu', '1279', '--addr', 'fd00::1/64'], 'ERR_TUN_INVALID_MTU'],
  [['up', '--tap', '--mtu', '65522'], 'ERR_TUN_INVALID_MTU'],
  [['echo', '--dev', 'tpx', '--mtu', '65536'], 'ERR_TUN_INVALID_MTU'],
  // queue counts, counts, intervals, modes
  [['up', '--queues', '-1'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', ''], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', '0x2'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', '\u0663'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--queues', '99999999999999999999'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['capture', '--dev', 'tpx', '-w', '/tmp/tp-never.pcap', '--queues', '65'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['relay', 'tpa', 'tpb', '--queues', '65'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['echo', '--dev', 'tpx', '--queues', '0'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['capture', '--dev', 'tpx', '-w', '/tmp/tp-never.pcap', '--count', '1000000001'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--stats-interval', '49'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['up', '--stats-interval', '60001'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['relay', 'tpa', 'tpb', '--mode', 'KEEP'], 'ERR_TUN_INVALID_ARGUMENT'],
  [['capture', '--dev', 'tpx', '-w', ''], 'ERR_TUN_USAGE'],
  [['up', '--offload=1'], 'ERR_TUN_USAGE'],
  [['up', '-hx'], 'ERR_TUN_USAGE'],
  [['up', '--', 'x'], 'ERR_TUN_USAGE'],
];

t.test('edge command lines: refused with their code, one line, nothing printed or created', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cliedge');
  const before = await linkNames(ns);
  const seen = new Set<string>();
  for (const [argv, code] of EDGE_BAD) {
    const label = `tunpipe ${argv.join(' ')}`;
    t.notOk(seen.has(JSON.stringify(argv)), `${label}: listed once`);
    seen.add(JSON.stringify(argv));
    t.notOk(BAD.some(([a]) => JSON.stringify(a) === JSON.stringify(argv)), `${label}: not already in the process table`);
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s).length }, stderr: { write: (s: string) => (out += s).length }, env: {} } as unknown as CliIo;
    const entry = ns.enter();
    try {
      readCommandLine(argv, io);
      t.fail(`${label}: accepted`);
    } catch (e) {
      t.equal((e as { code?: string }).code, code, `${label}: ${code}`);
      t.match(formatError(e), new RegExp(`^tunpipe: ${code}: [^\\n]+$`), `${label}: one coded line`);
    } finally {
      entry.exit();
    }
    t.equal(out, '', `${label}: nothing printed`);
  }
  t.same(await linkNames(ns), before, 'ip link unchanged');
});

t.test('bad command lines: one coded line, exit 2, nothing created', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cliusage');
  const before = await linkNames(ns);
  // Four at a time: each is a Node process start.
  const results = new Map<number, Awaited<ReturnType<typeof runTunpipeIn>>>();
  for (let i = 0; i < BAD.length; i += 4) {
    const chunk = BAD.slice(i, i + 4);
    (await Promise.all(chunk.map(([argv]) => runTunpipeIn(ns, argv)))).forEach((r, j) => results.set(i + j, r));
  }
  for (const [i, [argv, code]] of BAD.entries()) {
    const r = results.get(i)!;
    const label = `tunpipe ${argv.join(' ')}`;
    t.equal(r.code, 2, `${label}: exit 2`);
    t.match(r.stderr, new RegExp(`^tunpipe: ${code}: \\S.*\\n$`), `${label}: ${code} on one line`);
    t.equal(r.stderr.split('\n').length, 2, `${label}: exactly one line`);
    t.equal(r.stdout, '', `${label}: nothing on stdout`);
  }
  t.same(await linkNames(ns), before, 'ip link unchanged');
});

t.test('runtime refusals exit 1 with a coded line', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cliruntime');
  // lo exists and is not a TUN device: TUNSETIFF refuses it.
  const r = await runTunpipeIn(ns, ['up', '--name', 'lo']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^tunpipe: ERR_TUN_CREATE: .*\n$/);

  // Without privileges: /dev/net/tun refuses, and the line says what is needed
  // (without tap's NODE_OPTIONS hook, which would write its process info as nobody).
  const nobody = await ns.exec('env', ['-u', 'NODE_OPTIONS', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI_MAIN, 'up', '--name', 'tpnobody0']);
  t.equal(nobody.code, 1, 'unprivileged: runtime error');
  t.match(nobody.stderr, /^tunpipe: ERR_TUN_(OPEN|CREATE): .*\((EACCES|EPERM)\); tunpipe needs CAP_NET_ADMIN: run it as root\n$/);
  t.notOk((await linkNames(ns)).includes('tpnobody0'), 'nothing created');

  // A single-queue device held by `up` cannot be attached by capture (EBUSY).
  const up = startTunpipe(t, ns, ['up', '--name', 'tpheld0']);
  await up.waitForOutput(/tpheld0 up/, STARTUP);
  const c = await runTunpipeIn(ns, ['capture', '--dev', 'tpheld0', '-w', '/tmp/tp-never.pcap']);
  t.equal(c.code, 1, 'attach to a held single-queue device: runtime error');
  t.match(c.stderr, /^tunpipe: ERR_TUN_DEVICE_BUSY: tpheld0 is a single-queue device held by another process \(EBUSY\).*\n$/);
  const exit = await up.stop();
  t.equal(exit.code, 0, 'up still exits cleanly');
});
