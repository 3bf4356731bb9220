/**
 * KQL functions SQL cannot express, written in TypeScript and registered with the store's DuckDB
 * connection: parse_xml (XML to the property bag Kusto makes: attributes as "@name", text as
 * "#text") and parse_user_agent (browser, operating system and device families from a User-Agent
 * string; the common families, not Kusto's full uap-core tables). They return JSON text.
 */
import { type DuckDBConnection, DuckDBScalarFunction, VARCHAR } from '@duckdb/node-api';
import { XMLParser } from 'fast-xml-parser';

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  // Never expand entities a document declares (billion-laughs): logs are untrusted.
  processEntities: false,
});

export function parseXmlToJson(text: string): string | null {
  try {
    return JSON.stringify(xml.parse(text, true));
  } catch {
    return null;
  }
}

interface Family {
  Family: string;
  MajorVersion: string;
  MinorVersion: string;
  Patch: string;
}

const version = (family: string, v = ''): Family => {
  const [MajorVersion = '', MinorVersion = '', Patch = ''] = v.split(/[._]/);
  return { Family: family, MajorVersion, MinorVersion, Patch };
};

/** First match wins: more specific browsers before the engines they are built on. */
const BROWSERS: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/([\d.]+)/, 'Edge'],
  [/OPR\/([\d.]+)/, 'Opera'],
  [/Firefox\/([\d.]+)/, 'Firefox'],
  [/(?:Chrome|CriOS)\/([\d.]+)/, 'Chrome'],
  [/Version\/([\d.]+).*Safari\//, 'Safari'],
  [/MSIE ([\d.]+)/, 'IE'],
  [/Trident\/.*rv:([\d.]+)/, 'IE'],
  [/curl\/([\d.]+)/, 'curl'],
  [/python-requests\/([\d.]+)/, 'Python Requests'],
  [/PowerShell\/([\d.]+)/, 'PowerShell'],
];

const SYSTEMS: [RegExp, string, ((m: RegExpExecArray) => string)?][] = [
  [
    /Windows NT ([\d.]+)/,
    'Windows',
    (m) => ({ '10.0': '10', '6.3': '8.1', '6.2': '8', '6.1': '7' })[m[1]] ?? m[1],
  ],
  [/(?:iPhone|CPU) OS ([\d_]+)/, 'iOS'],
  [/Android ([\d.]+)/, 'Android'],
  [/Mac OS X ([\d_.]+)/, 'Mac OS X'],
  [/CrOS \S+ ([\d.]+)/, 'Chrome OS'],
  [/Linux/, 'Linux'],
];

export function parseUserAgentToJson(ua: string): string {
  let browser = version('Other');
  for (const [re, family] of BROWSERS) {
    const m = re.exec(ua);
    if (m) {
      browser = version(family, m[1]);
      break;
    }
  }
  let os = version('Other');
  for (const [re, family, map] of SYSTEMS) {
    const m = re.exec(ua);
    if (m) {
      os = version(family, map ? map(m) : (m[1] ?? ''));
      break;
    }
  }
  const device = /iPhone/.test(ua)
    ? 'iPhone'
    : /iPad/.test(ua)
      ? 'iPad'
      : /Android/.test(ua)
        ? 'Generic Smartphone'
        : 'Other';
  return JSON.stringify({
    Browser: browser,
    OperatingSystem: os,
    Device: { Family: device, Brand: '', Model: '' },
  });
}

function textFunction(name: string, fn: (s: string) => string | null): DuckDBScalarFunction {
  return DuckDBScalarFunction.create({
    name,
    returnType: VARCHAR,
    parameterTypes: [VARCHAR],
    mainFunction: (_info, input, output) => {
      const column = input.getColumnVector(0);
      for (let i = 0; i < input.rowCount; i++) {
        const v = column.getItem(i);
        output.setItem(i, typeof v === 'string' ? fn(v) : null);
      }
      output.flush();
    },
  });
}

export function registerKqlFunctions(connection: DuckDBConnection): void {
  connection.registerScalarFunction(textFunction('lotl_parse_xml', parseXmlToJson));
  connection.registerScalarFunction(textFunction('lotl_parse_user_agent', parseUserAgentToJson));
}
