// Filter editor support: POST /api/v1/filter/validate checks a filter (canonical text, or the error position,
// message and what would have been accepted there); GET /api/v1/filter/complete suggests what may follow at a
// cursor. Both use the one filter module (collector/src/filter).
import type { FastifyInstance } from 'fastify';
import { completeFilter, validateFilter, type LowerOptions } from '@dvflow/collector/src/filter/index.ts';
import { errorSchema } from './errorSchema.ts';

/** Longest filter accepted, as for POST /api/v1/query. */
export const MAX_FILTER_LENGTH = 65536;
/** Longest text completed (a query string). */
export const MAX_COMPLETE_LENGTH = 4096;

/** Where the completion stands, for a provider of names (portgroups, VIPs, exporters ...). */
export interface CompletionContext {
  text: string;
  /** 0-based cursor. */
  cursor: number;
  /** The word being typed (may be empty). */
  word: string;
  /** What the grammar accepts there (keywords; placeholders such as '<number>' left out). */
  keywords: string[];
}

/** Extra suggestions from live data; optional, none is built yet. */
export type SuggestionProvider = (ctx: CompletionContext) => string[] | Promise<string[]>;

export interface FilterRouteOptions {
  suggestions?: SuggestionProvider;
  /** Passed to validateFilter (e.g. the exporter ids `sysid` needs). */
  lowerOptions?: LowerOptions | (() => LowerOptions);
}


export default async function filterRoutes(app: FastifyInstance, opts: FilterRouteOptions = {}): Promise<void> {
  app.post<{ Body: { filter: string } }>('/filter/validate', {
    schema: {
      summary: 'Check an nfdump-style filter',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['filter'],
        properties: { filter: { type: 'string', maxLength: MAX_FILTER_LENGTH, description: 'nfdump filter expression' } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            canonical: { type: 'string', description: 'the filter as dvflow reads it (valid filters)' },
            position: { type: 'integer', description: '1-based position of the error' },
            message: { type: 'string' },
            expected: { type: 'array', items: { type: 'string' }, description: 'what would have been accepted at the position' },
            kind: { type: 'string' },
          },
        },
        400: errorSchema,
      },
    },
  }, async (req) => {
    const lower = typeof opts.lowerOptions === 'function' ? opts.lowerOptions() : opts.lowerOptions ?? {};
    return validateFilter(req.body.filter, lower);
  });

  app.get<{ Querystring: { text?: string; cursor?: number } }>('/filter/complete', {
    schema: {
      summary: 'Suggest what may follow at a cursor in a filter',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          text: { type: 'string', maxLength: MAX_COMPLETE_LENGTH, default: '' },
          cursor: { type: 'integer', minimum: 0, maximum: MAX_COMPLETE_LENGTH, description: '0-based; default: the end of text' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            from: { type: 'integer', description: '1-based position of the first character a suggestion replaces' },
            suggestions: { type: 'array', items: { type: 'string' } },
          },
        },
        400: errorSchema,
      },
    },
  }, async (req, reply) => {
    const text = req.query.text ?? '';
    const cursor = req.query.cursor ?? text.length;
    if (cursor > text.length) {
      return reply.code(400).send({ error: 'Bad Request', message: `cursor ${cursor} is past the end of the text (${text.length})` });
    }
    const c = completeFilter(text, cursor);
    if (!opts.suggestions) return c;
    const word = text.slice(c.from - 1, cursor);
    const extra = await opts.suggestions({ text, cursor, word, keywords: c.suggestions });
    return { from: c.from, suggestions: [...new Set([...c.suggestions, ...extra])] };
  });
}
