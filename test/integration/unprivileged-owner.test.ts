/**
 * Devices owned by an unprivileged user (issue #8, security): root creates a
 * persistent TUN device with `.owner(uid)` / `.group(gid)` and lets go of it; a
 * process running as that user (setpriv, no capabilities) then attaches to it by
 * name with the library's defaults and answers a real `ping` through it. Users
 * that do not match are refused by the kernel with EPERM, which the library
 * reports as ERR_TUN_CREATE with errno, syscall and sysCode.
 *
 * The kernel's rule (tun_not_capable, drivers/net/tun.c): without CAP_NET_ADMIN,
 * the euid must equal the owner IF one is set, AND the caller must be in the
 * group IF one is set. Oracles: `ip -d -j link` (owner, group, persist), `ping`.
 */
import t, { type Test } from 'tap';
import { DeviceBuilder } from '@tunpipe/core';
import { createNetns, linkJson, ping, requireNetAdmin, type Netns } from '@tunpipe/testkit';
import {
  OWNER_UID, OWNER_GID, OTHER_UID, OTHER_GID, EXTRA_GID, requireUserSwitch, startWithTun, type RunAs,
} from './support/tun-user.js';

const EPERM = 1;

/** `ip -d -j link show` of a TUN device: what the kernel says about its ownership. */
interface TunLinkInfo {
  linkinfo?: { info_kind?: string; info_data?: { persist?: boolean; user?: number; group?: number } };
}

/** Creates a persistent device in `ns` as root and closes its fd: the device stays, with nobody attached. */
function createPersistent(ns: Netns, name: string, address: string, owner: { uid?: number; gid?: number }): void {
  using _ = ns.enter();
  const b = new DeviceBuilder().name(name).ipv4(address, 24).persist(true);
  if (owner.uid !== undefined) b.owner(owner.uid);
  if (owner.gid !== undefined) b.group(owner.gid);
  b.build().close();
}

/** Makes the device non-persistent again (root attaches, unsets persist, closes): the interface goes. */
function removePersistent(ns: Netns, name: string): void {
  using _ = ns.enter();
  new DeviceBuilder().name(name).enable(false).persist(false).build().close();
}

/** What a user should see when attaching. */
interface Row {
  as: RunAs;
  why: string;
  allowed: boolean;
}

async function attachAs(t: Test, ns: Netns, name: string, peer: string, row: Row): Promise<void> {
  const child = startWithTun(t, ns, 'attach-as-user', [name], row.as);
  if (!row.allowed) {
    const refused = await child.next('refused');
    t.match(refused.error, { code: 'ERR_TUN_CREATE', errno: EPERM, syscall: 'ioctl(TUNSETIFF)', sysCode: 'EPERM' }, `${row.why}: refused with a coded EPERM`);
    t.match(refused.creds, { uid: { effective: row.as.uid }, gid: { effective: row.as.gid } }, 'the child ran as that user');
    t.equal((await child.exited()).code, 0);
    return;
  }
  const attached = await child.next('attached');
  t.match(attached, { name, persistent: true }, `${row.why}: attached to the existing device`);
  t.match(attached.creds, { uid: { real: row.as.uid, effective: row.as.uid, saved: row.as.uid }, gid: { effective: row.as.gid } }, 'as that user');
  const r = await ping(ns, peer, { count: 1, timeoutS: 5 });
  t.equal(r.received, 1, 'ping got its reply, written by the unprivileged process');
  const replied = await child.next('replied');
  t.match(replied, { to: peer }, 'the child saw the echo request to the peer address');
  t.equal((await child.exited()).code, 0, 'the child exited cleanly');
}

t.test('a persistent device with owner and group: that user uses it, other users are refused', async (t) => {
  if (!requireNetAdmin(t) || !requireUserSwitch(t)) return;
  const ns = createNetns(t, 'sec');
  ns.disableIpv6Sync();
  createPersistent(ns, 'tpsec0', '198.18.7.1', { uid: OWNER_UID, gid: OWNER_GID });
  try {
    const info = (await linkJson(ns, 'tpsec0')) as unknown as TunLinkInfo;
    t.match(info.linkinfo, { info_kind: 'tun', info_data: { persist: true, user: OWNER_UID, group: OWNER_GID } }, 'ip -d link: persistent, owned by uid and gid');
    const rows: Row[] = [
      { as: { uid: OWNER_UID, gid: OWNER_GID }, why: 'the owner in the group', allowed: true },
      { as: { uid: OTHER_UID, gid: OTHER_GID }, why: 'another user', allowed: false },
      { as: { uid: OTHER_UID, gid: OWNER_GID }, why: 'another user in the group (owner must match too)', allowed: false },
      { as: { uid: OWNER_UID, gid: OTHER_GID }, why: 'the owner outside the group (group must match too)', allowed: false },
      { as: { uid: OWNER_UID, gid: OWNER_GID }, why: 'the owner again, after the refusals', allowed: true },
    ];
    for (const row of rows) await attachAs(t, ns, 'tpsec0', '198.18.7.2', row);
  } finally {
    removePersistent(ns, 'tpsec0');
  }
  t.equal(await linkJson(ns, 'tpsec0').then(() => 'present', () => 'gone'), 'gone', 'the device is gone once persist is unset');
});

t.test('a persistent device with a group only: members (supplementary groups too) use it', async (t) => {
  if (!requireNetAdmin(t) || !requireUserSwitch(t)) return;
  const ns = createNetns(t, 'secgrp');
  ns.disableIpv6Sync();
  createPersistent(ns, 'tpsec1', '198.18.8.1', { gid: EXTRA_GID });
  try {
    const info = (await linkJson(ns, 'tpsec1')) as unknown as TunLinkInfo;
    t.match(info.linkinfo?.info_data, { persist: true, group: EXTRA_GID }, 'ip -d link: group set');
    t.notOk(info.linkinfo?.info_data?.user !== undefined && info.linkinfo.info_data.user !== -1, 'no owner set');
    const rows: Row[] = [
      { as: { uid: OTHER_UID, gid: OTHER_GID, groups: [EXTRA_GID] }, why: 'a member through a supplementary group', allowed: true },
      { as: { uid: OWNER_UID, gid: EXTRA_GID }, why: 'a member through the primary group', allowed: true },
      { as: { uid: OTHER_UID, gid: OTHER_GID }, why: 'a non-member', allowed: false },
    ];
    for (const row of rows) await attachAs(t, ns, 'tpsec1', '198.18.8.2', row);
  } finally {
    removePersistent(ns, 'tpsec1');
  }
  t.equal(await linkJson(ns, 'tpsec1').then(() => 'present', () => 'gone'), 'gone', 'the device is gone once persist is unset');
});
