// The built dashboard (web/ui/dist) at /, with the history fallback a client-side router needs: any GET of a
// path that is no file and not under /api or /metrics answers index.html. Unknown /api and /metrics paths stay
// JSON 404s. Without a build, pages answer a plain 503 that says how to build it (the API works regardless).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@dvflow/collector/src/repoRoot.ts';

export const defaultUiDir = join(repoRoot, 'web', 'ui', 'dist');

const notBuilt = `<!doctype html>
<html><head><meta charset="utf-8"><title>dvflow</title></head>
<body><h1>dvflow</h1><p>dashboard not built: run npm run build:ui</p><p>The API is at <a href="/api/docs">/api/docs</a>.</p></body></html>
`;

const isApiPath = (url: string) => /^\/(api|metrics)(\/|\?|$)/.test(url);

async function uiRoutes(app: FastifyInstance, opts: { uiDir?: string }): Promise<void> {
  const root = opts.uiDir ?? defaultUiDir;
  const index = join(root, 'index.html');
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: ['index.html'],
    // The build may appear after start (npm run build:ui): no warning, files are looked up per request.
    suppressWarning: true,
    setHeaders: (res, path) => {
      // Vite fingerprints asset names: they never change. index.html must be re-read to pick up a new build.
      res.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const method = req.method;
    if (isApiPath(req.url) || (method !== 'GET' && method !== 'HEAD')) {
      return reply.code(404).send({ error: 'Not Found', message: `no route ${method} ${req.url.split('?')[0]}` });
    }
    if (!existsSync(index)) return reply.code(503).type('text/html; charset=utf-8').send(notBuilt);
    reply.header('cache-control', 'no-cache');
    return reply.type('text/html; charset=utf-8').sendFile('index.html', root);
  });
}

// Not encapsulated: the not-found handler and reply.sendFile must apply to the whole server.
export default fp(uiRoutes, { name: 'dvflow-ui' });
