/**
 * The tunnel end to end: two tunnel processes in two private namespaces joined
 * by a veth link; each has a TUN device; the only way between the devices is the
 * TCP connection the processes hold over the veth.
 *
 * ```
 *  ns 1: tpt0 198.18.30.1/24 fd00:30::1/64 ── tunnel --connect ─┐            ┌─ tunnel --listen ── tpt0 198.18.30.2/24 fd00:30::2/64 :ns 2
 *                                         tpv1 198.18.10.1/24 ═══ veth ═══ tpv2 198.18.10.2/24  (TCP :7000, msgpack frames)
 * ```
 *
 * Oracles: real `ping` v4/v6 between the inner addresses (ttl=64: a link, not a
 * routed hop), a byte-exact TCP transfer (SHA-256 on both ends), the veth's own
 * byte counters (`ip -s`) showing the traffic really crossed it, and both
 * processes reporting the frames they carried and exiting 0.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { requireNetAdmin, createNetns, ping, type Netns } from '@tunpipe/testkit';
import { TCP_TRANSFER_SCRIPT, parseTransferReports } from '../lib/tcp-transfer.js';

const TUNNEL = fileURLToPath(new URL('./main.js', import.meta.url));
const CONNECTIONS = 4;
const BYTES_PER_CONNECTION = 4 * 1024 * 1024;

async function vethTxBytes(ns: Netns, dev: string): Promise<number> {
  const link = (await ns.ipJson('-s', 'link', 'show', 'dev', dev)) as Array<{ stats64: { tx: { bytes: number } } }>;
  return link[0]!.stats64.tx.bytes;
}

for (const offload of [true, false]) {
  t.test(`ping and TCP across the tunnel (${offload ? 'offload: superpackets in frames' : 'no offload'})`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const one = createNetns(t, 'tunnel1');
    const two = createNetns(t, 'tunnel2');
    one.ipSync('link', 'add', 'tpv1', 'type', 'veth', 'peer', 'name', 'tpv2', 'netns', two.name);
    one.ipSync('addr', 'add', '198.18.10.1/24', 'dev', 'tpv1');
    two.ipSync('addr', 'add', '198.18.10.2/24', 'dev', 'tpv2');
    one.ipSync('link', 'set', 'tpv1', 'up');
    two.ipSync('link', 'set', 'tpv2', 'up');

    const extra = offload ? [] : ['--no-offload'];
    const server = two.spawn(t, 'node', [TUNNEL, '--listen', '198.18.10.2:7000', '--addr', '198.18.30.2/24', '--addr', 'fd00:30::2/64', ...extra]);
    await server.waitForOutput(/listening on 198\.18\.10\.2:7000/, { timeoutMs: 10_000 });
    const client = one.spawn(t, 'node', [TUNNEL, '--connect', '198.18.10.2:7000', '--addr', '198.18.30.1/24', '--addr', 'fd00:30::1/64', ...extra]);
    await client.waitForOutput(/connected to 198\.18\.10\.2:7000/, { timeoutMs: 10_000 });
    await server.waitForOutput(/connected from 198\.18\.10\.1:\d+/);
    const vethBefore = await vethTxBytes(one, 'tpv1');

    const v4 = await ping(one, '198.18.30.2', { count: 3 });
    t.equal(v4.received, 3, 'IPv4 ping answered across the tunnel');
    t.match(v4.output, /from 198\.18\.30\.2: icmp_seq=1 ttl=64 /, 'a link, not a routed hop: TTL unchanged');
    const v6 = await ping(one, 'fd00:30::2', { count: 3 });
    t.equal(v6.received, 3, 'IPv6 ping answered across the tunnel');

    const sink = two.spawn(t, 'node', [TCP_TRANSFER_SCRIPT, 'sink', '198.18.30.2', '5201', String(CONNECTIONS)]);
    await sink.waitForOutput(/listening/);
    const source = await one.exec('node', [TCP_TRANSFER_SCRIPT, 'source', '198.18.30.2', '5201', String(BYTES_PER_CONNECTION), String(CONNECTIONS)], { timeoutMs: 40_000 });
    t.equal(source.code, 0, `source exited 0 ${source.stderr.trim()}`);
    const got = parseTransferReports((await sink.wait()).stdout);
    const sent = parseTransferReports(source.stdout);
    t.equal(got.length, CONNECTIONS, `${CONNECTIONS} connections received`);
    for (const r of got) {
      t.equal(r.bytes, BYTES_PER_CONNECTION, 'every byte arrived');
      t.equal(r.sha256, sent[0]?.sha256, 'byte-exact (SHA-256)');
    }
    const crossed = (await vethTxBytes(one, 'tpv1')) - vethBefore;
    t.ok(crossed > CONNECTIONS * BYTES_PER_CONNECTION, `the veth carried it (${crossed} bytes)`);

    const clientExit = await client.stop();
    t.equal(clientExit.code, 0, `the connecting end exits 0 on SIGTERM ${clientExit.stderr.trim()}`);
    const serverExit = await server.wait();
    t.equal(serverExit.code, 0, `the listening end exits 0 when the other end leaves ${serverExit.stderr.trim()}`);
    t.match(clientExit.stdout, /tunnel: stopped; sent \d+ frames/);
    const frames = /received (\d+) frames/.exec(serverExit.stdout);
    t.match(serverExit.stdout, /the other end closed the connection/);
    t.ok(Number(frames?.[1]) > 0, `the listening end counted ${frames?.[1]} frames in`);
    if (offload) {
      const bytesIn = Number(/received \d+ frames \((\d+) bytes\)/.exec(serverExit.stdout)?.[1]);
      t.ok(bytesIn / Number(frames?.[1]) > 3000, `superpackets crossed whole (mean ${(bytesIn / Number(frames?.[1])).toFixed(0)} bytes per frame)`);
    }
    const links = (await one.ipJson('link', 'show')) as Array<{ ifname?: string }>;
    t.equal(links.filter((l) => l.ifname === 'tpt0').length, 0, 'the device is gone with its process');
  });
}

t.test('bad arguments: one line with the code, exit 2', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [TUNNEL, '--addr', '198.18.30.1/24'], { encoding: 'utf8', timeout: 10_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, /^tunnel: ERR_TUN_INVALID_ARGUMENT: usage: /);
});
