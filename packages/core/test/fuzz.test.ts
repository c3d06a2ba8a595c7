/**
 * The short core fuzz pass inside `npm test`: addressText (address, CIDR, netmask,
 * MAC and interface-name parsers, every validate* wrapper) and netlinkReply (every
 * rtnetlink reply decoder on mutated kernel datagrams), a few thousand seeded
 * iterations each, in a worker under the hang watchdog; the long pass is
 * `pnpm fuzz`. Neither needs root. Also: the saved seeds are what they claim
 * (real kernel replies that decode; the text seeds of address-seeds.ts), the
 * inputs the fuzzer found pinned as rows, and the interface-name model the
 * fuzzer trusts checked against the kernel itself (root, private namespace).
 */
import t from 'tap';
import { createNetns, fuzz, mixSeed, Prng, requireNetAdmin, suiteJobs } from '@tunpipe/testkit';
import { TunError } from '@tunpipe/offload';
import { validateName } from '../src/validate.js';
import { parseMessages } from '../src/netlink/message.js';
import { NLMSG_DONE, NLMSG_ERROR, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from '../src/constants.js';
import { ADDRESS_SEEDS } from './fuzz/address-seeds.js';
import { generateText } from './fuzz/address-inputs.js';
import { ADDRESS_TEXT_CODES } from './fuzz/address-text.js';
import { kernelAcceptsName } from './fuzz/kernel-name.js';
import { MALFORMED } from './fuzz/netlink-reply.js';
import { loadCorpus } from './fuzz/seeds.js';
import { TARGETS } from './fuzz/targets.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);

t.test(`every core fuzz target survives ${ITERATIONS} seeded iterations`, async (t) => {
  const result = await fuzz({ jobs: await suiteJobs(new URL('./fuzz/suite.js', import.meta.url)), seed: 20_261_122, iterations: ITERATIONS, parallel: 1, stallMs: 20_000 });
  for (const failure of result.failures) t.fail(`${failure.target} #${failure.iteration}: ${failure.error}`, { input: failure.input });
  t.equal(result.failures.length, 0, 'no failures');
  t.same(result.reports.map((r) => r.target).sort(), TARGETS.map((x) => x.name).sort(), 'every target reported');
  for (const report of result.reports) {
    t.equal(report.iterations, ITERATIONS, `${report.target}: ${report.ok} ok, errors ${JSON.stringify(report.errors)}`);
    t.ok(report.ok > ITERATIONS / 10, `${report.target}: inputs are accepted (${report.ok})`);
  }
  // Each target must reach its refusals, or its generator is not doing its job.
  const reached: Record<string, readonly string[]> = { addressText: ADDRESS_TEXT_CODES, netlinkReply: [MALFORMED] };
  for (const report of result.reports) {
    for (const code of reached[report.target] ?? []) t.ok((report.errors[code] ?? 0) > 0, `${report.target} reaches ${code} (${report.errors[code] ?? 0})`);
  }
});

t.test('the seeds are what they claim', async (t) => {
  const corpus = loadCorpus();
  t.same(corpus.text, ADDRESS_SEEDS, 'address-text.json is what make-seeds writes from address-seeds.ts');
  // Real kernel replies: each datagram splits into messages; together they hold links, addresses, routes, dump ends and errors.
  const types = new Set<number>();
  for (const reply of corpus.replies) {
    for (const m of parseMessages(reply.bytes)) types.add(m.type);
  }
  for (const type of [RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, NLMSG_DONE, NLMSG_ERROR]) t.ok(types.has(type), `the replies hold message type ${type}`);
});

/**
 * Found by the addressText target (seeds 0x7e57 and 20261122): names the kernel
 * refuses, or would store as another name, that validateName used to pass, so
 * that DeviceBuilder failed only at TUNSETIFF (EINVAL, ERR_TUN_CREATE) or created a
 * device named with U+FFFD; and names next to them that the kernel takes.
 */
const NAME_ROWS: Array<[string, boolean]> = [
  ['tp-\u00e0', false], // `à`: UTF-8 c3 a0, and the kernel's isspace(0xa0) is true
  ['tp\u00a0a', false], // NBSP: c2 a0
  ['tp-\u0120', false], // `Ġ`: c4 a0
  ['tp\ud800', false], // lone high surrogate
  ['\udc00x', false], // lone low surrogate
  ['tp-\u00e1', true], // `á`: c3 a1
  ['tp\u0085', true], // NEL: c2 85, not a space to the kernel
  ['tp\u2003', true], // EM SPACE: e2 80 83
  ['\ufefftp', true], // a leading BOM is part of the name (a TextDecoder would drop it)
  ['tp\ud83d\ude00', true], // a surrogate pair: 4 bytes of UTF-8
];
/** A name with every character outside printable ASCII escaped (for test titles). */
const escaped = (s: string): string => JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

for (const [name, accepted] of NAME_ROWS) {
  t.test(`validateName(${escaped(name)}) ${accepted ? 'accepts' : 'refuses'} it, as the kernel does`, async (t) => {
    t.equal(kernelAcceptsName(name), accepted, 'the model');
    if (accepted) t.equal(validateName(name), name);
    else t.throws(() => validateName(name), new TunError('ERR_TUN_INVALID_NAME', ''), 'ERR_TUN_INVALID_NAME');
  });
}

t.test('the interface-name model (kernel-name.ts) agrees with the kernel: ip tuntap add in a private namespace', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'names');
  // Seed names, the rows above and generated strings; argv carries neither NUL nor lone surrogates.
  const corpus = loadCorpus();
  const generated = Array.from({ length: 150 }, (_, i) => generateText(new Prng(mixSeed(0x6e616d65, i)), corpus));
  const names = [...new Set([...ADDRESS_SEEDS.name, ...NAME_ROWS.map(([n]) => n), ...generated])].filter(
    (n) => n.length <= 20 && !n.includes('\0') && Buffer.from(n, 'utf8').toString('utf8') === n,
  );
  // One line per name: ip's exit status; every device created is deleted before the next name.
  const script = 'for n in "$@"; do out=$(ip tuntap add dev "$n" mode tun 2>&1); s=$?; echo "$s $out" | tr -d "\\n"; echo; for d in /sys/class/net/*; do d=${d##*/}; [ "$d" = lo ] || ip link del dev "$d"; done; done';
  const r = await ns.exec('sh', ['-c', script, 'sh', ...names], { timeoutMs: 60_000 });
  t.equal(r.code, 0, 'the script ran');
  const lines = r.stdout.split('\n').slice(0, names.length);
  t.equal(lines.length, names.length, 'one answer per name');
  let accepted = 0;
  for (const [i, name] of names.entries()) {
    const kernel = lines[i]!.startsWith('0 ');
    if (kernel) accepted++;
    if (kernel !== kernelAcceptsName(name)) t.fail(`${escaped(name)}: the kernel ${kernel ? 'accepts' : 'refuses'} it, the model does not (${lines[i]})`);
  }
  t.ok(accepted > 10 && accepted < names.length - 10, `${names.length} names, ${accepted} accepted by the kernel, every verdict as modelled`);
});
