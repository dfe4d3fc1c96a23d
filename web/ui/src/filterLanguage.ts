// CodeMirror 6 support for nfdump's filter language: highlighting (a stream parser over filterTokens),
// completion from GET /api/v1/filter/complete and validation with POST /api/v1/filter/validate. The server
// owns the grammar; the editor only asks it.
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import type { CompletionContext, CompletionResult, CompletionSource } from '@codemirror/autocomplete';
import type { Diagnostic } from '@codemirror/lint';
import type { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { apiGet, apiPost, ApiError } from './api';
import { errorSpan, FILTER_KEYWORDS, nextFilterToken, type FilterTokenKind } from './filterTokens';

// Token kinds to highlight tag names (StreamLanguage resolves dotted tag names).
const TOKEN_STYLE: Record<FilterTokenKind, string | null> = {
  comment: 'comment',
  string: 'string',
  keyword: 'keyword',
  logic: 'logicOperator',
  compare: 'compareOperator',
  number: 'number',
  address: 'atom',
  name: 'variableName',
  bracket: 'bracket',
  punct: 'punctuation',
  invalid: 'invalid',
};

export const nfdumpFilterLanguage = StreamLanguage.define<null>({
  name: 'nfdump-filter',
  startState: () => null,
  token(stream: StringStream): string | null {
    if (stream.eatSpace()) return null;
    const t = nextFilterToken(stream.string, stream.pos);
    if (!t) {
      stream.next();
      return null;
    }
    stream.pos = t.end;
    return TOKEN_STYLE[t.kind];
  },
  languageData: { commentTokens: { line: '#' } },
});

/** Colours through CSS variables, so the app's light and dark themes both apply. */
export const nfdumpFilterHighlight = syntaxHighlighting(HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--fe-keyword, #7c3aed)', fontWeight: '600' },
  { tag: tags.logicOperator, color: 'var(--fe-logic, #c2410c)', fontWeight: '700' },
  { tag: tags.compareOperator, color: 'var(--fe-logic, #c2410c)' },
  { tag: tags.number, color: 'var(--fe-number, #0e7490)' },
  { tag: tags.atom, color: 'var(--fe-address, #15803d)' },
  { tag: tags.string, color: 'var(--fe-string, #b45309)' },
  { tag: tags.variableName, color: 'var(--fe-name, inherit)' },
  { tag: tags.comment, color: 'var(--fe-comment, #6b7280)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--fe-invalid, #dc2626)' },
]));

/** What POST /filter/validate answers (flat; older drafts nested the failure under `error`). */
export interface FilterValidation {
  ok: boolean;
  canonical?: string;
  position?: number;
  message?: string;
  expected?: string[];
  kind?: string;
  error?: { position?: number; message?: string } | string;
}

/** A validation failure: 1-based position (as the API gives it) and the message. */
export interface FilterProblem {
  position: number;
  message: string;
}

export async function validateFilterText(text: string): Promise<FilterProblem | null> {
  if (text.trim() === '') return null;
  let r: FilterValidation;
  try {
    r = await apiPost<FilterValidation>('/filter/validate', { filter: text });
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return { position: e.position ?? 1, message: e.message };
    throw e;
  }
  if (r.ok) return null;
  const nested = typeof r.error === 'object' && r.error ? r.error : undefined;
  const position = r.position ?? nested?.position ?? 1;
  const message = r.message ?? nested?.message ?? (typeof r.error === 'string' ? r.error : 'invalid filter');
  return { position, message };
}

/** The message without the server's "error at N: " prefix (the UI says where itself). */
export function problemDetail(p: FilterProblem): string {
  return p.message.replace(/^error at \d+:\s*/, '');
}

/** Lint diagnostics for a problem in `text`. */
export function problemDiagnostics(text: string, p: FilterProblem | null): Diagnostic[] {
  if (!p) return [];
  const span = errorSpan(text, p.position);
  return [{ from: span.from, to: span.to, severity: 'error', message: `position ${p.position}: ${problemDetail(p)}`, source: 'dvflow' }];
}

/** Lint source: validates the whole document; `report` hears every result (null = valid). */
export function filterLintSource(report: (p: FilterProblem | null, text: string) => void) {
  let seq = 0;
  return async (view: EditorView): Promise<Diagnostic[]> => {
    const text = view.state.doc.toString();
    const mine = ++seq;
    let p: FilterProblem | null;
    try {
      p = await validateFilterText(text);
    } catch {
      return []; // server unreachable: say nothing rather than mark a valid filter wrong
    }
    if (mine !== seq) return [];
    report(p, text);
    return problemDiagnostics(text, p);
  };
}

interface CompleteResponse {
  from: number;
  suggestions: string[];
}

/** Longest text the completion route takes. */
const MAX_COMPLETE = 4096;

/** Completion from GET /filter/complete: keywords the grammar accepts at the cursor and live names. */
export const filterCompletionSource: CompletionSource = async (ctx: CompletionContext): Promise<CompletionResult | null> => {
  const text = ctx.state.doc.toString();
  if (text.length > MAX_COMPLETE) return null;
  const word = ctx.matchBefore(/[A-Za-z0-9_:.\-"]*/);
  // Typing opens the list only inside a word or after a space; Ctrl-Space opens it anywhere.
  if (!ctx.explicit && (!word || word.from === word.to) && !/\s$/.test(text.slice(0, ctx.pos))) return null;
  let r: CompleteResponse;
  try {
    r = await apiGet<CompleteResponse>('/filter/complete', { text, cursor: ctx.pos });
  } catch {
    return null;
  }
  if (ctx.aborted || r.suggestions.length === 0) return null;
  return {
    from: Math.max(0, r.from - 1),
    options: r.suggestions.map((s) => ({
      label: s,
      type: FILTER_KEYWORDS.has(s.toLowerCase()) || /^(and|or|not)$/i.test(s) ? 'keyword' : 'variable',
      boost: /^(and|or|not)$/i.test(s) ? -1 : 0,
    })),
    validFor: /^[A-Za-z0-9_:.\-"]*$/,
  };
};
