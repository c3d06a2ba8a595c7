/**
 * Test support: an independent reader of classic pcap files (either byte order,
 * either resolution), to check what PcapWriter wrote field by field.
 */

/** The global header. */
export interface PcapHeader {
  magic: number;
  littleEndian: boolean;
  nanos: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

/** One record. */
export interface PcapRecord {
  seconds: number;
  fraction: number;
  inclLen: number;
  origLen: number;
  data: Uint8Array;
}

/** Parses a whole file; throws on anything inconsistent (so tests fail loudly). */
export function readPcap(bytes: Uint8Array): { header: PcapHeader; records: PcapRecord[] } {
  if (bytes.length < 24) throw new Error(`file of ${bytes.length} bytes has no global header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  const known = [0xa1b2c3d4, 0xa1b23c4d];
  const littleEndian = known.includes(le);
  if (!littleEndian && !known.includes(be)) throw new Error(`bad magic 0x${le.toString(16)}`);
  const magic = littleEndian ? le : be;
  const header: PcapHeader = {
    magic,
    littleEndian,
    nanos: magic === 0xa1b23c4d,
    versionMajor: v.getUint16(4, littleEndian),
    versionMinor: v.getUint16(6, littleEndian),
    snaplen: v.getUint32(16, littleEndian),
    linkType: v.getUint32(20, littleEndian),
  };
  const records: PcapRecord[] = [];
  let pos = 24;
  while (pos < bytes.length) {
    if (bytes.length - pos < 16) throw new Error(`partial record header at ${pos}`);
    const inclLen = v.getUint32(pos + 8, littleEndian);
    if (bytes.length - pos - 16 < inclLen) throw new Error(`partial record body at ${pos}`);
    records.push({
      seconds: v.getUint32(pos, littleEndian),
      fraction: v.getUint32(pos + 4, littleEndian),
      inclLen,
      origLen: v.getUint32(pos + 12, littleEndian),
      data: bytes.slice(pos + 16, pos + 16 + inclLen),
    });
    pos += 16 + inclLen;
  }
  return { header, records };
}
