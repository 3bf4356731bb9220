/**
 * A forgiving zip reader. Collected evidence is often zipped by hand and sometimes cut short, and
 * strict readers refuse archives with a wrong comment length (one Security-Datasets zip has one)
 * or no central directory (a truncated copy). We find the central directory by scanning back for
 * its signature and trust only what it says about each member; when there is none we walk the
 * local headers from the start and salvage every member we can, reporting where reading stopped.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

export interface ZipMember {
  name: string;
  method: number;
  compressedSize: number;
  /** Offset of the member's local header. */
  headerOffset: number;
  /** True when sizes were unknown (truncated archive, data descriptor): read to what inflate accepts. */
  sizeUnknown: boolean;
}

export interface ZipListing {
  members: ZipMember[];
  /** Set when the archive is damaged; members listed are the ones still readable. */
  damage: string | null;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

export class ZipSource {
  private constructor(
    private readonly handle: fs.FileHandle,
    readonly path: string,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<ZipSource> {
    const handle = await fs.open(path, 'r');
    const st = await handle.stat();
    return new ZipSource(handle, path, st.size);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async read(pos: number, len: number): Promise<Buffer> {
    const size = Math.max(0, Math.min(len, this.size - pos));
    const buf = Buffer.alloc(size);
    if (size > 0) await this.handle.read(buf, 0, size, pos);
    return buf;
  }

  async list(): Promise<ZipListing> {
    const central = await this.listCentral();
    if (central) return central;
    return this.listLocal();
  }

  /** The end record sits in the last 64 KiB + 22 bytes; take the last signature that parses. */
  private async listCentral(): Promise<ZipListing | null> {
    const tailLen = Math.min(this.size, 65_557);
    const tail = await this.read(this.size - tailLen, tailLen);
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) !== SIG_EOCD) continue;
      let count = tail.readUInt16LE(i + 10);
      let cdSize = tail.readUInt32LE(i + 12);
      let cdOffset = tail.readUInt32LE(i + 16);
      if (cdOffset === 0xffffffff || count === 0xffff) {
        const z64 = await this.readZip64End(this.size - tailLen + i);
        if (!z64) continue;
        ({ count, cdSize, cdOffset } = z64);
      }
      if (cdOffset + cdSize > this.size) continue;
      const cd = await this.read(cdOffset, cdSize);
      const members: ZipMember[] = [];
      let p = 0;
      let damage: string | null = null;
      for (let n = 0; n < count; n++) {
        if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) {
          damage = `central directory entry ${n + 1} of ${count} is damaged (offset ${cdOffset + p})`;
          break;
        }
        const method = cd.readUInt16LE(p + 10);
        let compressedSize = cd.readUInt32LE(p + 20);
        const nameLen = cd.readUInt16LE(p + 28);
        const extraLen = cd.readUInt16LE(p + 30);
        const commentLen = cd.readUInt16LE(p + 32);
        let headerOffset = cd.readUInt32LE(p + 42);
        const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
        const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
        const z = zip64Extra(
          extra,
          cd.readUInt32LE(p + 24) === 0xffffffff,
          compressedSize === 0xffffffff,
          headerOffset === 0xffffffff,
        );
        if (z.compressedSize !== undefined) compressedSize = z.compressedSize;
        if (z.headerOffset !== undefined) headerOffset = z.headerOffset;
        members.push({ name, method, compressedSize, headerOffset, sizeUnknown: false });
        p += 46 + nameLen + extraLen + commentLen;
      }
      const distinct = withoutOverlaps(members);
      if (distinct.length < members.length) {
        const overlap = `${members.length - distinct.length} members overlap others (the shape of a zip bomb): not read`;
        damage = damage ? `${damage}; ${overlap}` : overlap;
      }
      return { members: distinct, damage };
    }
    return null;
  }

  private async readZip64End(
    eocdPos: number,
  ): Promise<{ count: number; cdSize: number; cdOffset: number } | null> {
    const loc = await this.read(eocdPos - 20, 20);
    if (loc.length < 20 || loc.readUInt32LE(0) !== SIG_EOCD64_LOCATOR) return null;
    const recPos = Number(loc.readBigUInt64LE(8));
    const rec = await this.read(recPos, 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== 0x06064b50) return null;
    return {
      count: Number(rec.readBigUInt64LE(32)),
      cdSize: Number(rec.readBigUInt64LE(40)),
      cdOffset: Number(rec.readBigUInt64LE(48)),
    };
  }

  /** No central directory: walk local headers from the start. */
  private async listLocal(): Promise<ZipListing> {
    const members: ZipMember[] = [];
    let pos = 0;
    while (pos + 30 <= this.size) {
      const h = await this.read(pos, 30);
      const sig = h.readUInt32LE(0);
      if (sig === SIG_CENTRAL || sig === SIG_EOCD) break;
      if (sig !== SIG_LOCAL) {
        return { members, damage: `no central directory, and no member header at offset ${pos}` };
      }
      const flags = h.readUInt16LE(6);
      const method = h.readUInt16LE(8);
      const compressedSize = h.readUInt32LE(18);
      const nameLen = h.readUInt16LE(26);
      const extraLen = h.readUInt16LE(28);
      const name = (await this.read(pos + 30, nameLen)).toString('utf8');
      const sizeUnknown = (flags & 0x08) !== 0 || compressedSize === 0xffffffff;
      members.push({ name, method, compressedSize, headerOffset: pos, sizeUnknown });
      if (sizeUnknown) {
        // Without sizes we cannot find the next header; this member is read to the end of the file.
        return {
          members,
          damage: 'no central directory (archive truncated?); later members cannot be located',
        };
      }
      pos += 30 + nameLen + extraLen + compressedSize;
    }
    const truncated = pos > this.size || members.some((m) => m.headerOffset + m.compressedSize > this.size);
    return {
      members,
      damage: truncated
        ? `archive truncated at byte ${this.size}`
        : 'no central directory (archive truncated?)',
    };
  }

  /** Streams one member's uncompressed bytes; `onBytes` hears of the compressed bytes read. */
  async open(member: ZipMember, onBytes?: (n: number) => void): Promise<Readable> {
    const h = await this.read(member.headerOffset, 30);
    if (h.length < 30 || h.readUInt32LE(0) !== SIG_LOCAL) {
      throw new Error(`no member header at offset ${member.headerOffset}`);
    }
    const dataStart = member.headerOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (dataStart >= this.size && member.compressedSize > 0)
      throw new Error('member data lies past the end of the file');
    const end = member.sizeUnknown ? this.size : Math.min(this.size, dataStart + member.compressedSize);
    const raw = createReadStream(this.path, {
      start: dataStart,
      end: Math.max(dataStart, end - 1),
      highWaterMark: 256 * 1024,
    });
    if (onBytes) raw.on('data', (chunk: string | Buffer) => onBytes(chunk.length));
    if (end <= dataStart) {
      raw.destroy();
      const { Readable } = await import('node:stream');
      return Readable.from([]);
    }
    if (member.method === 0) return raw;
    if (member.method !== 8) {
      raw.destroy();
      throw new Error(`compression method ${member.method} is not supported (only stored and deflate)`);
    }
    const inflate = createInflateRaw();
    raw.on('error', (err) => inflate.destroy(err));
    return raw.pipe(inflate);
  }
}

