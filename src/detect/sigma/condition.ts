/**
 * Sigma condition expressions: `and`, `or`, `not`, parentheses, `1 of` / `any of` / `all of` a
 * name pattern or `them`. Precedence, loosest first: or, and, not. Errors carry the column.
 */
export type Cond =
  | { k: 'id'; name: string }
  | { k: 'and' | 'or'; items: Cond[] }
  | { k: 'not'; item: Cond }
  | { k: 'of'; quantifier: 'one' | 'all'; pattern: string };

export class ConditionError extends Error {
  constructor(
    message: string,
    readonly col: number,
  ) {
    super(message);
  }
}

interface Tok {
  v: string;
  col: number;
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(\(|\)|[A-Za-z0-9_*.-]+|\S)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push({ v: m[1], col: m.index + m[0].indexOf(m[1]) + 1 });
  }
  return out;
}

export function parseCondition(text: string): Cond {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i]?.v.toLowerCase();
  const end = text.length + 1;
  const expect = (what: string) => {
    const t = toks[i];
    throw new ConditionError(
      `expected ${what}${t ? `, found ${JSON.stringify(t.v)}` : ' at the end'}`,
      t?.col ?? end,
    );
  };
  const or = (): Cond => {
    const items = [and()];
    while (peek() === 'or') {
      i++;
      items.push(and());
    }
    return items.length === 1 ? items[0] : { k: 'or', items };
  };
  const and = (): Cond => {
    const items = [not()];
    while (peek() === 'and') {
      i++;
      items.push(not());
    }
    return items.length === 1 ? items[0] : { k: 'and', items };
  };
  const not = (): Cond => {
    if (peek() === 'not') {
      i++;
      return { k: 'not', item: not() };
    }
    return primary();
  };
  const primary = (): Cond => {
    const t = toks[i];
    if (!t) expect('a search identifier');
    const v = t.v.toLowerCase();
    if (v === '(') {
      i++;
      const inner = or();
      if (peek() !== ')') expect("')'");
      i++;
      return inner;
    }
    if ((v === '1' || v === 'any' || v === 'all') && toks[i + 1]?.v.toLowerCase() === 'of') {
      i += 2;
      const target = toks[i];
      if (!target || !/^[A-Za-z0-9_*.-]+$/.test(target.v)) expect("'them' or a name pattern after 'of'");
      i++;
      return {
        k: 'of',
        quantifier: v === 'all' ? 'all' : 'one',
        pattern: target.v === 'them' ? '*' : target.v,
      };
    }
    if (v === '|')
      throw new ConditionError("pipe conditions ('| count() …') are obsolete; use a correlation rule", t.col);
    if (!/^[A-Za-z0-9_.-]+$/.test(t.v) || ['and', 'or', 'not', ')'].includes(v))
      expect('a search identifier');
    i++;
    return { k: 'id', name: t.v };
  };
  const result = or();
  if (i < toks.length) expect("'and', 'or' or the end of the condition");
  return result;
}

/** Names a `1 of` / `all of` pattern covers. `them` and patterns skip `_`-names unless asked for. */
export function expandPattern(pattern: string, names: string[]): string[] {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return names.filter((n) => re.test(n) && (pattern.startsWith('_') || !n.startsWith('_')));
}
