/**
 * Instantiated EVTX elements → the shapes the rest of lotl uses: the evtx_dump-like JSON object
 * that `fromEvtxJson` flattens into a RawEvent (so EVTX and JSON exports of the same event give
 * the same fields), and XML text for `lotl dump --format xml`.
 */
import { type Elem, isElem, textOfValue } from './binxml.js';
import type { Value } from './values.js';

/**
 * `<A x="1"><B>v</B><B>w</B></A>` → `{ '#attributes': { x: 1 }, B: ['v', 'w'] }`; an element with
 * only text becomes its value (typed when it is one value).
 */
export function elemToJson(el: Elem): unknown {
  let hasElems = false;
  for (const c of el.children) if (isElem(c)) hasElems = true;
  const attrs = el.attrs && el.attrs.length > 0 ? el.attrs : null;
  if (!attrs && !hasElems) return textValue(el.children as Value[]);
  const obj: Record<string, unknown> = {};
  if (attrs) {
    const a: Record<string, unknown> = {};
    for (const [k, v] of attrs) a[k] = v;
    obj['#attributes'] = a;
  }
  const texts: Value[] = [];
  for (const c of el.children) {
    if (isElem(c)) {
      const v = elemToJson(c);
      const prev = obj[c.name];
      if (prev === undefined) obj[c.name] = c.name === 'Data' ? [v] : v;
      else if (Array.isArray(prev) && (c.name === 'Data' || (prev as unknown[]).length > 0))
        (prev as unknown[]).push(v);
      else obj[c.name] = [prev, v];
    } else texts.push(c);
  }
  if (texts.length > 0) obj['#text'] = textValue(texts);
  return obj;
}

function textValue(parts: Value[]): Value {
  if (parts.length === 0) return '';
  if (parts.length === 1) return parts[0];
  return parts.map(textOfValue).join('');
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ESC[c]);
}

/** Pretty XML in the layout evtxexport and Event Viewer use (two-space indent, empty elements closed). */
export function elemToXml(el: Elem, indent = ''): string {
  const attrs = el.attrs ? el.attrs.map(([k, v]) => ` ${k}="${escapeXml(textOfValue(v))}"`).join('') : '';
  const elems = el.children.some(isElem);
  const text = elems ? '' : textValueText(el.children as Value[]);
  // Empty elements close themselves, as evtxexport and Event Viewer write them.
  if (!elems && text === '') return `${indent}<${el.name}${attrs}/>\n`;
  if (!elems) return `${indent}<${el.name}${attrs}>${escapeXml(text)}</${el.name}>\n`;
  let s = `${indent}<${el.name}${attrs}>\n`;
  for (const c of el.children) {
    s += isElem(c) ? elemToXml(c, `${indent}  `) : `${indent}  ${escapeXml(textOfValue(c))}\n`;
  }
  return `${s}${indent}</${el.name}>\n`;
}

function textValueText(parts: Value[]): string {
  return parts.map(textOfValue).join('');
}
