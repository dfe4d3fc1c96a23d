// IDS alerts and user alert rules:
//   GET    /alerts             alerts in a window, newest first, with an nfdump filter, detectors, minimum severity
//   GET    /alerts/:id         one alert with its evidence
//   GET    /alerts/status      what the IDS runs: detectors, counters, rule files, outputs
//   GET    /alert-rules        nfsen-style user rules (config and dashboard ones) with their last evaluation
//   PUT    /alert-rules/:name  save a dashboard rule (token)
//   DELETE /alert-rules/:name  remove a dashboard rule (token)
import type { FastifyInstance } from 'fastify';
import { AlertQueryError, getAlert, listAlerts } from '@dvflow/collector/src/query/alertQuery.ts';
import type { QueryRunner } from '@dvflow/collector/src/query/flowQuery.ts';
import type { IdsService } from '@dvflow/collector/src/ids/idsService.ts';
import { SEVERITIES, type Severity } from '@dvflow/collector/src/ids/idsTypes.ts';
import { USER_AVERAGES, USER_METRICS, USER_RULE_NAME, USER_TRIGGERS, type UserAlertRule } from '@dvflow/collector/src/ids/userAlerts.ts';
import { RuleError } from '@dvflow/collector/src/ids/userRuleStore.ts';
import { errorSchema } from './errorSchema.ts';

export interface AlertRouteOptions {
  runner: QueryRunner | null;
  ids: IdsService | null;
  /** Facts about the IDS set-up for /alerts/status (detector list, rule files loaded and skipped). */
  status?: () => Record<string, unknown>;
}

interface ListQuery {
  from?: number;
  to?: number;
  filter?: string;
  detector?: string;
  severity?: Severity;
  limit?: number;
}

const sampleSchema = {
  type: 'object',
  properties: {
    time: { type: 'number' }, srcAddr: { type: 'string' }, dstAddr: { type: 'string' }, srcPort: { type: 'integer' }, dstPort: { type: 'integer' },
    proto: { type: 'integer' }, tcpFlags: { type: 'integer' }, packets: { type: 'number' }, bytes: { type: 'number' }, note: { type: 'string' },
  },
} as const;
const alertSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, time: { type: 'number' }, last: { type: 'number' }, raised: { type: 'number' }, updated: { type: 'number' },
    detector: { type: 'string' }, severity: { type: 'string', enum: [...SEVERITIES] }, summary: { type: 'string' }, subject: { type: 'string' },
    src: { type: 'string' }, dst: { type: 'string' }, dstPort: { type: 'integer' }, proto: { type: 'integer' }, vip: { type: 'string' },
    portgroup: { type: 'string' }, origin: { type: 'string' }, capture: { type: 'string' }, sid: { type: 'integer' }, classtype: { type: 'string' },
    occurrences: { type: 'integer' }, counts: { type: 'object', additionalProperties: { type: 'number' } }, samples: { type: 'array', items: sampleSchema },
  },
} as const;
const ruleProperties = {
  name: { type: 'string', pattern: USER_RULE_NAME.source },
  filter: { type: 'string', maxLength: 65536, description: "nfdump filter ('' = all traffic)" },
  metric: { type: 'string', enum: [...USER_METRICS] },
  op: { type: 'string', enum: ['>', '<', '='] },
  value: { type: 'number', description: 'absolute value to compare with' },
  average: { type: 'string', enum: [...USER_AVERAGES], description: 'compare with the average per cycle over this much history' },
  percent: { type: 'number', minimum: 0, description: 'with average: plus (>) or minus (<) this many percent' },
  trigger: { type: 'string', enum: [...USER_TRIGGERS], description: 'each time, once only, once while the condition holds' },
  severity: { type: 'string', enum: [...SEVERITIES] },
  enabled: { type: 'boolean' },
} as const;
const { name: _name, ...ruleBodyProperties } = ruleProperties;
const ruleSchema = {
  type: 'object',
  properties: {
    ...ruleProperties,
    from: { type: 'string', enum: ['config', 'dashboard'] },
    state: {
      type: ['object', 'null'],
      properties: {
        evaluatedAt: { type: ['number', 'null'] }, value: { type: ['number', 'null'] }, threshold: { type: ['number', 'null'] },
        holds: { type: 'boolean' }, fired: { type: 'integer' }, error: { type: ['string', 'null'] },
      },
    },
  },
} as const;

