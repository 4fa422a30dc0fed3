// The API listener (default 127.0.0.1:8587): enqueue, batch, get, list, requeue, cancel.
// A factory that never listens: main.ts binds the port, tests call buildApi() and inject().
import { createHash, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DatabaseHealth } from '../database/health.ts';
import type { EmailStatus, NewEmail } from '../email/message.ts';
import { checkMessageSize, validateEmail, type EmailRequest, type SizeLimit, type ValidationContext } from '../email/validate.ts';
import { PostOfficeError, isDatabaseUnavailable } from '../errors.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import { maxMessageBytes } from '../providers/limits.ts';
import { GroupCommit } from '../queue/group-commit.ts';
import type { QueueStore } from '../queue/store.ts';
import { applyTemplates, type TemplateLookup } from '../templates/enqueue.ts';
import { version } from '../version.ts';
import { describeInvalidJson, handleError, handleNotFound } from './errors.ts';
import { decodeCursor, encodeCursor, toApiEmail } from './present.ts';
import * as schema from './schemas.ts';
import { templatesApi } from './templates-api.ts';

export interface ApiDeps {
  config: Config;
  store: QueueStore;
  health: DatabaseHealth;
  metrics: MainMetrics;
  logger: Logger;
  /** Called after emails are committed, so a local dispatcher can start on them at once. */
  onEnqueued?: () => void;
}

const RETRY_AFTER_SECONDS = 5;

