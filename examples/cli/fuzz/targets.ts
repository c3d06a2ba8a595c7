/**
 * The CLI fuzz entry point `cliArgv`: random and mutated command lines through
 * `readCommandLine` (command choice, option parsing, every command's plan step),
 * with random TUN_A/TUN_B in the environment. Each must end as a plan, an exit
 * status (help, version), or a TunError with one of the usage codes below, which
 * `formatError` prints as ONE line; never another exception, never a device:
 * after the run no link named on any command line has appeared, and no
 * /dev/net/tun or NETLINK_ROUTE fd was opened.
 */
import { readdirSync } from 'node:fs';
import { isTunError } from '@tunpipe/core';
import { invariant, deviceFds, type FuzzTarget, type Prng } from '@tunpipe/testkit';
import { CliErrorCode, EXIT_OK, EXIT_USAGE, formatError } from '../cli-error.js';
import { COMMANDS, readCommandLine } from '../run-cli.js';
import type { CliCorpus } from './seeds.js';

/** Codes a command line may be refused with: the CLI's own and core's validation codes. */
export const USAGE_CODES: readonly string[] = [
  ...Object.values(CliErrorCode),
  'ERR_TUN_INVALID_NAME',
  'ERR_TUN_INVALID_ADDRESS',
  'ERR_TUN_INVALID_PREFIX',
  'ERR_TUN_INVALID_MTU',
  'ERR_TUN_INVALID_MAC',
  'ERR_TUN_INVALID_OPTION',
];

/** Values on the edges of what the options take (names, CIDRs, numbers, modes, files). */
const VALUES = [
  // interface names
  'tp-bad0', 'tp-bad-a', 'tun%d', 'tap%d', '%d', 'a%d%d', 'a%s', '%', '.', '..', 'a/b', 'x:y', 'a b', '', 'x'.repeat(15), 'x'.repeat(16),
  'ü'.repeat(7), 'ü'.repeat(8), 'lo', '\0', 'tp\tbad', '-', '--', '-1',
  // addresses and prefixes
  '198.18.0.1/24', '198.18.0.1', '198.18.0.1/0', '198.18.0.1/32', '198.18.0.1/33', 'fd00::1/64', 'fd00::1/128', 'fd00::1/129', '198.18.0.1/-1',
  '/24', '::/0', '0.0.0.0/0', '198.18.0.256/24', 'fd00::1/064', '198.18.0.1/24/24', 'fd00::g/64', '198.18.0.1/255.255.255.0', '::ffff:198.18.0.1/96',
  '198.18.0.1/', 'fd00::1%eth0/64', '1e3/8', '198.018.0.1/24', 'fd00:::1/64', 'fd00::1/6 4',
  // numbers
  '0', '1', '2', '63', '64', '65', '49', '50', '60000', '60001', '67', '68', '1279', '1280', '1500', '65521', '65522', '65535', '65536',
  '1000000000', '1000000001', '-0', '1e3', '0x10', ' 1', '1 ', '1.5', '99999999999999999999', 'NaN', 'Infinity', '٣', '１',
  // modes, files
  'keep', 'split', 'KEEP', 'keep ', '/tmp/tp-bad.pcap', '/dev/null', 'x.pcap',
];

/** Every option of every command, long and short, plus some that exist nowhere. */
const OPTIONS = [
  ...new Set(COMMANDS.flatMap((c) => c.options.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]))),
  '--nope', '-x', '---name', '--', '-', '--=1', '--name=', '-w=', '--HELP',
];
const WORDS = ['up', 'capture', 'relay', 'echo', 'help', '--help', '-h', '--version', '-V', 'Up', 'up ', ''];

/** A random string: printable, any UTF-16 (lone surrogates too), or dashes and digits. */
function randomText(rng: Prng): string {
  const n = rng.int(20);
  let s = '';
  const kind = rng.int(3);
  for (let i = 0; i < n; i++) {
    if (kind === 0) s += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (kind === 1) s += String.fromCharCode(rng.int(0x10000));
    else s += rng.pick(['-', '=', '1', '9', '%', 'd', '/', ':', '.', 'a']);
  }
  return s;
}

function token(rng: Prng): string {
  const r = rng.int(10);
  if (r < 4) return rng.pick(OPTIONS);
  if (r < 8) return rng.pick(VALUES);
  if (r < 9) return `${rng.pick(OPTIONS)}=${rng.pick(VALUES)}`;
  return randomText(rng);
}

