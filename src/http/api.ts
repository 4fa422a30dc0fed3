// The API listener (default 127.0.0.1:8587): the Fastify instance, its JSON parser, error
// handling, metrics, drain and bearer-token hooks, and the OpenAPI document; the routes are
// plugins (emails-api.ts, templates-api.ts, suppressions-api.ts). A factory that never listens: main.ts binds the
// port, tests call buildApi() and inject().
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
// Types only (its schema fields: summary, hide…); the plugin itself loads in openapiDocument().
import type {} from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DatabaseHealth } from '../database/health.ts';
import type { Enqueuer } from '../enqueue/enqueuer.ts';
import { PostOfficeError, isDatabaseUnavailable } from '../errors.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { QueueStore } from '../store/store.ts';
import type { Renderer } from '../templates/renderer.ts';
import { version } from '../version.ts';
import { emailsApi } from './emails-api.ts';
import { describeInvalidJson, handleError, handleNotFound } from './errors.ts';
import { lazySchemaController } from './lazy-schemas.ts';
import { suppressionsApi } from './suppressions-api.ts';
import { templatesApi } from './templates-api.ts';

export interface ApiDeps {
  config: Config;
  store: QueueStore;
  health: DatabaseHealth;
  metrics: MainMetrics;
  logger: Logger;
  enqueuer: Enqueuer;
  /** Checks and renders templates for the templates API. */
  renderer: Renderer;
  /** Called when emails become due (a requeue), so a local dispatcher can start on them. */
  wake: () => void;
}

export async function buildApi(deps: ApiDeps) {
  const { config, health, metrics } = deps;
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
    schemaController: lazySchemaController,
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

  let document: Promise<string> | undefined;
  app.get('/openapi.json', { schema: { hide: true } }, async (request, reply) => {
    document ??= openapiDocument(deps).catch((err: unknown) => {
      document = undefined;
      throw err;
    });
    return reply.type('application/json; charset=utf-8').send(await document);
  });

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

  await registerRoutes(app, deps);
  return app;
}

/** The /v1 routes, on the API and on the OpenAPI document's own instance. */
async function registerRoutes(app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>, deps: ApiDeps): Promise<void> {
  const { config, store, health } = deps;
  const requireDatabase = () => health.require();
  await app.register(emailsApi, { enqueuer: deps.enqueuer, store, requireDatabase, maxAttempts: config.maxAttempts, wake: deps.wake });
  await app.register(templatesApi, { templates: store.templates, requireDatabase, renderer: deps.renderer });
  await app.register(suppressionsApi, { suppressions: store.suppressions, requireDatabase });
}

/**
 * The OpenAPI document, as JSON text. @fastify/swagger (with the YAML and schema-resolver
 * libraries it loads) cost about 6 MiB of resident memory for the life of the process when
 * registered on the API, for a document read a few times in a deployment's life. So it is
 * loaded on the first request, into a Fastify instance of its own that registers the same
 * routes (never listening, its handlers never run), and the API keeps only the text.
 */
async function openapiDocument(deps: ApiDeps): Promise<string> {
  const { default: swagger } = await import('@fastify/swagger');
  // Its handlers never run, so with lazySchemaController no schema of it is ever compiled.
  const documenting = Fastify({ loggerInstance: deps.logger, schemaController: lazySchemaController });
  try {
    await documenting.register(swagger, {
      openapi: {
        info: { title: 'Post Office', version, description: 'Mail-queue sidecar API' },
        // With a token, every documented route (all of them /v1) requires it.
        ...(deps.config.apiToken === undefined ? {} : {
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        }),
      },
    });
    await registerRoutes(documenting, deps);
    await documenting.ready();
    return JSON.stringify(documenting.swagger());
  } finally {
    await documenting.close();
  }
}