function zip64Extra(
  extra: Buffer,
  needUncompressed: boolean,
  needCompressed: boolean,
  needOffset: boolean,
): { compressedSize?: number; headerOffset?: number } {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const out: { compressedSize?: number; headerOffset?: number } = {};
      if (needUncompressed) q += 8;
      if (needCompressed && q + 8 <= p + 4 + len) {
        out.compressedSize = Number(extra.readBigUInt64LE(q));
        q += 8;
      }
      if (needOffset && q + 8 <= p + 4 + len) out.headerOffset = Number(extra.readBigUInt64LE(q));
      return out;
    }
    p += 4 + len;
  }
  return {};
}

/**
 * Members whose data does not overlap another's, in archive order. Entries of the central
 * directory that point into the same bytes (a zip bomb reads one compressed block thousands of
 * times) are left out; the first member over those bytes is kept.
 */
export function withoutOverlaps(members: ZipMember[]): ZipMember[] {
  const byOffset = [...members].sort((a, b) => a.headerOffset - b.headerOffset);
  const dropped = new Set<ZipMember>();
  let end = -1;
  for (const m of byOffset) {
    if (m.headerOffset < end) {
      dropped.add(m);
      continue;
    }
    // A local header is at least 30 bytes, then the name and the data.
    end = m.headerOffset + 30 + m.compressedSize;
  }
  return dropped.size === 0 ? members : members.filter((m) => !dropped.has(m));
}
