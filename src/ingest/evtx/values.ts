/**
 * EVTX value types (the substitution values of template instances). Values keep their type in the
 * RawEvent (numbers stay numbers); the types without a JSON equivalent are rendered as text the
 * way Windows and libevtx render them: GUIDs `{XXXXXXXX-…}`, SIDs `S-1-5-…`, hex integers
 * zero-padded `0x%08x` / `0x%016x`, FILETIMEs as ISO 8601 with all seven 100 ns digits.
 */

export enum ValueType {
  Null = 0x00,
  String = 0x01,
  AnsiString = 0x02,
  Int8 = 0x03,
  UInt8 = 0x04,
  Int16 = 0x05,
  UInt16 = 0x06,
  Int32 = 0x07,
  UInt32 = 0x08,
  Int64 = 0x09,
  UInt64 = 0x0a,
  Real32 = 0x0b,
  Real64 = 0x0c,
  Bool = 0x0d,
  Binary = 0x0e,
  Guid = 0x0f,
  SizeT = 0x10,
  FileTime = 0x11,
  SysTime = 0x12,
  Sid = 0x13,
  HexInt32 = 0x14,
  HexInt64 = 0x15,
  EvtHandle = 0x20,
  BinXml = 0x21,
  EvtXml = 0x23,
  ArrayFlag = 0x80,
}

/** A decoded value. BinXml values are parsed by the caller (they need the chunk). */
export type Value = string | number | boolean | null | Value[];

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UPPER = HEX.map((h) => h.toUpperCase());

export function utf16(buf: Buffer, start: number, end: number): string {
  // Strings in substitutions may carry their terminating NUL(s); Windows does not render them.
  while (end - 2 >= start && buf[end - 1] === 0 && buf[end - 2] === 0) end -= 2;
  if ((end - start) & 1) end--;
  return end > start ? buf.toString('utf16le', start, end) : '';
}

export function guid(buf: Buffer, at: number): string {
  // Data1–3 are little-endian numbers, Data4 bytes as they are; upper-case as Windows shows them.
  const h = (i: number) => HEX_UPPER[buf[at + i]];
  return `{${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}}`;
}

export function sid(buf: Buffer, at: number, end: number): string {
  if (end - at < 8) return '';
  const revision = buf[at];
  const count = buf[at + 1];
  // The identifier authority is a 48-bit big-endian number.
  const authority = buf.readUIntBE(at + 2, 6);
  let s = `S-${revision}-${authority}`;
  for (let i = 0; i < count && at + 8 + i * 4 + 4 <= end; i++) s += `-${buf.readUInt32LE(at + 8 + i * 4)}`;
  return s;
}

const EPOCH_DIFF_100NS = 116_444_736_000_000_000n;
/** Seconds from 1601 to 1970. */
const EPOCH_DIFF_S = 11_644_473_600;

/** FILETIME (100 ns ticks since 1601) → `2019-08-30T12:54:07.8737899Z`, exact to the tick. */
export function fileTime(buf: Buffer, at: number): string {
  return fileTimeOf(buf.readUInt32LE(at + 4), buf.readUInt32LE(at));
}

export function fileTimeText(ticks: bigint): string {
  return fileTimeOf(Number(ticks >> 32n), Number(ticks & 0xffffffffn));
}

let lastSecond = Number.NaN;
let lastSecondText = '';

/**
 * The text of the FILETIME `hi` × 2³² + `lo`, in plain numbers (BigInt arithmetic cost most of a
 * timestamp): 2³² = 429 × 10⁷ + 4,967,296, so the seconds are hi × 429 plus what
 * hi × 4,967,296 + lo (below 2⁵³, exact) holds. Events of a chunk share their seconds: the date
 * text of the last one is kept.
 */
function fileTimeOf(hi: number, lo: number): string {
  // Beyond the year 16,000 (damaged values) the product outgrows 2⁵³: exact BigInt arithmetic then.
  if (hi >= 0x40000000) return fileTimeBig((BigInt(hi) << 32n) | BigInt(lo));
  const rest = hi * 4_967_296 + lo;
  const second = hi * 429 + Math.floor(rest / 10_000_000);
  const frac = rest % 10_000_000;
  if (second !== lastSecond) {
    const d = new Date((second - EPOCH_DIFF_S) * 1000);
    if (Number.isNaN(d.getTime())) return '';
    lastSecond = second;
    lastSecondText = d.toISOString().slice(0, 19);
  }
  return `${lastSecondText}.${String(frac).padStart(7, '0')}Z`;
}

function fileTimeBig(ticks: bigint): string {
  const d = new Date(Number(ticks / 10_000_000n - BigInt(EPOCH_DIFF_S)) * 1000);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19)}.${(ticks % 10_000_000n).toString().padStart(7, '0')}Z`;
}

/** FILETIME → epoch milliseconds (for RawEvent.time). */
export function fileTimeMs(ticks: bigint): number {
  return Number((ticks - EPOCH_DIFF_100NS) / 10_000n);
}

export function sysTime(buf: Buffer, at: number): string {
  const year = buf.readUInt16LE(at);
  const month = buf.readUInt16LE(at + 2);
  const day = buf.readUInt16LE(at + 6);
  const hour = buf.readUInt16LE(at + 8);
  const minute = buf.readUInt16LE(at + 10);
  const second = buf.readUInt16LE(at + 12);
  const ms = buf.readUInt16LE(at + 14);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(hour)}:${p(minute)}:${p(second)}.${p(ms, 3)}Z`;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function hex64(buf: Buffer, at: number): string {
  return `0x${buf.readBigUInt64LE(at).toString(16).padStart(16, '0')}`;
}

