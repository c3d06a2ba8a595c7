/**
 * How the streams of a device end: `close()` ends reads normally (pipes
 * resolve, `packets$` completes, loops finish) and makes writes fail with
 * ERR_TUN_CLOSED; a device that disappears (its namespace deleted) errors the
 * reading consumer with ERR_TUN_DEVICE_GONE.
 */
import t from 'tap';
import { lastValueFrom, toArray } from 'rxjs';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { packetOf } from '../src/packet.js';
import { disableIpv6, openTunIn, sleep } from './device-fixtures.js';

const PACKET = packetOf(new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]));

t.test('close() ends every reader normally and refuses writes', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'lifeclose');
  await disableIpv6(ns);
  const rows = [
    ['readable.pipeTo(sink)', (tun: Awaited<ReturnType<typeof openTunIn>>) => tun.readable.pipeTo(new WritableStream())],
    ['packets$', (tun: Awaited<ReturnType<typeof openTunIn>>) => lastValueFrom(tun.packets$.pipe(toArray())).then(() => undefined)],
    [
      'for await (const p of tun)',
      async (tun: Awaited<ReturnType<typeof openTunIn>>) => {
        for await (const _ of tun) void _;
      },
    ],
    [
      'batches',
      async (tun: Awaited<ReturnType<typeof openTunIn>>) => {
        for await (const b of tun.batches) void b;
      },
    ],
  ] as const;
  for (const [name, read] of rows) {
    const tun = await openTunIn(ns, { name: 'tpx0', ipv4: { address: '198.18.0.1', prefix: 24 } });
    const reading = read(tun);
    await sleep(30);
    const writable = tun.writable.getWriter();
    await tun.close();
    await t.resolves(reading, `${name}: ended without an error`);
    t.equal(tun.activeConsumer, undefined, `${name}: released`);
    await t.rejects(writable.write(PACKET), { code: 'ERR_TUN_CLOSED' }, `${name}: the writable refuses packets`);
    await t.rejects(tun.send(PACKET), { code: 'ERR_TUN_CLOSED' }, `${name}: so does send()`);
    t.equal(tun.closed, true);
  }
});

t.test('a device that disappears errors its reader with ERR_TUN_DEVICE_GONE', async (t) => {
  if (!requireNetAdmin(t)) return;
  const rows = [
    { name: 'link deleted, readable reading', consumer: 'readable', how: 'link' },
    { name: 'namespace deleted, packets$ reading', consumer: 'packets$', how: 'netns' },
  ] as const;
  for (const row of rows) {
    // The queue fds pin the namespace they were opened in (home); moved to
    // `away`, the device dies with that namespace while our fds stay open.
    const home = createNetns(t, `gonehome${row.how}`);
    const away = createNetns(t, `goneaway${row.how}`);
    await disableIpv6(home);
    const tun = await openTunIn(home, { name: 'tpg0', ipv4: { address: '198.18.0.1', prefix: 24 } });
    t.teardown(() => tun.close());
    const reading: Promise<unknown> =
      row.consumer === 'readable' ? tun.readable.pipeTo(new WritableStream()) : lastValueFrom(tun.packets$);
    reading.catch(() => undefined);
    await sleep(30);
    if (row.how === 'link') {
      await home.ip('link', 'del', 'tpg0');
    } else {
      await home.ip('link', 'set', 'tpg0', 'netns', away.name);
      await away.delete();
    }
    await t.rejects(reading, { code: 'ERR_TUN_DEVICE_GONE' }, `${row.name}: the device's error`);
    t.equal(tun.activeConsumer, undefined, `${row.name}: released`);
    await t.rejects(tun.send(PACKET), { code: 'ERR_TUN_DEVICE_GONE' }, `${row.name}: sending fails the same way`);
  }
});
