/**
 * KQL functions SQL cannot express, written in TypeScript and registered with the store's DuckDB
 * connection: parse_xml (XML to the property bag Kusto makes: attributes as "@name", text as
 * "#text") and parse_user_agent (browser, operating system and device families from a User-Agent
 * string; the common families, not Kusto's full uap-core tables) and the series functions
 * (series_fit_line, series_fit_2lines, series_decompose_anomalies). They return JSON text.
 */
import { BOOLEAN, type DuckDBConnection, DuckDBScalarFunction, VARCHAR } from '@duckdb/node-api';
import { XMLParser } from 'fast-xml-parser';
import { addressKey, cidrContains, parseCidr, parseIp } from '../detect/ir/ip.js';
import { trimAscii } from '../detect/ir/predicate.js';

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

/**
 * lotl_ip_in_range(address, cidr): the predicate IR's `cidr` test (detect/ir/predicate.ts), with
 * the same parser as the JavaScript matcher; NULL when either is NULL.
 */
function ipInRangeFunction(): DuckDBScalarFunction {
  const ranges = new Map<string, ReturnType<typeof parseCidr>>();
  return DuckDBScalarFunction.create({
    name: 'lotl_ip_in_range',
    returnType: BOOLEAN,
    parameterTypes: [VARCHAR, VARCHAR],
    mainFunction: (_info, input, output) => {
      const addresses = input.getColumnVector(0);
      const cidrs = input.getColumnVector(1);
      for (let i = 0; i < input.rowCount; i++) {
        const a = addresses.getItem(i);
        const c = cidrs.getItem(i);
        if (typeof a !== 'string' || typeof c !== 'string') {
          output.setItem(i, null);
          continue;
        }
        let range = ranges.get(c);
        if (range === undefined) {
          range = parseCidr(c);
          if (ranges.size < 10_000) ranges.set(c, range);
        }
        const ip = parseIp(trimAscii(a));
        output.setItem(i, range !== null && ip !== null && cidrContains(range, ip));
      }
      output.flush();
    },
  });
}

/** lotl_ip_key(address): the address's key (ir/ip.ts addressKey), NULL when it is no address. */
function ipKeyFunction(): DuckDBScalarFunction {
  return DuckDBScalarFunction.create({
    name: 'lotl_ip_key',
    returnType: VARCHAR,
    parameterTypes: [VARCHAR],
    mainFunction: (_info, input, output) => {
      const addresses = input.getColumnVector(0);
      for (let i = 0; i < input.rowCount; i++) {
        const a = addresses.getItem(i);
        const ip = typeof a === 'string' ? parseIp(trimAscii(a)) : null;
        output.setItem(i, ip === null ? null : addressKey(ip));
      }
      output.flush();
    },
  });
}

export function registerKqlFunctions(connection: DuckDBConnection): void {
  connection.registerScalarFunction(ipInRangeFunction());
  connection.registerScalarFunction(ipKeyFunction());
  connection.registerScalarFunction(textFunction('lotl_parse_xml', parseXmlToJson));
  connection.registerScalarFunction(textFunction('lotl_parse_user_agent', parseUserAgentToJson));
  registerSeriesFunctions(connection);
}

// ---------------------------------------------------------------------------------------------
// Series analysis (make-series output): least-squares lines and Kusto's decomposition-based
// anomaly detection. Each returns the tuple Kusto returns, as a JSON array in Kusto's order.

const nums = (text: string): number[] => {
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : Number(x) || 0)) : [];
  } catch {
    return [];
  }
};

interface Line {
  slope: number;
  interception: number;
  fit: number[];
  rsquare: number;
  variance: number;
  rvariance: number;
}

/**
 * y over x = 1..n (shifted by `from`), as Kusto numbers the points: slope, intercept, fitted
 * values, R², and the sample variances (n - 1) of the data and of the residuals.
 */
