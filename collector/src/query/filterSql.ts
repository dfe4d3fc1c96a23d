// The query engine's view of the filter language: nfdump filter text -> parameterised WHERE expression.
// The one filter module (collector/src/filter) serves the CLI, the API and alert rules alike.
import { compileSql } from '../filter/index.ts';
import type { CompiledFilter, FilterContext } from './flowQuery.ts';

export function compileFilter(text: string, context: FilterContext = {}): CompiledFilter {
  const { sql, params } = compileSql(text, { paramPrefix: 'f', exporterIds: context.exporterIds });
  return { sql, params };
}
