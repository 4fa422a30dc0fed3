// The suppression list's routes, a Fastify plugin: list (cursor), get, put and delete one
// address. Addresses are compared bare and lower-case, as the list stores them.
import type { FastifyInstance } from 'fastify';
import { parseMailbox } from '../email/addresses.ts';
import { PostOfficeError } from '../errors.ts';
import type { SuppressionReason, SuppressionStore } from '../store/suppression-store.ts';
import { integerLimit, pageOf } from './present.ts';
import * as schema from './schemas.ts';

export interface SuppressionsApiOptions {
  suppressions: SuppressionStore;
  requireDatabase: () => void;
}

/** The path's address, bare and lower-case; 400 naming the field when it is not one address. */
function addressOf(raw: string): string {
  const mailbox = parseMailbox(raw);
  if (mailbox === null || mailbox.address !== raw.trim()) {
    throw new PostOfficeError('INVALID_ADDRESS', `address: "${raw}" is not an email address like "ann@example.com"`);
  }
  return mailbox.address.toLowerCase();
}

const cursorOf = (address: string) => Buffer.from(address).toString('base64url');

export async function suppressionsApi(app: FastifyInstance, options: SuppressionsApiOptions): Promise<void> {
  const { suppressions, requireDatabase } = options;
  const notFound = (address: string) => new PostOfficeError('NOT_FOUND', `address: ${address} is not on the suppression list`);

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/v1/suppressions', {
    schema: {
      summary: 'The suppression list in address order, cursor-paginated',
      querystring: schema.suppressionListQuery,
      response: {
        200: {
          type: 'object',
          required: ['suppressions', 'next_cursor'],
          properties: { suppressions: { type: 'array', items: schema.suppressionEntry }, next_cursor: { type: ['string', 'null'] } },
        },
        ...schema.errors(400),
      },
    },
    preValidation: integerLimit,
  }, async (request) => {
    requireDatabase();
    const { limit, cursor } = request.query;
    const after = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString();
    const { items, next } = pageOf(await suppressions.list(limit + 1, after), limit, (last) => cursorOf(last.address));
    return { suppressions: items, next_cursor: next };
  });

  app.get<{ Params: { address: string } }>('/v1/suppressions/:address', {
    schema: { summary: 'One suppressed address', params: schema.suppressionParams, response: { 200: schema.suppressionEntry, ...schema.errors(400, 404) } },
  }, async (request) => {
    requireDatabase();
    const address = addressOf(request.params.address);
    const found = await suppressions.get(address);
    if (found === null) throw notFound(address);
    return found;
  });

  app.put<{ Params: { address: string }; Body: { reason?: SuppressionReason; detail?: string } | undefined }>('/v1/suppressions/:address', {
    schema: {
      summary: 'Suppress an address (reason manual unless given); replaces an existing entry',
      params: schema.suppressionParams,
      body: schema.suppressionBody,
      response: { 200: schema.suppressionEntry, 201: schema.suppressionEntry, ...schema.errors(400, 404) },
    },
  }, async (request, reply) => {
    requireDatabase();
    const address = addressOf(request.params.address);
    const { entry, created } = await suppressions.put(address, request.body?.reason ?? 'manual', request.body?.detail ?? null);
    return reply.code(created ? 201 : 200).send(entry);
  });

  app.delete<{ Params: { address: string } }>('/v1/suppressions/:address', {
    schema: { summary: 'Remove an address from the suppression list', params: schema.suppressionParams, response: { 204: { type: 'null' }, ...schema.errors(400, 404) } },
  }, async (request, reply) => {
    requireDatabase();
    const address = addressOf(request.params.address);
    if (!(await suppressions.delete(address))) throw notFound(address);
    return reply.code(204).send();
  });
}
