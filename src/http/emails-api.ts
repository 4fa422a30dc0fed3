// The email routes, a Fastify plugin: enqueue and batch (through the enqueue use case), get,
// list, requeue and cancel. Each route translates HTTP to a call and the result back to HTTP.
import type { FastifyInstance } from 'fastify';
import type { Enqueuer } from '../enqueue/enqueuer.ts';
import type { EmailStatus } from '../email/message.ts';
import type { EmailRequest } from '../email/validate.ts';
import { PostOfficeError } from '../errors.ts';
import type { QueueStore } from '../store/store.ts';
import { decodeCursor, encodeCursor, integerLimit, pageOf, toApiEmail, toApiRecipients } from './present.ts';
import * as schema from './schemas.ts';

export interface EmailsApiOptions {
  enqueuer: Enqueuer;
  store: QueueStore;
  requireDatabase: () => void;
  maxAttempts: number;
  /** Called when a requeued email is due, so a local dispatcher can start on it. */
  wake: () => void;
}

/** The Idempotency-Key of a request, with what identifies it. */
function idempotencyOf(request: { headers: Record<string, unknown>; routeOptions: { url?: string }; body: unknown }) {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? { key, route: request.routeOptions.url ?? '', body: request.body } : undefined;
}

export async function emailsApi(app: FastifyInstance, options: EmailsApiOptions): Promise<void> {
  const { enqueuer, store, requireDatabase, maxAttempts, wake } = options;

  app.post<{ Body: EmailRequest }>('/v1/emails', {
    schema: {
      summary: 'Enqueue one email',
      body: schema.emailBody,
      headers: schema.idempotencyHeaders,
      response: { 202: schema.acceptedEmail, ...schema.errors(400, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const { emails, replayed } = await enqueuer.enqueue([request.body], () => '', idempotencyOf(request));
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(202).send(emails[0]);
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
    const { emails, replayed } = await enqueuer.enqueue(request.body.emails, (index) => `emails[${index}].`, idempotencyOf(request));
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(202).send({ emails });
  });

  app.get<{ Params: { id: string } }>('/v1/emails/:id', {
    schema: { summary: 'An email, its status, its recipients and its log', params: schema.idParams, response: { 200: schema.emailDetail, ...schema.errors(400, 404) } },
  }, async (request) => {
    requireDatabase();
    const found = await store.getEmail(request.params.id);
    if (found === null) throw new PostOfficeError('NOT_FOUND', `id: no email ${request.params.id}`);
    const recipients = toApiRecipients(found.email, found.recipients, found.logs.findLast((log) => log.code !== null)?.code ?? null);
    return { ...toApiEmail(found.email), recipients, logs: found.logs };
  });

  app.get<{ Querystring: { status?: EmailStatus; recipient_status?: string; limit: number; cursor?: string } }>('/v1/emails', {
    schema: {
      summary: 'Emails, newest first, cursor-paginated; recipient_status keeps those with a recipient in that status',
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
    preValidation: integerLimit,
  }, async (request) => {
    requireDatabase();
    const { status, recipient_status: recipientStatus, limit, cursor } = request.query;
    const rows = await store.listEmails({ status, recipientStatus, limit: limit + 1, before: cursor === undefined ? undefined : decodeCursor(cursor) });
    const { items, next } = pageOf(rows, limit, (last) => encodeCursor(last.id));
    return { emails: items.map(toApiEmail), next_cursor: next };
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
    const result = await transition(request.params.id, () => store.requeue(request.params.id, maxAttempts), 'failed, expired or cancelled');
    wake();
    return result;
  });

  app.post<{ Params: { id: string } }>('/v1/emails/:id/cancel', {
    schema: transitionSchema('Cancel a queued email'),
  }, async (request) => transition(request.params.id, () => store.cancel(request.params.id), 'queued'));
}
