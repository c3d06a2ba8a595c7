/**
 * Interface names the addressText fuzz target found validateName passing though
 * the kernel refuses them (or would store another name), pinned as rows; and the
 * interface-name model the fuzzer trusts (fuzz/kernel-name.ts) checked against
 * the kernel itself (root, private namespace).
 */
import t from 'tap';
import { createNetns, requireNetAdmin } from '@tunpipe/testkit';
import { TunError } from '@tunpipe/offload';
import { validateName } from '../src/validate.js';
import { ADDRESS_SEEDS } from './fuzz/address-seeds.js';
import { kernelAcceptsName } from './fuzz/kernel-name.js';

/**
 * Found by the addressText fuzz target (seed 0x7e57): names the kernel
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
  // Seed names and the rows above; argv carries neither NUL nor lone surrogates.
  const names = [...new Set([...ADDRESS_SEEDS.name, ...NAME_ROWS.map(([n]) => n)])].filter(
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
  t.ok(accepted > 5 && accepted < names.length - 5, `${names.length} names, ${accepted} accepted by the kernel, every verdict as modelled`);
});