/** Edits one token in place: a character changed, dropped or added. */
function editToken(rng: Prng, s: string): string {
  const at = rng.int(s.length + 1);
  switch (rng.int(3)) {
    case 0:
      return s.slice(0, at) + String.fromCharCode(rng.pick([0, 0x20, 0x2d, 0x2f, 0x30, 0x39, 0x3a, 0x3d, 0x25, 0x64, 0xfc, 0xd800])) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + s.slice(at + 1);
    default:
      return s.slice(0, at) + rng.pick(['-', '=', '0', '%d', '/', ':', '9']) + s.slice(at);
  }
}

/** A command line: a mutated seed, or tokens from scratch. */
export function generateArgv(rng: Prng, corpus: CliCorpus): string[] {
  if (rng.chance(0.15)) return [rng.pick(WORDS), ...Array.from({ length: rng.int(8) }, () => token(rng))];
  const argv = [...rng.pick(corpus.argvs)];
  const edits = rng.range(0, 4);
  for (let k = 0; k < edits; k++) {
    // Edits mostly leave the command word alone (a wrong command ends parsing at once).
    const at = argv.length > 1 && rng.chance(0.9) ? 1 + rng.int(argv.length) : rng.int(argv.length + 1);
    switch (rng.int(7)) {
      case 0:
        argv.splice(at, 1);
        break;
      case 1:
        argv.splice(at, 0, token(rng));
        break;
      case 2:
        if (at < argv.length) argv[at] = rng.pick(VALUES);
        break;
      case 3:
        if (at < argv.length) argv[at] = editToken(rng, argv[at]!);
        break;
      case 4:
        argv.splice(at, 0, rng.pick(OPTIONS), rng.pick(VALUES));
        break;
      case 5:
        if (argv.length > 1) argv.splice(at, 0, argv[rng.int(argv.length)]!);
        break;
      default:
        if (argv.length > 0) argv[0] = rng.pick(WORDS);
    }
  }
  return argv;
}


/** What the system looked like before the first iteration, and names the command lines used. */
let before: { links: Set<string>; deviceFds: number } | undefined;
const named = new Set<string>();


const cliArgvTarget: FuzzTarget<CliCorpus> = {
  name: 'cliArgv',
  codes: USAGE_CODES,
  run(rng, corpus, input) {
    before ??= { links: new Set(readdirSync('/sys/class/net')), deviceFds: deviceFds() };
    const argv = generateArgv(rng, corpus);
    const env: NodeJS.ProcessEnv = {};
    if (rng.chance(0.2)) env.TUN_A = rng.pick(VALUES);
    if (rng.chance(0.2)) env.TUN_B = rng.pick(VALUES);
    input.note = JSON.stringify({ argv, env });
    for (const a of [...argv, env.TUN_A ?? '', env.TUN_B ?? '']) for (const part of a.split('=')) if (part.length > 0 && part.length < 16) named.add(part);
    let out = '';
    let err = '';
    const io = { stdout: { write: (t: string) => (out += t).length, isTTY: false }, stderr: { write: (t: string) => (err += t).length }, env };
    let line;
    try {
      line = readCommandLine(argv, io as unknown as Parameters<typeof readCommandLine>[1]);
    } catch (e) {
      if (isTunError(e)) {
        const text = formatError(e);
        invariant(!text.includes('\n') && text.startsWith(`tunpipe: ${e.code}: `), `error prints as one coded line: ${JSON.stringify(text)}`);
      }
      invariant(out === '' && err === '', 'nothing printed before a usage error');
      throw e;
    }
    if ('exit' in line) {
      invariant(line.exit === EXIT_OK || (line.exit === EXIT_USAGE && argv.length === 0), `exit ${line.exit} without an error`);
      invariant((line.exit === EXIT_OK ? out : err).length > 8 && (line.exit === EXIT_OK ? err : out) === '', 'help or version printed, on one stream');
    } else {
      invariant(COMMANDS.includes(line.command) && line.command.name === argv[0], 'the named command was planned');
      invariant(typeof line.plan === 'object' && line.plan !== null, 'a plan');
      invariant(out === '' && err === '', 'planning prints nothing');
    }
  },
  finish() {
    if (before === undefined) return;
    const now = new Set(readdirSync('/sys/class/net'));
    const created = [...named].filter((n) => now.has(n) && !before!.links.has(n));
    invariant(created.length === 0, `links appeared that command lines named: ${created.join(', ')}`);
    invariant(deviceFds() === before.deviceFds, 'a /dev/net/tun or NETLINK_ROUTE fd was opened');
  },
};

/** Every CLI entry point. */
export const TARGETS: readonly FuzzTarget<CliCorpus>[] = [cliArgvTarget];
