// Saved channels (nfsen's profile channels): named filters drawn as series on every chart, above the axis
// (sign 1) or below it (sign -1). Kept in <data>/channels.json, rewritten atomically (temporary file +
// rename) so a crash never leaves half a file; without a data directory they live in memory only.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { compileFilter } from '@dvflow/collector/src/query/filterSql.ts';
import { FilterError } from '@dvflow/collector/src/filter/index.ts';
import { MAX_CHANNELS } from '@dvflow/collector/src/query/timeSeries.ts';
import { JsonStateFile } from '@dvflow/collector/src/storage/jsonStateFile.ts';
import { errorSchema } from './errorSchema.ts';

export interface SavedChannel {
  name: string;
  filter: string;
  color: string;
  sign: 1 | -1;
}

export const CHANNEL_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const COLOR = '^#[0-9a-fA-F]{6}$';
const MAX_FILTER = 65536;
/** Colours given to channels saved without one, in turn. */
const palette = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];

export class ChannelStore {
  private channels: SavedChannel[] = [];
  private readonly store: JsonStateFile;

  constructor(file: string | null) {
    this.store = new JsonStateFile(file);
    const { value, warning } = this.store.read();
    if (warning) this.warning = `${warning}, starting with no channels`;
    const parsed = value as { channels?: SavedChannel[] } | null;
    this.channels = (parsed?.channels ?? []).filter((c) => typeof c?.name === 'string' && typeof c.filter === 'string')
      .map((c) => ({ name: c.name, filter: c.filter, color: typeof c.color === 'string' ? c.color : palette[0]!, sign: c.sign === -1 ? -1 : 1 }));
  }

  /** Set when the file could not be read at start (logged by the server). */
  warning: string | null = null;

  static inDataDir(dataDir: string | undefined): ChannelStore {
    return new ChannelStore(dataDir ? join(dataDir, 'channels.json') : null);
  }

  list(): SavedChannel[] {
    return this.channels.map((c) => ({ ...c }));
  }

  get(name: string): SavedChannel | undefined {
    return this.channels.find((c) => c.name === name);
  }

  /** Adds or replaces; returns the stored channel. */
  async put(name: string, body: { filter: string; color?: string; sign?: 1 | -1 }): Promise<SavedChannel> {
    const old = this.get(name);
    const ch: SavedChannel = {
      name, filter: body.filter, sign: body.sign ?? old?.sign ?? 1,
      color: body.color ?? old?.color ?? palette[this.channels.length % palette.length]!,
    };
    this.channels = old ? this.channels.map((c) => (c.name === name ? ch : c)) : [...this.channels, ch];
    await this.save();
    return { ...ch };
  }

  async remove(name: string): Promise<boolean> {
    const before = this.channels.length;
    this.channels = this.channels.filter((c) => c.name !== name);
    if (this.channels.length === before) return false;
    await this.save();
    return true;
  }

  private save(): Promise<void> {
    return this.store.save({ channels: this.channels });
  }

}

const channelSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    filter: { type: 'string' },
    color: { type: 'string' },
    sign: { type: 'integer', enum: [1, -1] },
  },
} as const;
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: CHANNEL_NAME, description: 'letters, digits, _ . - (at most 64)' } },
} as const;

interface PutBody {
  filter: string;
  color?: string;
  sign?: 1 | -1;
}

export default async function channelRoutes(app: FastifyInstance, opts: { channels: ChannelStore }): Promise<void> {
  const store = opts.channels;

  app.get('/channels', {
    schema: {
      summary: 'Saved channels (named filters drawn as series)',
      response: { 200: { type: 'object', properties: { channels: { type: 'array', items: channelSchema } } } },
    },
  }, async () => ({ channels: store.list() }));

  app.put<{ Params: { name: string }; Body: PutBody }>('/channels/:name', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Save a channel (bearer token)',
      params: nameParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['filter'],
        properties: {
          filter: { type: 'string', maxLength: MAX_FILTER, description: 'nfdump filter expression' },
          color: { type: 'string', pattern: COLOR, description: '#rrggbb' },
          sign: { type: 'integer', enum: [1, -1], description: '-1: drawn below the axis' },
        },
      },
      response: { 200: channelSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema },
    },
  }, async (req, reply) => {
    try {
      compileFilter(req.body.filter.trim() === '' ? 'any' : req.body.filter);
    } catch (e) {
      if (e instanceof FilterError) return reply.code(400).send({ error: 'FilterError', message: e.message, position: e.position });
      throw e;
    }
    if (!store.get(req.params.name) && store.list().length >= MAX_CHANNELS) {
      return reply.code(400).send({ error: 'Bad Request', message: `at most ${MAX_CHANNELS} channels can be saved` });
    }
    return store.put(req.params.name, req.body);
  });

  app.delete<{ Params: { name: string } }>('/channels/:name', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Delete a channel (bearer token)',
      params: nameParams,
      response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, 404: errorSchema, 401: errorSchema, 403: errorSchema },
    },
  }, async (req, reply) => {
    if (!(await store.remove(req.params.name))) return reply.code(404).send({ error: 'Not Found', message: `no channel '${req.params.name}'` });
    return { deleted: req.params.name };
  });
}