export default async function alertRoutes(app: FastifyInstance, opts: AlertRouteOptions): Promise<void> {
  const { runner, ids } = opts;
  const noStore = { error: 'Service Unavailable', message: 'this process has no store to read alerts from' };
  const noIds = { error: 'Service Unavailable', message: 'the IDS does not run in this process (dvflow web): manage rules where dvflow start or collect runs' };

  app.get<{ Querystring: ListQuery }>('/alerts', {
    schema: {
      summary: 'IDS alerts whose evidence overlaps a window, newest first',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'integer', minimum: 0, description: 'ms since epoch' },
          to: { type: 'integer', minimum: 0, description: 'ms since epoch' },
          filter: { type: 'string', maxLength: 65536, description: 'nfdump filter on the alert: src/dst ip, net, dst port, proto, vip, portgroup' },
          detector: { type: 'string', maxLength: 1024, pattern: '^[a-z0-9-]+(,[a-z0-9-]+)*$', description: 'comma-separated detector ids' },
          severity: { type: 'string', enum: [...SEVERITIES], description: 'this severity or higher' },
          limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            alerts: { type: 'array', items: alertSchema },
            total: { type: 'integer' },
            byDetector: { type: 'object', additionalProperties: { type: 'integer' } },
            bySeverity: { type: 'object', additionalProperties: { type: 'integer' } },
          },
        },
        400: errorSchema,
        503: errorSchema,
      },
    },
  }, async (req, reply) => {
    const { from, to, filter, detector, severity, limit } = req.query;
    if (from !== undefined && to !== undefined && from > to) {
      return reply.code(400).send({ error: 'Bad Request', message: `the window ends before it starts: from ${from} > to ${to}` });
    }
    if (!runner) return reply.code(503).send(noStore);
    // Alerts written in the last moments are still in the manager: write them first so a list is never behind.
    await ids?.alerts.flush();
    try {
      return await listAlerts(runner, { from, to, filter, detectors: detector ? detector.split(',') : undefined, minSeverity: severity, limit });
    } catch (e) {
      if (e instanceof AlertQueryError) {
        return reply.code(400).send({ error: 'Bad Request', message: e.message, ...(e.position !== undefined ? { position: e.position } : {}) });
      }
      throw e;
    }
  });

  app.get('/alerts/status', {
    schema: { summary: 'What the IDS runs: detectors, counters, rule files, outputs', response: { 200: { type: 'object', additionalProperties: true } } },
  }, async () => {
    if (!ids) return { running: false };
    return {
      running: true,
      ...(opts.status?.() ?? {}),
      alerts: ids.alerts.stats,
      engine: ids.engine.stats,
      outputs: { webhook: ids.webhook?.stats ?? null, syslog: ids.syslog?.stats ?? null },
    };
  });

  app.get<{ Params: { id: string } }>('/alerts/:id', {
    schema: {
      summary: 'One alert with its evidence',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
      response: { 200: alertSchema, 404: errorSchema, 503: errorSchema },
    },
  }, async (req, reply) => {
    if (!runner) return reply.code(503).send(noStore);
    await ids?.alerts.flush();
    const a = await getAlert(runner, req.params.id);
    if (!a) return reply.code(404).send({ error: 'Not Found', message: `no alert ${req.params.id}` });
    return a;
  });

  app.get('/alert-rules', {
    schema: {
      summary: 'nfsen-style user alert rules with their last evaluation',
      response: { 200: { type: 'object', properties: { cycleSeconds: { type: 'number' }, rules: { type: 'array', items: ruleSchema } } }, 503: errorSchema },
    },
  }, async (_req, reply) => {
    if (!ids) return reply.code(503).send(noIds);
    return {
      cycleSeconds: ids.userRunner.cycleMs / 1000,
      rules: ids.userRules.list().map((r) => ({ ...r, state: ids.userRunner.state(r.name) })),
    };
  });

  app.put<{ Params: { name: string }; Body: Omit<UserAlertRule, 'name'> }>('/alert-rules/:name', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Save a user alert rule (bearer token)',
      params: { type: 'object', required: ['name'], properties: { name: ruleProperties.name } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['filter', 'metric', 'op', 'trigger', 'severity'],
        properties: ruleBodyProperties,
      },
      response: { 200: ruleSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 503: errorSchema },
    },
  }, async (req, reply) => {
    if (!ids) return reply.code(503).send(noIds);
    try {
      const saved = await ids.userRules.put({ ...req.body, name: req.params.name });
      return { ...saved, from: 'dashboard', state: null };
    } catch (e) {
      if (e instanceof RuleError) return reply.code(400).send({ error: 'Bad Request', message: e.message });
      throw e;
    }
  });

  app.delete<{ Params: { name: string } }>('/alert-rules/:name', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Remove a dashboard user alert rule (bearer token)',
      params: { type: 'object', required: ['name'], properties: { name: ruleProperties.name } },
      response: { 204: { type: 'null' }, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema },
    },
  }, async (req, reply) => {
    if (!ids) return reply.code(503).send(noIds);
    try {
      if (!(await ids.userRules.remove(req.params.name))) return reply.code(404).send({ error: 'Not Found', message: `no rule ${req.params.name}` });
    } catch (e) {
      if (e instanceof RuleError) return reply.code(400).send({ error: 'Bad Request', message: e.message });
      throw e;
    }
    return reply.code(204).send();
  });
}
