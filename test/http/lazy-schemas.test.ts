// src/http/lazy-schemas.ts: Fastify's own compilers, compiling a route's schemas on its first
// request. The API's answers are the same as with Fastify's default compilers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { lazySchemaController } from '../../src/http/lazy-schemas.ts';

const options = { ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } } } as const;

/** One route with a schema for every request part and a response that must drop a field. */
async function app(schemaController?: FastifyServerOptions['schemaController']) {
  const fastify = Fastify({ ...options, ...(schemaController === undefined ? {} : { schemaController }) });
  fastify.addSchema({ $id: 'name', type: 'string', minLength: 1, maxLength: 5 });
  fastify.post<{ Params: { id: string }; Querystring: { limit: string }; Body: { name: string } }>('/things/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z]+$' } } },
      querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]+$', default: '7' } } },
      headers: { type: 'object', properties: { 'x-trace': { type: 'string', maxLength: 3 } } },
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { $ref: 'name#' } } },
      response: { 200: { type: 'object', properties: { id: { type: 'string' }, limit: { type: 'string' }, name: { type: 'string' } } } },
    },
  }, async (request) => ({ id: request.params.id, limit: request.query.limit, name: request.body.name, secret: 'never sent' }));
  await fastify.ready();
  return fastify;
}

test('every request part is accepted, refused and answered as with Fastify\'s own compilers', async () => {
  const eager = await app();
  const lazy = await app(lazySchemaController);
  const requests = [
    { url: '/things/abc', payload: { name: 'Ann' } },
    { url: '/things/abc?limit=3', payload: { name: 'Ann' } },
    { url: '/things/abc?limit=x', payload: { name: 'Ann' } },
    { url: '/things/ABC', payload: { name: 'Ann' } },
    { url: '/things/abc', payload: { name: '' } },
    { url: '/things/abc', payload: { name: 'Annabelle' } },
    { url: '/things/abc', payload: { name: 'Ann', extra: 1 } },
    { url: '/things/abc', payload: {} },
    { url: '/things/abc', payload: { name: 'Ann' }, headers: { 'x-trace': 'abcd' } },
  ];
  let refused = 0;
  for (const request of requests) {
    const [expected, actual] = await Promise.all([eager, lazy].map((fastify) => fastify.inject({ method: 'POST', ...request })));
    assert.equal(actual!.statusCode, expected!.statusCode, request.url);
    assert.deepEqual(actual!.json(), expected!.json(), request.url);
    if (actual!.statusCode === 400) refused++;
  }
  assert.equal(refused, 7);
  assert.deepEqual((await lazy.inject({ method: 'POST', url: '/things/abc', payload: { name: 'Ann' } })).json(), { id: 'abc', limit: '7', name: 'Ann' });
  await Promise.all([eager.close(), lazy.close()]);
});

test('a route\'s schema is compiled on its first request, not at start', async () => {
  const broken = { type: 'object', properties: { name: { type: 'no-such-type' } } };
  const build = async (schemaController?: FastifyServerOptions['schemaController']) => {
    const fastify = Fastify(schemaController === undefined ? {} : { schemaController });
    fastify.post('/broken', { schema: { body: broken } }, async () => ({ ok: true }));
    fastify.post('/fine', async () => ({ ok: true }));
    await fastify.ready();
    return fastify;
  };
  await assert.rejects(build(), /no-such-type|schema is invalid/);
  const lazy = await build(lazySchemaController);
  assert.equal((await lazy.inject({ method: 'POST', url: '/fine', payload: {} })).statusCode, 200);
  assert.equal((await lazy.inject({ method: 'POST', url: '/broken', payload: { name: 'x' } })).statusCode, 500);
  await lazy.close();
});

test('a headers schema with an upper-case name fails at start, as it would never match', async () => {
  const fastify = Fastify({ schemaController: lazySchemaController });
  fastify.post('/x', { schema: { headers: { type: 'object', properties: { 'Idempotency-Key': { type: 'string' } } } } }, async () => ({}));
  await assert.rejects(async () => { await fastify.ready(); }, /POST \/x: headers schema property 'Idempotency-Key' must be lower case/);
});