export async function buildApi(deps: ApiDeps) {
  const { config, store, health, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    // One log line per request would cost more than the enqueue itself; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    // No type coercion: `"subject": 123` or `"tags": "x"` is bad input, not something to guess at.
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
    // Template names may be 128 characters; a longer path parameter should meet the route's
    // schema (a 400 naming the field), not the router's bare 414.
    routerOptions: { maxParamLength: 512 },
  });
  // Only JSON is accepted; Fastify's built-in text/plain parser would turn 415 into a 400.
  app.removeContentTypeParser('text/plain');
  // `curl -H 'content-type: application/json' -X POST …/cancel` sends no body: that is no body,
  // not malformed JSON. Non-empty bodies keep Fastify's own (prototype-poisoning-safe) parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text === '') done(null, undefined);
    else parseJson(request, text, (err, value) => (err === null ? done(null, value) : done(describeInvalidJson(text, err))));
  });
  const validation: ValidationContext = { defaultFrom: config.defaultFrom, backends: Object.keys(config.backends) };
  const groupCommit = new GroupCommit((emails) => store.insertEmails(emails, config.maxAttempts), {
    // Leave pool connections for the dispatcher and reads.
    maxConcurrent: Math.max(1, config.dbPoolMax - 2),
    maxRows: 2000,
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Post Office', version, description: 'Mail-queue sidecar API' },
      // With a token, every documented route (all of them /v1) requires it.
      ...(config.apiToken === undefined ? {} : {
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      }),
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.setErrorHandler((error, request, reply) => {
    if (isDatabaseUnavailable(error)) health.reportUnavailable();
    return handleError(error as FastifyError, request, reply);
  });
  app.setNotFoundHandler(handleNotFound);

  app.addHook('onResponse', async (request, reply) => {
    metrics.apiDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Requests still arriving on kept-alive connections while the sidecar drains.
  app.addHook('onRequest', async () => {
    if (health.draining) {
      throw new PostOfficeError('SHUTTING_DOWN', 'server: shutting down, try again shortly', { retryAfterSeconds: 1 });
    }
  });

  if (config.apiToken !== undefined) {
    const expected = Buffer.from(`Bearer ${config.apiToken}`);
    app.addHook('onRequest', async (request) => {
      // Decide by the matched route, never the raw URL: the router decodes "%76" to "v", so
      // "/%761/emails" reaches /v1/emails without starting with "/v1". Unmatched URLs need it too.
      const route = request.routeOptions.url;
      if (route !== undefined && !route.startsWith('/v1')) return;
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new PostOfficeError('UNAUTHORIZED', 'authorization: a valid "Bearer <token>" is required');
      }
    });
  }

  /** Fails fast while the database is known to be down, instead of queueing behind a timeout. */
  function requireDatabase(): void {
    if (!health.up) {
      throw new PostOfficeError('DATABASE_UNAVAILABLE', 'database: unreachable, try again shortly', { retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
  }

  // Emails that name a template: each distinct template of the request is read once.
  const templateLookup: TemplateLookup = {
    resolve: async (keys) => {
      requireDatabase();
      return store.templates.resolve(keys);
    },
  };

  const sizeLimits = new Map<string, SizeLimit>(Object.entries(config.backends).map(([backend, settings]) => (
    [backend, { backend, provider: settings.provider, maxBytes: maxMessageBytes(settings) }]
  )));

  /**
   * Validates every email of a request, applies their templates, then checks each against its
   * backend's size limit (after rendering, so the bodies count); throws before anything is stored.
   */
  async function prepare(bodies: EmailRequest[], prefix: (index: number) => string): Promise<NewEmail[]> {
    const items = bodies.map((body, index) => ({ body, email: validateEmail(body, validation, prefix(index)), prefix: prefix(index) }));
    const emails = await applyTemplates(items, templateLookup);
    emails.forEach((email, index) => checkMessageSize(email, sizeLimits.get(email.backend)!, prefix(index)));
    return emails;
  }

  async function enqueue(request: FastifyRequest, emails: NewEmail[]): Promise<{ ids: string[]; replayed: boolean }> {
    requireDatabase();
    const key = request.headers['idempotency-key'];
    let ids = emails.map((email) => email.id);
    let replayed = false;
    if (typeof key === 'string') {
      const hash = createHash('sha256').update(`${request.routeOptions.url}\n${JSON.stringify(request.body)}`).digest('hex');
      const result = await store.insertEmailsOnce(emails, config.maxAttempts, key, hash);
      if ('mismatch' in result) {
        throw new PostOfficeError('IDEMPOTENCY_KEY_REUSED', 'idempotency-key: already used with a different request body');
      }
      ({ ids } = result);
      replayed = !result.created;
    } else {
      await groupCommit.add(emails);
    }
    if (!replayed) {
      for (const email of emails) metrics.enqueued.inc({ backend: email.backend, priority: email.priority });
      deps.onEnqueued?.();
    }
    return { ids, replayed };
  }

  async function statuses(ids: string[], replayed: boolean): Promise<EmailStatus[]> {
    if (!replayed) return ids.map(() => 'queued');
    const current = await store.statusesOf(ids);
    return ids.map((id) => current.get(id) ?? 'queued');
  }

  app.post<{ Body: EmailRequest }>('/v1/emails', {
    schema: {
      summary: 'Enqueue one email',
      body: schema.emailBody,
      headers: schema.idempotencyHeaders,
      response: { 202: schema.acceptedEmail, ...schema.errors(400, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const { ids, replayed } = await enqueue(request, await prepare([request.body], () => ''));
    const [status] = await statuses(ids, replayed);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(202).send({ id: ids[0], status });
  });

  app.post<{ Body: { emails: EmailRequest[] } }>('/v1/emails/batch', {
    schema: {
      summary: 'Enqueue up to 1000 emails; all are validated before any is stored',
      body: schema.batchBody,
      headers: schema.idempotencyHeaders,
      response: {
        202: { type: 'object', required: ['emails'], properties: { emails: { type: 'array', items: schema.acceptedEmail } } },
        ...schema.errors(400, 413, 415, 422),
      },
    },
  }, async (request, reply) => {
    const emails = await prepare(request.body.emails, (index) => `emails[${index}].`);
    const { ids, replayed } = await enqueue(request, emails);
    const current = await statuses(ids, replayed);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(202).send({ emails: ids.map((id, index) => ({ id, status: current[index] })) });
  });

  app.get<{ Params: { id: string } }>('/v1/emails/:id', {
    schema: { summary: 'An email, its status and its log', params: schema.idParams, response: { 200: schema.emailDetail, ...schema.errors(400, 404) } },
  }, async (request) => {
    requireDatabase();
    const found = await store.getEmail(request.params.id);
    if (found === null) throw new PostOfficeError('NOT_FOUND', `id: no email ${request.params.id}`);
    return { ...toApiEmail(found.email), logs: found.logs };
  });

  app.get<{ Querystring: { status?: EmailStatus; limit: number; cursor?: string } }>('/v1/emails', {
    schema: {
      summary: 'Emails, newest first, cursor-paginated',
      querystring: schema.listQuery,
      response: {
        200: {
          type: 'object',
          required: ['emails', 'next_cursor'],
          properties: { emails: { type: 'array', items: schema.emailSummary }, next_cursor: { type: ['string', 'null'] } },
        },
        ...schema.errors(400),
      },
    },
    // A query string holds only strings; with coercion off, "?limit=20" becomes the integer here.
    preValidation: async (request) => {
      const query = request.query as Record<string, unknown>;
      if (typeof query.limit === 'string' && /^\d{1,9}$/.test(query.limit)) query.limit = Number(query.limit);
    },
  }, async (request) => {
    requireDatabase();
    const { status, limit, cursor } = request.query;
    const rows = await store.listEmails({ status, limit: limit + 1, before: cursor === undefined ? undefined : decodeCursor(cursor) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { emails: page.map(toApiEmail), next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null };
  });

  /** Shared by requeue and cancel: 404 when missing, 409 naming the status when not allowed. */
  async function transition(id: string, change: () => Promise<boolean>, allowed: string): Promise<{ id: string; status: EmailStatus }> {
    requireDatabase();
    if (!(await change())) {
      const status = await store.statusOf(id);
      if (status === null) throw new PostOfficeError('NOT_FOUND', `id: no email ${id}`);
      throw new PostOfficeError('INVALID_STATE', `status: the email is ${status}; only ${allowed} emails can be changed this way`);
    }
    return { id, status: (await store.statusOf(id)) ?? 'queued' };
  }

  const transitionSchema = (summary: string) => ({
    summary,
    params: schema.idParams,
    response: { 200: schema.acceptedEmail, ...schema.errors(400, 404, 409) },
  });

  app.post<{ Params: { id: string } }>('/v1/emails/:id/requeue', {
    schema: transitionSchema('Put a failed, expired or cancelled email back in the queue with a fresh attempt budget'),
  }, async (request) => {
    const result = await transition(request.params.id, () => store.requeue(request.params.id, config.maxAttempts), 'failed, expired or cancelled');
    deps.onEnqueued?.();
    return result;
  });

  app.post<{ Params: { id: string } }>('/v1/emails/:id/cancel', {
    schema: transitionSchema('Cancel a queued email'),
  }, async (request) => transition(request.params.id, () => store.cancel(request.params.id), 'queued'));

  await app.register(templatesApi, { templates: store.templates, requireDatabase });

  return app;
}
