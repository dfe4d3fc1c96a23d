// Adapter from the filter-language module to the query engine (temporary until integration).
import type { CompiledFilter } from './flowQuery.ts';
export function compileFilter(text: string): CompiledFilter {
  const t = text.replace(/#.*$/gm, '').trim();
  if (t === '' || t.toLowerCase() === 'any') return { sql: '1', params: {} };
  const e = new Error(`filter not supported yet: ${t}`);
  e.name = 'FilterError';
  throw e;
}
