// The one error every stage of the filter module throws: where in the text, what is wrong, what would have
// been accepted there. Its message reads `error at 14: expected a port number after 'port'`.

export type FilterErrorKind =
  /** The text is not a filter: bad token, missing argument, unbalanced parenthesis ... */
  | 'syntax'
  /** The text is a valid term whose argument is wrong: port 70000, net 1.2.3.4/33, proto nosuch ... */
  | 'value'
  /** nfdump knows the term but dvflow has no data for it (NSEL, payload, geo, MPLS ...). */
  | 'unsupported';

export class FilterError extends Error {
  /** 1-based character offset in the filter text; text length + 1 for "unexpected end". */
  readonly position: number;
  /** The message without the "error at N: " prefix. */
  readonly detail: string;
  /** What would have been accepted at `position` (keywords, or placeholders such as '<number>'). */
  readonly expected: string[];
  readonly kind: FilterErrorKind;

  constructor(position: number, detail: string, kind: FilterErrorKind = 'syntax', expected: string[] = []) {
    super(`error at ${position}: ${detail}`);
    this.name = 'FilterError';
    this.position = position;
    this.detail = detail;
    this.kind = kind;
    this.expected = expected;
  }
}
