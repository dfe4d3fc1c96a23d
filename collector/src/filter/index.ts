// The filter language of dvflow: nfdump's (1.7.1 and 1.7.8 dialects) plus dvflow's own terms, for the CLI,
// the HTTP API, the dashboard and alert rules.

export type { AddrTarget, Comparator, FilterNode, MacSelector, NumericField, Qualifier, Side, Span, Term, TermNode } from './ast.ts';
export { FilterError, type FilterErrorKind } from './filterError.ts';
export { tokenize, type Token, type TokenKind } from './lexer.ts';
export { parseFilter, TERM_KEYWORDS, QUALIFIER_KEYWORDS, UNSUPPORTED_KEYWORDS } from './parser.ts';
export { lowerFilter, type ExporterRef, type LowerOptions, type Predicate } from './lowerFilter.ts';
export { compileSql, type CompiledSql, type CompileOptions } from './compileSql.ts';
export { compileMatcher, matchFlow, type FlowMatcher, type FilterableFlow } from './matchFlow.ts';
export { formatFilter } from './formatFilter.ts';
export {
  completeFilter, describeFilter, filterFields, filterKeywords, validateFilter,
  type Completion, type FieldInfo, type FilterDescription, type KeywordInfo, type KeywordKind, type ValidationResult,
} from './completion.ts';
export { nfdumpProtocolNames, protocolName, protocolNumber } from './protocolNames.ts';
export { ENCAP_NAMES, encapName, type EncapName } from './encapNames.ts';