function fitLine(y: number[], from = 0): Line {
  const n = y.length;
  if (n === 0) return { slope: 0, interception: 0, fit: [], rsquare: 0, variance: 0, rvariance: 0 };
  const xs = y.map((_, i) => from + i + 1);
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (y[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const interception = my - slope * mx;
  const fit = xs.map((x) => slope * x + interception);
  const ssTot = y.reduce((s, v) => s + (v - my) ** 2, 0);
  const ssRes = y.reduce((s, v, i) => s + (v - fit[i]) ** 2, 0);
  return {
    slope,
    interception,
    fit,
    rsquare: ssTot === 0 ? 1 : 1 - ssRes / ssTot,
    variance: n > 1 ? ssTot / (n - 1) : 0,
    rvariance: n > 1 ? ssRes / (n - 1) : 0,
  };
}

function seriesFitLine(y: number[]): unknown[] {
  const l = fitLine(y);
  return [l.rsquare, l.slope, l.variance, l.rvariance, l.interception, l.fit];
}

/** The split into two lines with the least residual. */
function seriesFit2Lines(y: number[]): unknown[] {
  const all = fitLine(y);
  let best: { i: number; left: Line; right: Line; ssRes: number } | null = null;
  for (let i = 2; i <= y.length - 2; i++) {
    const left = fitLine(y.slice(0, i));
    const right = fitLine(y.slice(i), i);
    const ssRes = left.rvariance * (i - 1) + right.rvariance * (y.length - i - 1);
    if (!best || ssRes < best.ssRes) best = { i, left, right, ssRes };
  }
  if (!best) return [all.rsquare, -1, all.variance, all.rvariance, all.fit, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const { i, left, right } = best;
  const fit = [...left.fit, ...right.fit];
  const ssTot = all.variance * (y.length - 1);
  return [
    ssTot === 0 ? 1 : 1 - best.ssRes / ssTot,
    i - 1,
    all.variance,
    best.ssRes / (y.length - 1),
    fit,
    right.rsquare,
    right.slope,
    right.interception,
    right.variance,
    right.rvariance,
    left.rsquare,
    left.slope,
    left.interception,
    left.variance,
    left.rvariance,
  ];
}

const quantile = (sorted: number[], p: number) => {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
};

/** The period (2 … n/2) whose autocorrelation is highest, if above the threshold. */
function detectPeriod(x: number[], threshold: number): number {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const denom = x.reduce((s, v) => s + (v - mean) ** 2, 0);
  if (denom === 0) return 0;
  let best = 0;
  let bestScore = threshold;
  for (let p = 2; p <= Math.floor(n / 2); p++) {
    let num = 0;
    for (let i = p; i < n; i++) num += (x[i] - mean) * (x[i - p] - mean);
    const score = num / denom;
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

/**
 * series_decompose_anomalies(y, threshold=1.5, seasonality=-1, trend='linefit'): baseline =
 * trend + seasonal (per-phase average of the detrended series, the period detected when -1);
 * residuals outside Tukey's fences on their 10th/90th percentiles (`ctukey`) are anomalies
 * (+1 above, -1 below); the score is the residual over the fences' width.
 */
function seriesDecomposeAnomalies(y: number[], args: unknown[]): unknown[] {
  const k = typeof args[0] === 'number' ? args[0] : 1.5;
  const seasonality = typeof args[1] === 'number' ? args[1] : -1;
  const trendKind = typeof args[2] === 'string' ? args[2] : 'linefit';
  const n = y.length;
  const mean = n > 0 ? y.reduce((s, v) => s + v, 0) / n : 0;
  const trend =
    trendKind === 'none' ? y.map(() => 0) : trendKind === 'avg' ? y.map(() => mean) : fitLine(y).fit;
  const detrended = y.map((v, i) => v - trend[i]);
  const period = seasonality === -1 ? detectPeriod(detrended, 0.6) : Math.max(0, Math.trunc(seasonality));
  const seasonal = y.map(() => 0);
  if (period >= 2) {
    for (let phase = 0; phase < period; phase++) {
      const values: number[] = [];
      for (let i = phase; i < n; i += period) values.push(detrended[i]);
      const avg = values.reduce((s, v) => s + v, 0) / values.length;
      for (let i = phase; i < n; i += period) seasonal[i] = avg;
    }
  }
  const baseline = y.map((_, i) => trend[i] + seasonal[i]);
  const residual = y.map((v, i) => v - baseline[i]);
  const sorted = [...residual].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.1);
  const q3 = quantile(sorted, 0.9);
  const iqr = q3 - q1;
  const flags = residual.map((r) => (iqr === 0 ? 0 : r > q3 + k * iqr ? 1 : r < q1 - k * iqr ? -1 : 0));
  const scores = residual.map((r) => (iqr === 0 ? 0 : r > q3 ? (r - q3) / iqr : r < q1 ? (r - q1) / iqr : 0));
  return [flags, scores, baseline];
}

export function seriesFunction(name: string, yText: string, argsText: string): string | null {
  const y = nums(yText);
  let args: unknown[] = [];
  try {
    args = JSON.parse(argsText);
  } catch {
    // defaults
  }
  switch (name) {
    case 'fit_line':
      return JSON.stringify(seriesFitLine(y));
    case 'fit_2lines':
      return JSON.stringify(seriesFit2Lines(y));
    case 'decompose_anomalies':
      return JSON.stringify(seriesDecomposeAnomalies(y, args));
    default:
      return null;
  }
}

export function registerSeriesFunctions(connection: DuckDBConnection): void {
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'lotl_series',
      returnType: VARCHAR,
      parameterTypes: [VARCHAR, VARCHAR, VARCHAR],
      mainFunction: (_info, input, output) => {
        const [names, ys, args] = [0, 1, 2].map((c) => input.getColumnVector(c));
        for (let i = 0; i < input.rowCount; i++) {
          const name = names.getItem(i);
          const y = ys.getItem(i);
          output.setItem(
            i,
            typeof name === 'string' && typeof y === 'string'
              ? seriesFunction(name, y, String(args.getItem(i) ?? '[]'))
              : null,
          );
        }
        output.flush();
      },
    }),
  );
}
