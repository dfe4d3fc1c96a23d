// The body of every 4xx/5xx answer: { error, message } and, for filter errors, the 1-based position of the mistake.
export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, position: { type: 'integer' } },
} as const;
