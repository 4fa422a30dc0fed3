// The committed OpenAPI snapshot and the types generated from it must match what the sidecar
// serves today: a route or schema change without `npm run clients:generate` fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { startSidecar } from '../../../test/helpers/sidecar.ts';
import { documentPath, fetchLiveDocument, typesPath, typesText } from '../scripts/openapi-document.ts';

const regenerate = 'run `npm run clients:generate` and commit clients/node/openapi.json and clients/node/src/openapi-types.ts';
const snapshot = JSON.parse(await readFile(documentPath, 'utf8'));

test('the live document of a real sidecar equals the committed snapshot', async () => {
  const live = await fetchLiveDocument(await createTestDatabase());
  assert.deepStrictEqual(live, snapshot, `the sidecar's /openapi.json differs from clients/node/openapi.json: ${regenerate}`);
});

test('the committed types are what openapi-typescript generates from the snapshot', async () => {
  const committed = await readFile(typesPath, 'utf8');
  assert.equal(committed, await typesText(snapshot), `clients/node/src/openapi-types.ts is out of date: ${regenerate}`);
});

test('an independent OpenAPI 3 validator accepts the document', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(snapshot));
  assert.deepStrictEqual(result.errors, undefined);
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.0');
  // The document describes every route the client calls.
  assert.deepStrictEqual(Object.keys(snapshot.paths).sort(), [
    '/v1/emails', '/v1/emails/batch', '/v1/emails/{id}', '/v1/emails/{id}/cancel', '/v1/emails/{id}/requeue',
    '/v1/suppressions', '/v1/suppressions/{address}', '/v1/templates', '/v1/templates/{name}', '/v1/templates/{name}/preview',
  ]);
});

test('with an API token, the document (bearer security on every route) is valid too', async () => {
  const sidecar = await startSidecar(await createTestDatabase(), { POST_OFFICE_API_TOKEN: 'a-token-of-sixteen-characters' });
  const document = (await (await fetch(`${sidecar.apiUrl}/openapi.json`)).json()) as Record<string, unknown>;
  const result = await new Validator().validate(document);
  assert.deepStrictEqual(result.errors, undefined);
  assert.deepStrictEqual(document.security, [{ bearer: [] }]);
});