function bigToValue(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

function binaryHex(buf: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX_UPPER[buf[i]];
  return s;
}

/** Fixed element sizes of the scalar types, for arrays. */
const SIZE: Partial<Record<number, number>> = {
  [ValueType.Int8]: 1,
  [ValueType.UInt8]: 1,
  [ValueType.Int16]: 2,
  [ValueType.UInt16]: 2,
  [ValueType.Int32]: 4,
  [ValueType.UInt32]: 4,
  [ValueType.Int64]: 8,
  [ValueType.UInt64]: 8,
  [ValueType.Real32]: 4,
  [ValueType.Real64]: 8,
  [ValueType.Bool]: 4,
  [ValueType.Guid]: 16,
  [ValueType.FileTime]: 8,
  [ValueType.SysTime]: 16,
  [ValueType.HexInt32]: 4,
  [ValueType.HexInt64]: 8,
};

/**
 * Decodes a substitution value of `size` bytes at `at`. Throws RangeError on sizes that do not fit
 * the type; the caller reports it against the record.
 */
export function decodeValue(buf: Buffer, type: number, at: number, size: number): Value {
  const end = at + size;
  if (end > buf.length) throw new RangeError(`value of type 0x${type.toString(16)} runs past the chunk`);
  if (type & ValueType.ArrayFlag) return decodeArray(buf, type & 0x7f, at, size);
  switch (type) {
    case ValueType.Null:
      return null;
    case ValueType.String:
      return utf16(buf, at, end);
    case ValueType.AnsiString: {
      let e = end;
      while (e > at && buf[e - 1] === 0) e--;
      return buf.toString('latin1', at, e);
    }
    case ValueType.Int8:
      return buf.readInt8(at);
    case ValueType.UInt8:
      return buf[at];
    case ValueType.Int16:
      return buf.readInt16LE(at);
    case ValueType.UInt16:
      return buf.readUInt16LE(at);
    case ValueType.Int32:
      return buf.readInt32LE(at);
    case ValueType.UInt32:
      return buf.readUInt32LE(at);
    case ValueType.Int64:
      return bigToValue(buf.readBigInt64LE(at));
    case ValueType.UInt64:
      return bigToValue(buf.readBigUInt64LE(at));
    case ValueType.Real32:
      return buf.readFloatLE(at);
    case ValueType.Real64:
      return buf.readDoubleLE(at);
    case ValueType.Bool:
      return size >= 4 ? buf.readUInt32LE(at) !== 0 : buf[at] !== 0;
    case ValueType.Binary:
      return binaryHex(buf, at, end);
    case ValueType.Guid:
      if (size < 16) throw new RangeError('GUID shorter than 16 bytes');
      return guid(buf, at);
    case ValueType.SizeT:
      return size === 8 ? hex64(buf, at) : hex32(buf.readUInt32LE(at));
    case ValueType.FileTime:
      return fileTime(buf, at);
    case ValueType.SysTime:
      if (size < 16) throw new RangeError('SYSTEMTIME shorter than 16 bytes');
      return sysTime(buf, at);
    case ValueType.Sid:
      return sid(buf, at, end);
    case ValueType.HexInt32:
      return hex32(buf.readUInt32LE(at));
    case ValueType.HexInt64:
      return hex64(buf, at);
    case ValueType.EvtHandle:
      return size === 8 ? bigToValue(buf.readBigUInt64LE(at)) : buf.readUInt32LE(at);
    case ValueType.EvtXml:
      return utf16(buf, at, end);
    default:
      // Unknown types: keep the bytes, never drop the value.
      return binaryHex(buf, at, end);
  }
}

function decodeArray(buf: Buffer, type: number, at: number, size: number): Value[] {
  const end = at + size;
  if (type === ValueType.String) {
    // NUL-separated UTF-16 strings.
    const out: Value[] = [];
    let start = at;
    for (let i = at; i + 1 < end; i += 2) {
      if (buf[i] === 0 && buf[i + 1] === 0) {
        out.push(buf.toString('utf16le', start, i));
        start = i + 2;
      }
    }
    if (start < end - 1) out.push(buf.toString('utf16le', start, end - ((end - start) & 1)));
    return out;
  }
  if (type === ValueType.AnsiString)
    return buf
      .toString('latin1', at, end)
      .split('\0')
      .filter((s) => s !== '');
  const width = type === ValueType.Sid ? 0 : (SIZE[type] ?? 0);
  if (width === 0) {
    if (type === ValueType.Sid) {
      const out: Value[] = [];
      let p = at;
      while (p + 8 <= end) {
        const len = 8 + buf[p + 1] * 4;
        out.push(sid(buf, p, Math.min(end, p + len)));
        p += len;
      }
      return out;
    }
    return [binaryHex(buf, at, end)];
  }
  const out: Value[] = [];
  for (let p = at; p + width <= end; p += width) out.push(decodeValue(buf, type, p, width));
  return out;
}
