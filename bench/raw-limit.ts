// The raw limit: how fast one undici Agent can post the same Postmark /email bodies straight to
// the same mock over the same number of connections, with no queue and no API in between. Nothing
// that queues email can beat it; the side-by-side table says how close each one comes.
//
// Environment: POSTMARK_URL, RAW_CONNECTIONS, RAW_EMAILS. Prints {"ready":true} once its Agent
// exists, starts when a line arrives on stdin (so its idle memory and CPU can be read first),
// prints {"done":true} after the last answer, and stays up until SIGTERM so its peak RSS can be read.
import { createInterface } from 'node:readline';
import { Agent } from 'undici';

function positive(name: string): number {
  const value = Number(process.env[name]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${process.env[name]}")`);
  return value;
}

const origin = process.env.POSTMARK_URL;
if (origin === undefined || origin === '') throw new Error('POSTMARK_URL is unset');
const connections = positive('RAW_CONNECTIONS');
const total = positive('RAW_EMAILS');
const agent = new Agent({ connections, pipelining: 1 });
const headers = { accept: 'application/json', 'content-type': 'application/json', 'x-postmark-server-token': 'test-server-token' };

// The body the sidecar's Postmark adapter sends for the benchmark's emails (src/providers/postmark.ts).
const body = (i: number) => JSON.stringify({
  From: 'bench@example.com', To: `user${i}@example.com`, Subject: `bench ${i}`, TextBody: 'Hello from the benchmark.', MessageStream: 'outbound', Headers: [], Attachments: [],
});

async function run(): Promise<void> {
  let next = 0;
  // Two requests per connection, as the sidecar's dispatcher keeps, so no connection waits for work.
  await Promise.all(Array.from({ length: 2 * connections }, async () => {
    while (next < total) {
      const response = await agent.request({ origin, path: '/email', method: 'POST', headers, body: body(next++) });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`mock answered ${response.statusCode}`);
    }
  }));
  console.log(JSON.stringify({ done: true }));
}

createInterface({ input: process.stdin }).once('line', () => {
  run().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
});
process.once('SIGTERM', () => void agent.close().then(() => process.exit()));
console.log(JSON.stringify({ ready: true }));
