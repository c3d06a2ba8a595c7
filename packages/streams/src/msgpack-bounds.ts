/**
 * A structural pre-check of a msgpack body before `@msgpack/msgpack` decodes it.
 *
 * Why: the decoder preallocates `new Array(n)` for every array header it meets, with
 * `n` taken from the header. A 240 KB body of nested `array16 0xfffe` headers (3
 * bytes each, none ever filled) makes it allocate tens of gigabytes and kills the
 * process (measured on Node 20.20). Every msgpack item takes at least one byte, so a
 * body whose containers declare more items than bytes remain cannot be valid; this
 * walk rejects it in O(length) without allocating, which bounds what the real
 * decoder may allocate to a small multiple of the body length.
 *
 * It checks framing only (lengths, container counts, the one unused type byte
 * 0xc1, nothing after the value); the decoder still checks everything else.
 */

/** msgpack format bytes (msgpack spec, "Formats"). */
const NIL = 0xc0;
const NEVER_USED = 0xc1;
const BIN8 = 0xc4;
const BIN16 = 0xc5;
const BIN32 = 0xc6;
const EXT8 = 0xc7;
const EXT16 = 0xc8;
const EXT32 = 0xc9;
const FLOAT32 = 0xca;
const FLOAT64 = 0xcb;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const INT8 = 0xd0;
const INT16 = 0xd1;
const INT32 = 0xd2;
const INT64 = 0xd3;
const FIXEXT1 = 0xd4;
const FIXEXT16 = 0xd8;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const ARRAY16 = 0xdc;
const ARRAY32 = 0xdd;
const MAP16 = 0xde;
const MAP32 = 0xdf;

/**
 * True when `bytes` holds exactly one msgpack value whose every length and
 * container count fits in the bytes that follow it.
 */
export function isBoundedMsgpack(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let pos = 0;
  // Items still to read: the value itself plus everything its containers declared.
  let pending = 1;
  while (pending > 0) {
    if (pos >= end) return false;
    const b = bytes[pos++]!;
    pending--;
    let skip = 0; // payload bytes after the header
    let items = 0; // items a container header declares
    if (b <= 0x7f || b >= 0xe0 || (b >= NIL && b <= 0xc3 && b !== NEVER_USED)) {
      // fixint, negative fixint, nil, false, true: the byte is the value
    } else if (b <= 0x8f) {
      items = (b & 0x0f) * 2; // fixmap
    } else if (b <= 0x9f) {
      items = b & 0x0f; // fixarray
    } else if (b <= 0xbf) {
      skip = b & 0x1f; // fixstr
    } else {
      switch (b) {
        case NEVER_USED:
          return false;
        case BIN8:
        case STR8:
          if (end - pos < 1) return false;
          skip = bytes[pos]!;
          pos += 1;
          break;
        case BIN16:
        case STR16:
          if (end - pos < 2) return false;
          skip = (bytes[pos]! << 8) | bytes[pos + 1]!;
          pos += 2;
          break;
        case BIN32:
        case STR32:
          if (end - pos < 4) return false;
          skip = readU32(bytes, pos);
          pos += 4;
          break;
        case EXT8:
          if (end - pos < 2) return false;
          skip = bytes[pos]! + 1; // length, then the type byte
          pos += 1;
          break;
        case EXT16:
          if (end - pos < 3) return false;
          skip = ((bytes[pos]! << 8) | bytes[pos + 1]!) + 1;
          pos += 2;
          break;
        case EXT32:
          if (end - pos < 5) return false;
          skip = readU32(bytes, pos) + 1;
          pos += 4;
          break;
        case FLOAT32:
        case UINT32:
        case INT32:
          skip = 4;
          break;
        case FLOAT64:
        case UINT64:
        case INT64:
          skip = 8;
          break;
        case UINT8:
        case INT8:
          skip = 1;
          break;
        case UINT16:
        case INT16:
          skip = 2;
          break;
        case ARRAY16:
        case MAP16:
          if (end - pos < 2) return false;
          items = (bytes[pos]! << 8) | bytes[pos + 1]!;
          if (b === MAP16) items *= 2;
          pos += 2;
          break;
        case ARRAY32:
        case MAP32:
          if (end - pos < 4) return false;
          items = readU32(bytes, pos);
          if (b === MAP32) items *= 2;
          pos += 4;
          break;
        default:
          // fixext 1, 2, 4, 8, 16: a type byte and 2^k data bytes
          if (b >= FIXEXT1 && b <= FIXEXT16) skip = 1 + (1 << (b - FIXEXT1));
          else return false;
      }
    }
    if (skip > end - pos) return false;
    pos += skip;
    pending += items;
    if (pending > end - pos) return false;
  }
  return pos === end;
}

function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) >>> 0) + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
}
