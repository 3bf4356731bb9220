/**
 * Binary XML, the encoding of EVTX records. A record is a fragment holding a template instance: a
 * reference to a template (an element tree with numbered holes, defined once per chunk and cached)
 * and the values that fill the holes. We parse each template once into a small node tree and
 * instantiate it per record. Every offset is checked against the chunk; every loop is bounded.
 */
import { decodeValue, utf16, type Value, ValueType } from './values.js';

export class BinXmlError extends Error {
  constructor(
    message: string,
    /** Offset within the chunk where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** An element after instantiation: attributes and children with real values. */
export interface Elem {
  name: string;
  attrs: [string, Value][] | null;
  children: (Elem | Value)[];
}

type TNode =
  | TElem
  | { k: 'text'; text: string }
  | { k: 'sub'; index: number; type: number; optional: boolean };
interface TElem {
  k: 'elem';
  name: string;
  attrs: { name: string; value: TNode[] }[] | null;
  children: TNode[];
}

interface Template {
  nodes: TNode[];
  /** Compiled on first use: null = not yet, false = this template needs the generic path. */
  plan: Plan | null | false;
}

/**
 * A template compiled to flat fields: each RawEvent field is a literal or a substitution index
 * (or a mix, joined as text). Covers the System / EventData / UserData shapes nearly every event
 * uses; anything else (nested elements, binary XML values) takes the generic path.
 */
type Part = string | number;
interface FieldOp {
  key: string;
  parts: Part[];
  /** UserData fields never replace a System or EventData field of the same name. */
  keep?: boolean;
}
interface ElementOp {
  /** An element with attributes: `key_attr` per attribute, `key` for its text. */
  key: string;
  attrs: FieldOp[];
  text: Part[] | null;
}
/** A substitution holding a nested fragment (EventData or UserData under its own template). */
interface NestedOp {
  nested: number;
}
type Op = FieldOp | ElementOp | NestedOp;
/** A nested fragment parsed for the fast path: its plan and values, run into the outer event. */
interface FlatFragment {
  plan: Plan;
  values: unknown[];
}
const NOT_FLAT = Symbol('not flat');
interface Plan {
  /** The element the template renders: Event, or EventData / UserData for nested fragments. */
  root: string;
  ops: Op[];
  /** Substitution indexes the plan reads, to check at run time that none holds binary XML. */
  subs: number[];
}

/** Limits that keep hostile input from costing unbounded time or memory. */
const MAX_DEPTH = 48;
const MAX_SUBSTITUTIONS = 8192;
const MAX_TOKENS_PER_RECORD = 200_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export class ChunkBinXml {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, Template>();
  /** Templates by the id their instances name them with (the first 4 bytes of the template GUID). */
  private readonly templatesById = new Map<number, Template>();
  /**
   * Recovering records from chunk slack: their own template definitions were often overwritten
   * when the chunk was reused, so an instance may borrow the live template with the same id.
   */
  lenient = false;
  private readonly resolving = new Set<number>();
  private budget = 0;

  constructor(private readonly buf: Buffer) {}

  /**
   * The fast path: one record straight to flat fields through its template's compiled plan.
   * Returns null when the record needs the generic path (no template, unusual shape).
   */
  parseRecordFlat(start: number, end: number): Record<string, unknown> | null {
    this.budget = MAX_TOKENS_PER_RECORD;
    this.partial = false;
    this.orphanValues = null;
    const fragment = this.flatFragment(start, end, 0, 'Event');
    if (fragment === null) return null;
    const data: Record<string, unknown> = {};
    return runPlan(fragment.plan, fragment.values, data) ? data : null;
  }

  /** A fragment's template plan and values, with nested fragments prepared the same way. */
  private flatFragment(start: number, end: number, depth: number, root: string | null): FlatFragment | null {
    if (depth > MAX_DEPTH) throw new BinXmlError('binary XML nested too deeply', start);
    const buf = this.buf;
    let pos = start;
    if (pos < end && buf[pos] === 0x0f) pos += 4;
    if (pos >= end || (buf[pos] & 0x0f) !== 0x0c) return null;
    const r = this.templateAndValues(pos, end, depth, true);
    if (r.orphan) return null;
    const template = r.template;
    if (template.plan === null) template.plan = compilePlan(template.nodes) ?? false;
    const plan = template.plan;
    if (plan === false || (root !== null && plan.root !== root)) return null;
    return { plan, values: r.values };
  }

  /** Parses one record's binary XML (between `start` and `end`) into its root elements. */
  parseRecord(start: number, end: number): Elem[] {
    this.budget = MAX_TOKENS_PER_RECORD;
    this.partial = false;
    this.orphanValues = null;
    return this.parseFragment(start, end, 0);
  }

  private tick(at: number): void {
    if (--this.budget < 0) throw new BinXmlError('record has too many tokens (corrupt or hostile)', at);
  }

  private check(at: number, len: number, end: number): void {
    if (at < 0 || at + len > end || at + len > this.buf.length) {
      throw new BinXmlError(`truncated binary XML (needs ${len} bytes at ${at})`, at);
    }
  }

  /** A fragment: optional fragment header, then a template instance or plain elements. */
  private parseFragment(pos: number, end: number, depth: number): Elem[] {
    if (depth > MAX_DEPTH) throw new BinXmlError('binary XML nested too deeply', pos);
    const buf = this.buf;
    this.check(pos, 1, end);
    if (buf[pos] === 0x0f) {
      this.check(pos, 4, end);
      pos += 4;
    }
    this.check(pos, 1, end);
    const token = buf[pos];
    if ((token & 0x0f) === 0x0c) return this.parseTemplateInstance(pos, end, depth).elems;
    // Elements without a template: values come only from value tokens.
    const { nodes } = this.parseContent(pos, end, depth, false);
    return this.instantiate(nodes, [], depth).filter(
      (n): n is Elem => typeof n === 'object' && n !== null && !Array.isArray(n),
    );
  }

  private parseTemplateInstance(pos: number, end: number, depth: number): { elems: Elem[]; pos: number } {
    const r = this.templateAndValues(pos, end, depth);
    if (r.orphan) return { elems: [], pos: end };
    const elems = this.instantiate(r.template.nodes, r.values as (Value | Elem[])[], depth).filter(
      (n): n is Elem => typeof n === 'object' && n !== null && !Array.isArray(n),
    );
    return { elems, pos: r.pos };
  }

  /** A template instance: its template (parsed or cached) and its substitution values. */
  private templateAndValues(
    pos: number,
    end: number,
    depth: number,
    flat = false,
  ): {
    template: Template;
    values: (Value | Elem[] | FlatFragment | typeof NOT_FLAT)[];
    pos: number;
    orphan: boolean;
  } {
    const buf = this.buf;
    this.check(pos, 10, end);
    const templateId = buf.readUInt32LE(pos + 2);
    const defOffset = buf.readUInt32LE(pos + 6);
    pos += 10;
    let template: Template;
    const borrowed = this.lenient && defOffset !== pos ? this.borrow(templateId, defOffset) : null;
    if (borrowed) template = borrowed;
    else if (this.lenient && defOffset !== pos && depth === 0) {
      // Recovering, and the template is gone: keep the values, unnamed, rather than nothing.
      try {
        template = this.template(defOffset, buf.length, depth);
      } catch {
        this.orphanValues = this.plainValues(pos, end);
        this.partial = true;
        return { template: { nodes: [], plan: false }, values: [], pos: end, orphan: true };
      }
    } else if (defOffset === pos) {
      // Resident definition: next-offset(4) guid(16) size(4), then the body.
      this.check(pos, 24, end);
      const size = buf.readUInt32LE(pos + 20);
      const bodyEnd = pos + 24 + size;
      if (bodyEnd > end) throw new BinXmlError('template definition runs past the record', pos);
      template = this.template(defOffset, bodyEnd, depth);
      pos = bodyEnd;
    } else {
      template = this.template(defOffset, buf.length, depth);
    }
    // Substitution array: count, (size u16, type u8, pad u8) × count, then the values.
    this.check(pos, 4, end);
    const count = buf.readUInt32LE(pos);
    pos += 4;
    if (count > MAX_SUBSTITUTIONS) throw new BinXmlError(`implausible substitution count ${count}`, pos - 4);
    this.check(pos, count * 4, end);
    const descStart = pos;
    pos += count * 4;
    const values: (Value | Elem[] | FlatFragment | typeof NOT_FLAT)[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const size = buf.readUInt16LE(descStart + i * 4);
      const type = buf[descStart + i * 4 + 2];
      this.check(pos, size, end);
      if (type === ValueType.BinXml) {
        if (size === 0) values[i] = null;
        else if (flat) values[i] = this.flatFragment(pos, pos + size, depth + 1, null) ?? NOT_FLAT;
        else values[i] = this.nested(pos, pos + size, depth + 1);
      } else if (type === ValueType.Null || size === 0) {
        values[i] = type === ValueType.String ? '' : null;
      } else {
        try {
          values[i] = decodeValue(buf, type, pos, size);
        } catch (err) {
          throw new BinXmlError(`substitution ${i}: ${(err as Error).message}`, pos);
        }
      }
      pos += size;
    }
    return { template, values, pos, orphan: false };
  }

  /** Parses (once per chunk) the template whose definition starts at `offset`. */
  private template(offset: number, limit: number, depth: number): Template {
    const cached = this.templates.get(offset);
    if (cached) return cached;
    if (this.resolving.has(offset)) throw new BinXmlError('template refers to itself', offset);
    this.resolving.add(offset);
    try {
      this.check(offset, 24, this.buf.length);
      const size = this.buf.readUInt32LE(offset + 20);
      const bodyStart = offset + 24;
      const bodyEnd = Math.min(bodyStart + size, limit, this.buf.length);
      if (bodyStart + size > this.buf.length)
        throw new BinXmlError('template definition runs past the chunk', offset);
      let pos = bodyStart;
      if (this.buf[pos] === 0x0f) pos += 4;
      const { nodes } = this.parseContent(pos, bodyEnd, depth + 1, true);
      const template: Template = { nodes, plan: null };
      this.templates.set(offset, template);
      this.templatesById.set(this.buf.readUInt32LE(offset + 4), template);
      return template;
    } finally {
      this.resolving.delete(offset);
    }
  }

  /** True when lenient parsing had to leave out a nested fragment it could not read. */
  partial = false;
  /** Substitution values of a recovered record whose template is lost (names unknown). */
  orphanValues: Value[] | null = null;

  /** Decodes a substitution array without its template (BinXml values are skipped). */
  private plainValues(pos: number, end: number): Value[] {
    const buf = this.buf;
    this.check(pos, 4, end);
    const count = buf.readUInt32LE(pos);
    if (count > MAX_SUBSTITUTIONS) throw new BinXmlError(`implausible substitution count ${count}`, pos);
    this.check(pos + 4, count * 4, end);
    const out: Value[] = [];
    let at = pos + 4 + count * 4;
    for (let i = 0; i < count; i++) {
      const size = buf.readUInt16LE(pos + 4 + i * 4);
      const type = buf[pos + 4 + i * 4 + 2];
      this.check(at, size, end);
      if (type !== ValueType.BinXml && type !== ValueType.Null && size > 0)
        out.push(decodeValue(buf, type, at, size));
      at += size;
    }
    return out;
  }

  /**
   * A value that is itself binary XML (Sysmon's EventData, for one). When recovering, an
   * unreadable one is left out and the record kept, marked partial: its System part still tells
   * what happened when, on which host.
   */
  private nested(start: number, end: number, depth: number): Elem[] | null {
    if (!this.lenient) return this.parseFragment(start, end, depth);
    try {
      return this.parseFragment(start, end, depth);
    } catch {
      this.partial = true;
      return null;
    }
  }

  /** The live template an overwritten definition stood for: same id, parsed earlier in the chunk. */
  private borrow(templateId: number, defOffset: number): Template | null {
    const own = this.templates.get(defOffset);
    if (own && this.buf.readUInt32LE(defOffset + 4) === templateId) return own;
    if (defOffset + 8 <= this.buf.length && this.buf.readUInt32LE(defOffset + 4) === templateId) return null;
    return this.templatesById.get(templateId) ?? null;
  }

  /** Reads the name at `offset` (cached); `pos` is where the token's own fields ended. */
  private name(offset: number, pos: number, end: number): { name: string; pos: number } {
    let name = this.names.get(offset);
    if (name === undefined) {
      const buf = this.buf;
      this.check(offset, 8, buf.length);
      const length = buf.readUInt16LE(offset + 6);
      this.check(offset + 8, length * 2, buf.length);
      name = buf.toString('utf16le', offset + 8, offset + 8 + length * 2);
      this.names.set(offset, name);
    }
    // A name defined right here (first use in the chunk) is skipped over.
    if (offset === pos) {
      const length = this.buf.readUInt16LE(offset + 6);
      pos += 8 + length * 2 + 2;
      if (pos > end) throw new BinXmlError('name runs past its element', offset);
    }
    return { name, pos };
  }

  /**
   * Parses nodes until EndElement / EndOfStream / `end`. Returns the nodes and where it stopped
   * (after the closing token).
   */
  private parseContent(
    pos: number,
    end: number,
    depth: number,
    inTemplate: boolean,
  ): { nodes: TNode[]; pos: number } {
    if (depth > MAX_DEPTH) throw new BinXmlError('binary XML nested too deeply', pos);
    const buf = this.buf;
    const nodes: TNode[] = [];
    while (pos < end) {
      this.tick(pos);
      const token = buf[pos];
      switch (token & 0x0f) {
        case 0x00: // EndOfStream
          return { nodes, pos: pos + 1 };
        case 0x04: // EndElement
          return { nodes, pos: pos + 1 };
        case 0x01: {
          const r = this.parseElement(pos, end, depth, inTemplate);
          nodes.push(r.elem);
          pos = r.pos;
          break;
        }
        case 0x05: {
          const r = this.parseValueText(pos, end);
          nodes.push({ k: 'text', text: r.text });
          pos = r.pos;
          break;
        }
        case 0x07: {
          // CDATA: u16 length (chars) + UTF-16
          this.check(pos, 3, end);
          const len = buf.readUInt16LE(pos + 1);
          this.check(pos + 3, len * 2, end);
          nodes.push({ k: 'text', text: buf.toString('utf16le', pos + 3, pos + 3 + len * 2) });
          pos += 3 + len * 2;
          break;
        }
        case 0x08: {
          this.check(pos, 3, end);
          nodes.push({ k: 'text', text: String.fromCharCode(buf.readUInt16LE(pos + 1)) });
          pos += 3;
          break;
        }
        case 0x09: {
          this.check(pos, 5, end);
          const r = this.name(buf.readUInt32LE(pos + 1), pos + 5, end);
          nodes.push({ k: 'text', text: ENTITIES[r.name] ?? `&${r.name};` });
          pos = r.pos;
          break;
        }
        case 0x0a: {
          // Processing instruction target + data: not event content.
          this.check(pos, 5, end);
          pos = this.name(buf.readUInt32LE(pos + 1), pos + 5, end).pos;
          break;
        }
        case 0x0b: {
          this.check(pos, 3, end);
          pos += 3 + buf.readUInt16LE(pos + 1) * 2;
          break;
        }
        case 0x0d:
        case 0x0e: {
          this.check(pos, 4, end);
          nodes.push({
            k: 'sub',
            index: buf.readUInt16LE(pos + 1),
            type: buf[pos + 3],
            optional: (token & 0x0f) === 0x0e,
          });
          pos += 4;
          break;
        }
        case 0x0f:
          pos += 4;
          break;
        case 0x0c: {
          // A template instance inside content (nested fragment): instantiate it in place.
          const r = this.parseTemplateInstance(pos, end, depth + 1);
          for (const e of r.elems) nodes.push(frozenElem(e));
          pos = r.pos;
          break;
        }
        default:
          throw new BinXmlError(`unexpected token 0x${token.toString(16).padStart(2, '0')}`, pos);
      }
    }
    return { nodes, pos };
  }

  private parseValueText(pos: number, end: number): { text: string; pos: number } {
    const buf = this.buf;
    this.check(pos, 2, end);
    const type = buf[pos + 1];
    if (type === ValueType.String || type === ValueType.AnsiString) {
      this.check(pos, 4, end);
      const len = buf.readUInt16LE(pos + 2);
      const bytes = type === ValueType.String ? len * 2 : len;
      this.check(pos + 4, bytes, end);
      const text =
        type === ValueType.String
          ? utf16(buf, pos + 4, pos + 4 + bytes)
          : buf.toString('latin1', pos + 4, pos + 4 + bytes);
      return { text, pos: pos + 4 + bytes };
    }
    throw new BinXmlError(`value token of type 0x${type.toString(16)} is not text`, pos);
  }

  private parseElement(
    pos: number,
    end: number,
    depth: number,
    inTemplate: boolean,
  ): { elem: TElem; pos: number } {
    if (depth > MAX_DEPTH) throw new BinXmlError('elements nested too deeply', pos);
    const buf = this.buf;
    const token = buf[pos];
    // Inside templates: token(1) dependency id(2) size(4) name offset(4). Records written without
    // a template (the files other parsers reject) omit the dependency id: token(1) size(4) name(4).
    const fixed = inTemplate ? 11 : 9;
    this.check(pos, fixed, end);
    const nameOffset = buf.readUInt32LE(pos + fixed - 4);
    let cursor = pos + fixed;
    const hasAttrs = (token & 0x40) !== 0;
    const named = this.name(nameOffset, cursor, end);
    cursor = named.pos;
    let attrs: TElem['attrs'] = null;
    if (hasAttrs) {
      this.check(cursor, 4, end);
      const listSize = buf.readUInt32LE(cursor);
      cursor += 4;
      const listEnd = cursor + listSize;
      if (listEnd > end) throw new BinXmlError('attribute list runs past its element', cursor);
      attrs = [];
      while (cursor < listEnd) {
        this.tick(cursor);
        const t = buf[cursor];
        if ((t & 0x0f) !== 0x06) break;
        this.check(cursor, 5, end);
        const an = this.name(buf.readUInt32LE(cursor + 1), cursor + 5, end);
        cursor = an.pos;
        const value = this.parseAttributeValue(cursor, listEnd);
        attrs.push({ name: an.name, value: value.nodes });
        cursor = value.pos;
        if ((t & 0x40) === 0) break;
      }
      cursor = Math.max(cursor, listEnd);
    }
    this.check(cursor, 1, end);
    const close = buf[cursor];
    if (close === 0x03)
      return { elem: { k: 'elem', name: named.name, attrs, children: [] }, pos: cursor + 1 };
    if (close !== 0x02)
      throw new BinXmlError(`expected the end of a start tag, found 0x${close.toString(16)}`, cursor);
    const content = this.parseContent(cursor + 1, end, depth + 1, inTemplate);
    return { elem: { k: 'elem', name: named.name, attrs, children: content.nodes }, pos: content.pos };
  }

  /** An attribute's value: value text, substitutions, character and entity references. */
  private parseAttributeValue(pos: number, end: number): { nodes: TNode[]; pos: number } {
    const buf = this.buf;
    const nodes: TNode[] = [];
    while (pos < end) {
      this.tick(pos);
      const t = buf[pos] & 0x0f;
      if (t === 0x05) {
        const r = this.parseValueText(pos, end);
        nodes.push({ k: 'text', text: r.text });
        pos = r.pos;
      } else if (t === 0x0d || t === 0x0e) {
        this.check(pos, 4, end);
        nodes.push({ k: 'sub', index: buf.readUInt16LE(pos + 1), type: buf[pos + 3], optional: t === 0x0e });
        pos += 4;
      } else if (t === 0x08) {
        this.check(pos, 3, end);
        nodes.push({ k: 'text', text: String.fromCharCode(buf.readUInt16LE(pos + 1)) });
        pos += 3;
      } else if (t === 0x09) {
        this.check(pos, 5, end);
        const r = this.name(buf.readUInt32LE(pos + 1), pos + 5, end);
        nodes.push({ k: 'text', text: ENTITIES[r.name] ?? `&${r.name};` });
        pos = r.pos;
      } else break;
    }
    return { nodes, pos };
  }

  private instantiate(nodes: TNode[], values: (Value | Elem[])[], depth: number): (Elem | Value)[] {
    const out: (Elem | Value)[] = [];
    for (const node of nodes) {
      if (node.k === 'text') out.push(node.text);
      else if (node.k === 'sub') {
        const v = node.index < values.length ? values[node.index] : null;
        if (v === null || v === undefined) continue;
        if (Array.isArray(v) && v.length > 0 && isElem(v[0])) out.push(...(v as Elem[]));
        else out.push(v as Value);
      } else out.push(this.instantiateElem(node, values, depth));
    }
    return out;
  }

  private instantiateElem(node: TElem, values: (Value | Elem[])[], depth: number): Elem {
    if (depth > MAX_DEPTH * 2) throw new BinXmlError('template instantiation nested too deeply', 0);
    let attrs: [string, Value][] | null = null;
    if (node.attrs) {
      attrs = [];
      for (const a of node.attrs) {
        const parts = this.instantiate(a.value, values, depth + 1);
        // An attribute whose optional substitution is empty is not rendered (Windows drops it).
        if (parts.length === 0 && a.value.some((n) => n.k === 'sub')) continue;
        attrs.push([
          a.name,
          parts.length === 1 && !isElem(parts[0]) ? (parts[0] as Value) : parts.map(textOfValue).join(''),
        ]);
      }
    }
    return { name: node.name, attrs, children: this.instantiate(node.children, values, depth + 1) };
  }
}

function isElem(v: unknown): v is Elem {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'children' in v;
}

/** A nested, already instantiated element kept inside a template: wrap it as a constant node. */
function frozenElem(e: Elem): TNode {
  return {
    k: 'elem',
    name: e.name,
    attrs: e.attrs
      ? e.attrs.map(([name, v]) => ({ name, value: [{ k: 'text', text: textOfValue(v) }] as TNode[] }))
      : null,
    children: e.children.map((c) =>
      isElem(c) ? frozenElem(c) : ({ k: 'text', text: textOfValue(c) } as TNode),
    ),
  };
}

export function textOfValue(v: Elem | Value): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(textOfValue).join(',');
  if (typeof v === 'object') return '';
  return String(v);
}

export { isElem };

/**
 * Compiles a template to flat fields, or returns null when its shape needs the generic path. The
 * root is an Event (System, then EventData / UserData, often as a nested fragment) or, for nested
 * fragments, an EventData or UserData element on its own.
 */
function compilePlan(nodes: TNode[]): Plan | null {
  if (nodes.length !== 1 || nodes[0].k !== 'elem') return null;
  const root = nodes[0];
  const ops: Op[] = [];
  const subs: number[] = [];
  const parts = (content: TNode[]): Part[] | null => {
    const out: Part[] = [];
    for (const n of content) {
      if (n.k === 'elem') return null;
      if (n.k === 'text') out.push(n.text);
      else {
        if (n.type === ValueType.BinXml) return null;
        out.push(n.index);
        subs.push(n.index);
      }
    }
    return out;
  };
  const system = (content: TNode[]): boolean => {
    for (const el of content) {
      if (el.k !== 'elem') return false;
      const text = parts(el.children);
      if (text === null) return false;
      if (el.attrs && el.attrs.length > 0) {
        const attrs: FieldOp[] = [];
        for (const a of el.attrs) {
          const ap = parts(a.value);
          if (ap === null) return false;
          attrs.push({ key: `${el.name}_${a.name}`, parts: ap });
        }
        ops.push({ key: el.name, attrs, text: el.children.length > 0 ? text : null });
      } else ops.push({ key: el.name, parts: text });
    }
    return true;
  };
  const eventData = (content: TNode[]): boolean => {
    if (content.length === 0) {
      ops.push({ key: 'EventData', parts: [] });
      return true;
    }
    for (const el of content) {
      if (el.k !== 'elem' || el.children.some((c) => c.k === 'elem')) return false;
      const name = el.name === 'Data' ? dataName(el) : el.attrs && el.attrs.length > 0 ? null : el.name;
      if (name === null) return false;
      const text = parts(el.children);
      if (text === null) return false;
      ops.push({ key: name, parts: text });
    }
    return true;
  };
  const userData = (content: TNode[]): boolean => {
    if (content.length !== 1 || content[0].k !== 'elem') return false;
    for (const el of content[0].children) {
      if (el.k !== 'elem' || (el.attrs && el.attrs.length > 0) || el.children.some((c) => c.k === 'elem'))
        return false;
      const text = parts(el.children);
      if (text === null) return false;
      ops.push({ key: el.name, parts: text, keep: true });
    }
    return true;
  };
  if (root.name === 'EventData') return eventData(root.children) ? { root: root.name, ops, subs } : null;
  if (root.name === 'UserData') return userData(root.children) ? { root: root.name, ops, subs } : null;
  if (root.name !== 'Event') return null;
  for (const section of root.children) {
    if (section.k === 'sub') {
      // EventData / UserData as a nested fragment under a template of its own.
      if (section.type !== ValueType.BinXml) return null;
      ops.push({ nested: section.index });
      continue;
    }
    if (section.k !== 'elem') return null;
    const ok =
      section.name === 'System'
        ? system(section.children)
        : section.name === 'EventData'
          ? eventData(section.children)
          : section.name === 'UserData'
            ? userData(section.children)
            : false;
    if (!ok) return null;
  }
  return { root: root.name, ops, subs };
}

/** `<Data Name="X">`: the literal name, or null when the name is not a plain literal. */
function dataName(el: TElem): string | null {
  if (el.attrs?.length !== 1 || el.attrs[0].name !== 'Name') return null;
  const v = el.attrs[0].value;
  return v.length === 1 && v[0].k === 'text' ? v[0].text : null;
}

function partValue(parts: Part[], values: Value[]): Value | undefined {
  if (parts.length === 1) {
    const p = parts[0];
    if (typeof p === 'string') return p;
    const v = p < values.length ? values[p] : null;
    return v === null || v === undefined ? undefined : v;
  }
  let s = '';
  let any = false;
  for (const p of parts) {
    if (typeof p === 'string') {
      s += p;
      any = true;
    } else {
      const v = p < values.length ? values[p] : null;
      if (v !== null && v !== undefined) {
        s += textOfValue(v);
        any = true;
      }
    }
  }
  return any ? s : undefined;
}

/**
 * Runs a plan into `data`: the same fields, with the same values, as instantiating and flattening
 * would give. Returns false when a value turns out to need the generic path.
 */
function runPlan(plan: Plan, values: unknown[], data: Record<string, unknown>): boolean {
  for (const i of plan.subs) {
    const v = values[i];
    if (
      v === NOT_FLAT ||
      (typeof v === 'object' && v !== null && !Array.isArray(v)) ||
      (Array.isArray(v) && v.length > 0 && isElem(v[0]))
    ) {
      return false;
    }
  }
  const scalars = values as Value[];
  for (const op of plan.ops) {
    if ('nested' in op) {
      const v = values[op.nested];
      if (v === null || v === undefined) continue;
      if (v === NOT_FLAT || typeof v !== 'object' || !('plan' in v)) return false;
      const fragment = v as FlatFragment;
      // Nested EventData has to be nested in an Event; UserData likewise.
      if (fragment.plan.root !== 'EventData' && fragment.plan.root !== 'UserData') return false;
      if (!runPlan(fragment.plan, fragment.values, data)) return false;
    } else if ('attrs' in op) {
      let any = false;
      for (const a of op.attrs) {
        const v = partValue(a.parts, scalars);
        // An attribute made only of empty substitutions is not rendered.
        if (v === undefined && a.parts.some((p) => typeof p === 'number')) continue;
        data[a.key] = v ?? '';
        any = true;
      }
      const text = op.text === null ? undefined : partValue(op.text, scalars);
      if (text !== undefined) data[op.key] = text;
      else if (!any) data[op.key] = '';
    } else if (!op.keep || !(op.key in data)) {
      const v = partValue(op.parts, scalars);
      data[op.key] = v ?? '';
    }
  }
  return true;
}
