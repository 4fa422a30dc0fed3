// The webhook listener (default 0.0.0.0:8588, docs/webhooks.md): providers POST delivery events
// to /webhooks/<backend alias>. Each request is verified its provider's way (401 and nothing
// stored when it fails), read (400 when malformed) and stored (200 only after the commit; 503
// when the database cannot take it, so the provider retries). Its own Fastify instance: this
// port faces the internet, the API's stays on loopback.
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { DatabaseHealth } from '../database/health.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import { webhookOf } from '../providers/registry.ts';
import type { BackendSettings } from '../providers/kinds.ts';
import { WebhookBodyError, type WebhookRequest } from '../providers/webhooks/webhook.ts';
import type { EventStore } from '../store/event-store.ts';

export interface WebhookListenerDeps {
  backends: Readonly<Record<string, BackendSettings>>;
  events: EventStore;
  health: DatabaseHealth;
  metrics: MainMetrics;
  logger: Logger;
}

/** Providers batch events (SendGrid, SparkPost: up to a few MB); anything larger is not a webhook. */
const BODY_LIMIT = 8 * 1024 * 1024;

/** The API's error shape (src/http/errors.ts): {statusCode, code, message}. */
const fail = (statusCode: number, code: string, message: string) => ({ statusCode, code, message });

export function buildWebhookListener(deps: WebhookListenerDeps) {
  const { backends, events, health, metrics, logger } = deps;
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, routerOptions: { maxParamLength: 100 } });
  // Signatures cover the exact bytes: every body is kept raw, whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const webhookFor = (alias: string) => {
    const settings = Object.hasOwn(backends, alias) ? backends[alias] : undefined;
    return settings === undefined ? undefined : webhookOf(settings);
  };
  const unknown = (alias: string) => fail(404, 'NOT_FOUND', `alias: no backend "${alias}" with webhook settings`);

  // Providers check a webhook URL when it is saved and refuse it without a 200: Mandrill with
  // HEAD, Unisender Go with GET (Fastify answers HEAD from the GET route).
  app.get<{ Params: { alias: string } }>('/webhooks/:alias', async (request, reply) =>
    (webhookFor(request.params.alias) === undefined ? reply.code(404).send(unknown(request.params.alias)) : reply.code(200).send({ ok: true })));

  app.post<{ Params: { alias: string } }>('/webhooks/:alias', async (request, reply) => {
    const { alias } = request.params;
    const webhook = webhookFor(alias);
    if (webhook === undefined) return reply.code(404).send(unknown(alias));
    const count = (result: string) => metrics.webhookRequests.inc({ backend: alias, result });
    const hook: WebhookRequest = {
      method: request.method,
      url: `${request.headers['x-forwarded-proto'] === 'https' ? 'https' : request.protocol}://${request.host}${request.url}`,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    };
    if (!(await webhook.kind.verify(hook, webhook.settings))) {
      count('unauthorized');
      logger.debug({ backend: alias }, 'webhook verification failed');
      return reply.code(401).send(fail(401, 'UNAUTHORIZED', 'the webhook signature or credentials do not verify'));
    }
    let result;
    try {
      result = await webhook.kind.read(hook, webhook.settings);
    } catch (err) {
      if (!(err instanceof WebhookBodyError)) throw err;
      count('malformed');
      return reply.code(400).send(fail(400, 'VALIDATION_FAILED', `body: ${err.message}`));
    }
    if (result.kind === 'handshake') {
      await result.confirm?.();
      count('ok');
      logger.info({ backend: alias, ...(result.notice === undefined ? {} : { notice: result.notice }) }, 'webhook handshake answered');
      return reply.code(200).send(result.reply ?? { ok: true });
    }
    try {
      const stored = await events.record(alias, result.events);
      for (const event of stored.matched) metrics.deliveryEvents.inc({ backend: alias, event });
      metrics.webhookEvents.inc({ backend: alias, result: 'stored' }, stored.matched.length);
      metrics.webhookEvents.inc({ backend: alias, result: 'unmatched' }, stored.unmatched);
      metrics.webhookEvents.inc({ backend: alias, result: 'duplicate' }, stored.duplicates);
      for (const { address, reason } of stored.suppressed) {
        metrics.suppressionsAdded.inc({ reason });
        logger.info({ backend: alias, address, reason }, 'address suppressed');
      }
      count('ok');
      return reply.code(200).send({ received: result.events.length });
    } catch (err) {
      health.reportUnavailable();
      count('failed');
      logger.warn({ backend: alias, err: (err as Error).message }, 'storing webhook events failed; the provider will retry');
      return reply.code(503).send(fail(503, 'DATABASE_UNAVAILABLE', 'database: the events could not be stored, try again'));
    }
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(fail(404, 'NOT_FOUND', 'route: only POST /webhooks/<alias> is served here')));
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status >= 500) logger.error({ err: message }, 'webhook request failed');
    return reply.code(status).send(fail(status, status === 413 ? 'BODY_TOO_LARGE' : status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED', status >= 500 ? 'internal error' : message));
  });

  // Every configured webhook backend has its series from the start.
  for (const [alias, settings] of Object.entries(backends)) {
    if (webhookOf(settings) === undefined) continue;
    for (const result of ['ok', 'unauthorized', 'malformed', 'failed']) metrics.webhookRequests.inc({ backend: alias, result }, 0);
    for (const event of ['delivered', 'bounced', 'complained']) metrics.deliveryEvents.inc({ backend: alias, event }, 0);
  }
  return app;
}

/** True when some backend has webhook settings: only then is the listener started. */
export const hasWebhooks = (backends: Readonly<Record<string, BackendSettings>>) =>
  Object.values(backends).some((settings) => webhookOf(settings) !== undefined);
