/**
 * The short streams fuzz pass inside `npm test` (decodeFrames, frameBody,
 * encodeFrame, parseHeaders, pcapWriter, openTunOptions: a few thousand seeded iterations each, in worker threads under the
 * hang watchdog; the long pass is `pnpm fuzz`), and the outside oracle for the
 * pcap writer: files written from fuzz scenarios (every seed case, then random
 * ones, odd, empty, over-snaplen and huge packets) are read by `tcpdump -r`,
 * which must accept every file and list every record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fuzz, mixSeed, Prng, runCommand, suiteJobs } from '@tunpipe/testkit';
import { FrameBodyCodec } from '../src/frame-format.js';
import { PacketView } from '../src/packet.js';
import { PcapWriter } from '../src/pcap-writer.js';
import { loadCorpus } from './fuzz/seeds.js';
import { pcapScenario, pcapWriterOptions, TARGETS, writePcapScenario, type PcapScenario } from './fuzz/targets.js';
import { OPEN_TUN_OPTION_CODES } from './fuzz/open-tun-options-target.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);

t.test(`every streams fuzz target survives ${ITERATIONS} seeded iterations`, async (t) => {
  const result = await fuzz({ jobs: await suiteJobs(new URL('./fuzz/suite.js', import.meta.url)), seed: 20_261_122, iterations: ITERATIONS, parallel: 2, stallMs: 20_000 });
  for (const failure of result.failures) t.fail(`${failure.target} #${failure.iteration}: ${failure.error}`, { input: failure.input });
  t.equal(result.failures.length, 0, 'no failures');
  t.equal(result.reports.length, TARGETS.length, 'every target reported');
  for (const report of result.reports) {
    t.equal(report.iterations, ITERATIONS, `${report.target}: ${report.ok} ok, errors ${JSON.stringify(report.errors)}`);
    t.ok(report.ok > ITERATIONS / 20, `${report.target}: inputs are accepted`);
    // The codecs must also see refusals, or the generators are not doing their job.
    const refusal = { decodeFrames: 'ERR_TUN_FRAME_MALFORMED', frameBody: 'ERR_TUN_FRAME_MALFORMED', encodeFrame: 'ERR_TUN_FRAME_UNENCODABLE' }[report.target];
    if (refusal !== undefined) t.ok((report.errors[refusal] ?? 0) > 0, `${report.target}: reaches ${refusal}`);
  }
  // Configurations: every kind of refusal is reached (values of core's builder, linux-mq's queue options, openTun's own).
  const options = result.reports.find((r) => r.target === 'openTunOptions');
  for (const code of OPEN_TUN_OPTION_CODES) t.ok((options?.errors[code] ?? 0) > 0, `openTunOptions reaches ${code} (${options?.errors[code] ?? 0})`);
  const decode = result.reports.find((r) => r.target === 'decodeFrames');
  for (const code of ['ERR_TUN_FRAME_TOO_LARGE', 'ERR_TUN_FRAME_TRUNCATED']) t.ok((decode?.errors[code] ?? 0) > 0, `decodeFrames reaches ${code}`);
});

t.test('tcpdump -r reads every pcap a fuzz scenario writes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-bad-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const corpus = loadCorpus();
  // The seed cases as they are (direct writes, no drops), then seeded random scenarios.
  const scenarios: PcapScenario[] = corpus.pcapCases.map((c) => ({
    options: { snaplen: c.snaplen, bufferSize: c.bufferSize, precision: c.precision, linkType: c.linkType, maxPendingBytes: 16 * 1024 * 1024 },
    packets: c.sizes.map((size) => ({ size, timestamp: undefined, as: 'bytes' as const, via: 'write' as const })),
    tap: false,
    slowSink: false,
  }));
  for (let i = 0; i < 24; i++) scenarios.push(pcapScenario(new Prng(mixSeed(0x9ca9, i)), corpus));
  let records = 0;
  let oddOrEmpty = 0;
  let overSnaplen = 0;
  for (const [i, s] of scenarios.entries()) {
    const file = join(dir, `s${i}.pcap`);
    const writer = new PcapWriter(file, pcapWriterOptions(s));
    const { written } = await writePcapScenario(s, writer);
    await writer.close();
    // Decoded once (every record dissected, its output discarded), then counted.
    const r = await runCommand('tcpdump', ['-r', file, '-nn', '-vv', '-X'], { timeoutMs: 30_000, maxOutputBytes: 256 * 1024 * 1024 });
    t.equal(r.code, 0, `scenario ${i}: tcpdump dissects the file (${r.stderr.trim().split('\n').at(-1)})`);
    const count = await runCommand('tcpdump', ['-r', file, '--count'], { timeoutMs: 30_000 });
    t.equal(count.code, 0, `scenario ${i}: tcpdump --count accepts the file`);
    t.match(count.stdout, new RegExp(`^${written.length} packets?\\b`, 'm'), `scenario ${i}: tcpdump counts all ${written.length} records`);
    records += written.length;
    oddOrEmpty += written.filter((w) => w.size === 0 || w.size % 2 === 1).length;
    overSnaplen += written.filter((w) => w.size > s.options.snaplen).length;
  }
  t.ok(oddOrEmpty > 20 && overSnaplen > 10, `${records} records, ${oddOrEmpty} odd or empty, ${overSnaplen} over snaplen`);
});

t.test('a target that allocates without bound ends its worker (heap limit), reported, not the run', async (t) => {
  const result = await fuzz({ jobs: [{ suite: new URL('./fuzz/suite.js', import.meta.url), target: 'selftest-alloc' }], seed: 1, iterations: 1, maxHeapMb: 64, stallMs: 60_000 });
  t.equal(result.failures.length, 1);
  t.match(result.failures[0]!.error, /worker error: .*(out of memory|ERR_WORKER_OUT_OF_MEMORY)/i);
});

/**
 * Found by the encodeFrame target with a strict meta oracle (seed 20261122,
 * iteration 53): msgpack cannot carry these exactly and the encoder used to change
 * them silently; it now refuses them (ERR_TUN_FRAME_UNENCODABLE, frame-meta.ts).
 */
const META_CHANGED: Array<[string, unknown]> = [
  ['bigint 2^64 (beyond u64)', 2n ** 64n],
  ['bigint -(2^63) - 1 (beyond i64)', -(2n ** 63n) - 1n],
  ['an invalid Date', new Date(Number.NaN)],
  ['a Map', new Map([[1, 2]])],
  ['a Set', new Set([1])],
  ['an Int16Array', new Int16Array([1, -1])],
  ['a Map nested in an array in an object', { a: [1, new Map()] }],
];
for (const [label, meta] of META_CHANGED) {
  t.test(`meta ${label}: refused or carried exactly, never changed`, async (t) => {
    const codec = new FrameBodyCodec(1 << 16);
    let back: unknown;
    try {
      back = codec.decodeBody(codec.encodeFrame(new PacketView(new Uint8Array(1), 0, undefined, undefined, meta), 1 << 16).slice(4)).meta;
    } catch (err) {
      t.match(err, { code: 'ERR_TUN_FRAME_UNENCODABLE' }, 'refused');
      return;
    }
    t.same(back, meta, `carried exactly (came back as ${typeof back === 'bigint' ? `${back}n` : JSON.stringify(back)})`);
  });
}
