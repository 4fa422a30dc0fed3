// `npm run clients:generate`: starts a real sidecar (on DATABASE_URL, or an embedded PostgreSQL),
// saves its OpenAPI document as clients/node/openapi.json and regenerates
// clients/node/src/openapi-types.ts from it. Run it after changing a route or a schema.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clientRoot, documentPath, documentText, fetchLiveDocumentAnywhere, typesPath, typesText } from './openapi-document.ts';

const document = await fetchLiveDocumentAnywhere();
await writeFile(documentPath, documentText(document));
await writeFile(typesPath, await typesText(document));
for (const file of [documentPath, typesPath]) console.log(`wrote ${path.relative(path.dirname(path.dirname(clientRoot)), file)}`);
