/**
 * The predicate IR as a KQL `where` expression (`lotl rules convert --to kql`): a Sigma rule as a
 * hunting query for Defender or Sentinel, over a table whose columns carry the rule's field names.
 * Kusto's own regex engine is RE2, so the IR's portable patterns carry over; ignoring case uses
 * Kusto's case-insensitive operators (=~, contains, in~) and `(?i)` in regexes.
 */
import { type GlobPart, globPattern, type Node, PredicateError, unportable, visit } from './predicate.js';

/** A node Kusto cannot say as lotl means it (only the streaming engine runs it). */
const refuse = (n: Node): never => {
  throw new PredicateError(unportable(n) ?? n.kind);
};

/** A KQL string literal: JSON's escapes are Kusto's (\\ \" \n \t \uXXXX). */
const str = (s: string) => JSON.stringify(s);

/** A column name, bracketed when it is not a plain identifier. */
const col = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `['${name.replace(/'/g, "\\'")}']`;

const OPS = {
  equals: ['=~', '=='],
  contains: ['contains', 'contains_cs'],
  startswith: ['startswith', 'startswith_cs'],
  endswith: ['endswith', 'endswith_cs'],
} as const;

export function predicateToKql(node: Node): string {
  return visit<string>(node, {
    and: (n) => (n.of.length === 0 ? 'true' : `(${n.of.map(predicateToKql).join(' and ')})`),
    or: (n) => (n.of.length === 0 ? 'false' : `(${n.of.map(predicateToKql).join(' or ')})`),
    not: (n) => `not(${predicateToKql(n.of)})`,
    const: (n) => (n.value ? 'true' : 'false'),
    exists: (n) => `isnotnull(${col(n.field)})`,
    string: (n) => `${col(n.field)} ${OPS[n.op][n.cased ? 1 : 0]} ${str(n.value)}`,
    in: (n) =>
      n.values.length === 0
        ? 'false'
        : `${col(n.field)} ${n.cased ? 'in' : 'in~'} (${n.values.map(str).join(', ')})`,
    glob: (n) =>
      `${col(n.field)} matches regex ${str(`${n.cased ? '' : '(?i)'}${globPattern(n.parts as GlobPart[], true)}`)}`,
    fieldref: (n) => {
      const [a, b] = n.cased
        ? [col(n.field), col(n.other)]
        : [`tolower(${col(n.field)})`, `tolower(${col(n.other)})`];
      switch (n.op) {
        case 'equals':
          return `${a} == ${b}`;
        case 'contains':
          return `indexof(${a}, ${b}) >= 0`;
        case 'startswith':
          return `indexof(${a}, ${b}) == 0`;
        case 'endswith':
          return `(strlen(${a}) >= strlen(${b}) and substring(${a}, strlen(${a}) - strlen(${b})) == ${b})`;
      }
    },
    regex: (n) => `${col(n.field)} matches regex ${str(`${n.ignoreCase ? '(?i)' : ''}${n.pattern}`)}`,
    jsregex: (n) => refuse(n),
    timepart: (n) => refuse(n),
    cidr: (n) =>
      `${n.range.includes(':') ? 'ipv6_is_in_range' : 'ipv4_is_in_range'}(trim(@"\\s", ${col(n.field)}), ${str(n.range)})`,
    compare: (n) => {
      const op = { lt: '<', lte: '<=', gt: '>', gte: '>=', eq: '==' }[n.op];
      return `toreal(${col(n.field)}) ${op} ${n.value}`;
    },
  });
}
