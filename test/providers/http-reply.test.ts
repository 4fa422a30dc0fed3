// Reading a provider's answer (src/providers/http.ts): the body straight from the Agent, its
// headers and status as sent, and never more than MAX_REPLY_BYTES of it, whether the provider
// says how long it is or streams it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { exchange, isReply, MAX_REPLY_BYTES } from '../../src/providers/http.ts';
import type { SendContext } from '../../src/providers/provider.ts';
import { createWorkerAgent } from '../../src/worker/agent.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a reply is read with its status and headers; a huge one only up to MAX_REPLY_BYTES', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = createServer((request, response) => {
    request.resume();
    if (request.url === '/small') {
      response.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r-1' }).end('{"ok":true}');
    } else {
      // With a length, or chunked without one: a provider that streams for as long as it is read.
      response.writeHead(200, request.url === '/huge-known' ? { 'content-length': String(3 * MAX_REPLY_BYTES) } : {});
      let sent = 0;
      const more = () => {
        while (sent < 3 * MAX_REPLY_BYTES) {
          sent += chunk.length;
          if (!response.write(chunk)) return;
        }
        response.end();
      };
      response.on('drain', more);
      more();
    }
  });
  const base = await listen(server);
  const agent = createWorkerAgent({ connections: 2, idleMs: 1000 });
  t.after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    server.close();
  });
  const context: SendContext = { agent, headers: { 'user-agent': 'test' }, timeoutMs: 5000 };

  const small = await exchange(context, `${base}/small`, { headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.ok(isReply(small));
  assert.equal(small.status, 201);
  assert.equal(small.headers['x-request-id'], 'r-1');
  assert.equal(small.body, '{"ok":true}');

  for (const path of ['/huge-known', '/huge-streamed']) {
    const huge = await exchange(context, `${base}${path}`, { headers: {}, body: '{}' });
    assert.ok(isReply(huge), `${path}: ${JSON.stringify(huge)}`);
    assert.equal(huge.status, 200);
    assert.equal(huge.body.length, MAX_REPLY_BYTES, `${path} is read up to the cap and no further`);
  }

  // The capped exchanges closed their connections; the Agent still sends.
  const again = await exchange(context, `${base}/small`, { headers: {}, body: '{}' });
  assert.ok(isReply(again) && again.status === 201);
});
