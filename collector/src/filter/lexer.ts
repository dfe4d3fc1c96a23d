// Splits filter text into tokens the way nfdump's scanner does: a run of [A-Za-z0-9_:.-] is a number when
// it is all digits (with one k/m/g/t factor of 1000) or 0x-hex, a word otherwise; '#' starts a comment to
// the end of the line; quoted strings are names. Positions are 1-based character offsets.

import { FilterError } from './filterError.ts';

export type TokenKind =
  | 'word' | 'number' | 'string'
  | '(' | ')' | '[' | ']' | ',' | '/'
  | 'cmp' | 'and' | 'or' | 'not' | '=' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The text as written (a string token: without its quotes). */
  text: string;
  /** Lower-cased text, for keyword comparison. */
  lower: string;
  pos: number;
  /** Offset just after the token. */
  end: number;
  /** Number tokens: the value, k/m/g/t applied. */
  value?: number;
  /** Whether whitespace or a comment precedes the token. */
  spaced: boolean;
}

const WORD_CHAR = /[A-Za-z0-9_:.\-]/;
const SCALE: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** Largest number a filter may hold: integers stay exact in a JS number. */
export const MAX_FILTER_NUMBER = Number.MAX_SAFE_INTEGER;

function numberValue(text: string, pos: number): number | undefined {
  let m = /^0[xX]([0-9A-Fa-f]+)$/.exec(text);
  let v: number;
  if (m) {
    v = parseInt(m[1], 16);
  } else {
    m = /^([0-9]+)([kmgtKMGT]?)$/.exec(text);
    if (!m) return undefined;
    v = Number(m[1]) * (m[2] ? SCALE[m[2].toLowerCase()] : 1);
  }
  if (!Number.isSafeInteger(v)) throw new FilterError(pos, `number '${text}' is too large`, 'value');
  return v;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let spaced = true;
  const push = (kind: TokenKind, start: number, end: number, tokText = text.slice(start, end), value?: number) => {
    tokens.push({ kind, text: tokText, lower: tokText.toLowerCase(), pos: start + 1, end: end + 1, value, spaced });
    spaced = false;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      spaced = true;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      spaced = true;
      continue;
    }
    if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < text.length && WORD_CHAR.test(text[i])) i++;
      const word = text.slice(start, i);
      const value = numberValue(word, start + 1);
      if (value !== undefined) push('number', start, i, word, value);
      else if (/^(and|or|not)$/i.test(word)) push(word.toLowerCase() as 'and' | 'or' | 'not', start, i);
      else if (/^(eq|gt|lt|ge|le)$/i.test(word)) push('cmp', start, i);
      else push('word', start, i);
      continue;
    }
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (close < 0 || (nl >= 0 && nl < close)) {
        throw new FilterError(i + 1, `unterminated string: missing closing ${c}`, 'syntax', [c]);
      }
      push('string', i, close + 1, text.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&') { push('and', i, i + 2); i += 2; continue; }
    if (two === '||') { push('or', i, i + 2); i += 2; continue; }
    if (two === '==' || two === '>=' || two === '<=') { push('cmp', i, i + 2); i += 2; continue; }
    if (two === '=>' || two === '=<') {
      throw new FilterError(i + 1, `unknown comparator '${two}' (use ${two[1]}${two[0]})`, 'syntax', ['=', '>', '<', '>=', '<=']);
    }
    if (c === '=') { push('=', i, i + 1); i++; continue; }
    if (c === '<' || c === '>') { push('cmp', i, i + 1); i++; continue; }
    if (c === '!') { push('not', i, i + 1); i++; continue; }
    if ('()[],/'.includes(c)) { push(c as TokenKind, i, i + 1); i++; continue; }
    if (c === '@' && /^@include\b/i.test(text.slice(i))) {
      throw new FilterError(i + 1, 'not supported: @include (pass the filter file with -f instead)', 'unsupported');
    }
    if (c === '%') throw new FilterError(i + 1, 'not supported: flow labels (%label)', 'unsupported');
    throw new FilterError(i + 1, `unexpected character '${c}'`, 'syntax');
  }
  tokens.push({ kind: 'eof', text: '', lower: '', pos: text.length + 1, end: text.length + 1, spaced: true });
  return tokens;
}

/** Comparator a 'cmp' or '=' token stands for. */
export function comparatorOf(tok: Token): '=' | '>' | '<' | '>=' | '<=' | undefined {
  if (tok.kind === '=') return '=';
  if (tok.kind !== 'cmp') return undefined;
  switch (tok.lower) {
    case '=': case '==': case 'eq': return '=';
    case '>': case 'gt': return '>';
    case '<': case 'lt': return '<';
    case '>=': case 'ge': return '>=';
    case '<=': case 'le': return '<=';
    default: return undefined;
  }
}
