/**
 * Windows XML event exports (`wevtutil qe /f:xml`, Event Viewer "Save as XML", `Get-WinEvent |
 * ForEach ToXml`): a sequence of <Event> elements, with or without an <Events> root. Elements never
 * nest, so we cut the text at <Event>…</Event> boundaries as it streams in and parse one element at
 * a time; a broken element is reported and the next one is still read.
 */
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { fromEvtxJson } from './json-events.js';
import type { RawEvent } from './raw-event.js';

export type XmlPiece = { line: number; event: RawEvent } | { line: number; error: string };

// Loaded on the first XML input: about 25 ms that every other run would pay at start-up.
let xmlParser: XMLParser | null = null;
function parser(): XMLParser {
  if (xmlParser === null) {
    const { XMLParser: Parser } = createRequire(import.meta.url)(
      'fast-xml-parser',
    ) as typeof import('fast-xml-parser');
    xmlParser = new Parser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      attributesGroupName: '#attributes',
      textNodeName: '#text',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      isArray: (name) => name === 'Data',
    });
  }
  return xmlParser;
}

const MAX_ELEMENT_CHARS = 16 * 1024 * 1024;
const START = /<Event[\s>]/g;

export class XmlEventSplitter {
  private buf = '';
  /** Line number of buf[0]. */
  private line = 1;

  constructor(private readonly file: string) {}

  push(text: string): XmlPiece[] {
    this.buf += text;
    return this.drain(false);
  }

  end(): XmlPiece[] {
    return this.drain(true);
  }

  private drain(atEnd: boolean): XmlPiece[] {
    const out: XmlPiece[] = [];
    const buf = this.buf;
    let pos = 0;
    let line = this.line; // line number at buf[pos]
    for (;;) {
      START.lastIndex = pos;
      const m = START.exec(buf);
      if (!m) break;
      line += countLines(buf, pos, m.index);
      pos = m.index;
      const close = buf.indexOf('</Event>', pos);
      if (close < 0) {
        if (atEnd) {
          out.push({ line, error: 'truncated <Event> element at end of input' });
          line += countLines(buf, pos, buf.length);
          pos = buf.length;
        }
        break;
      }
      // Another <Event> opening before this one closes means this one is broken: report, resync.
      START.lastIndex = pos + 6;
      const next = START.exec(buf);
      if (next && next.index < close) {
        out.push({ line, error: '<Event> element not closed before the next one starts' });
        line += countLines(buf, pos, next.index);
        pos = next.index;
        continue;
      }
      const end = close + '</Event>'.length;
      out.push(this.parseElement(buf.slice(pos, end), line));
      line += countLines(buf, pos, end);
      pos = end;
    }
    if (!atEnd && buf.length - pos > MAX_ELEMENT_CHARS) {
      out.push({ line, error: `<Event> element larger than ${MAX_ELEMENT_CHARS} characters; skipped` });
      line += countLines(buf, pos, buf.length);
      pos = buf.length;
    }
    if (atEnd) {
      line += countLines(buf, pos, buf.length);
      pos = buf.length;
    }
    // Text between elements that holds no <Event> start is dropped, but keep a tail that might
    // be the beginning of one ("<Eve" split across chunks).
    if (pos < buf.length && buf.indexOf('<', pos) < 0) {
      line += countLines(buf, pos, buf.length);
      pos = buf.length;
    }
    this.buf = buf.slice(pos);
    this.line = line;
    return out;
  }

  private parseElement(xml: string, line: number): XmlPiece {
    let parsed: Record<string, unknown>;
    try {
      parsed = parser().parse(xml, true) as Record<string, unknown>;
    } catch (err) {
      return {
        line,
        error: `malformed XML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      };
    }
    const event = parsed.Event;
    if (typeof event !== 'object' || event === null) return { line, error: '<Event> element has no content' };
    const ev = fromEvtxJson(event as Record<string, unknown>, { file: this.file, line }, 'windows-xml');
    return { line, event: ev };
  }
}

function countLines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
