// The script a competent team would write instead of running the sidecar: Fastify for the same two
// enqueue routes, pg-boss 12 as the PostgreSQL queue, and ONE undici Agent posting each job to
// Postmark's /email. It is tuned the way pg-boss's docs suggest for throughput (batch insert,
// batched fetch with burst polling, two local fetchers, per-job results), and it answers 202
// only after the job is committed, as the sidecar does. `npm run bench -- --peers` runs it as a
// child process of its own, so its memory and CPU are measured like the sidecar's.
//
// Environment: DATABASE_URL, PEER_SCHEMA (pg-boss's schema), POSTMARK_URL, PEER_CONNECTIONS.
// Prints one JSON line {"ready":true,"url":…} on stdout once it listens; stops on SIGTERM.
import Fastify from 'fastify';
import { PgBoss, type Job, type JobResult } from 'pg-boss';
import { Agent } from 'undici';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is unset`);
  return value;
}

const postmarkUrl = required('POSTMARK_URL');
const connections = Number(required('PEER_CONNECTIONS'));
if (!Number.isInteger(connections) || connections < 1) throw new Error(`PEER_CONNECTIONS must be a positive integer (got "${process.env.PEER_CONNECTIONS}")`);

interface Email {
  from: string;
  to: string;
  subject: string;
  text: string;
}

const boss = new PgBoss({ connectionString: required('DATABASE_URL'), schema: required('PEER_SCHEMA') });
boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
boss.on('warning', (warning) => console.error(`pg-boss warning: ${warning.message}`));
await boss.start();
// Retries with backoff, as any team sending email would configure them. No LISTEN/NOTIFY
// (`notify: true`): under 64 clients enqueueing one email each, every send's NOTIFY woke the
// fetchers for a batch of one or two, which measured more main-thread CPU per email; polling
// every 0.5 s, and fetching again at once while batches come back full, keeps up instead.
await boss.createQueue('email', { retryLimit: 5, retryDelay: 1, retryBackoff: true });

// One Agent for the process: keep-alive connections to the provider, at most `connections` of them.
const agent = new Agent({ connections, pipelining: 1 });

async function deliver(email: Email): Promise<void> {
  const response = await agent.request({
    origin: postmarkUrl,
    path: '/email',
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-postmark-server-token': 'test-server-token' },
    body: JSON.stringify({ From: email.from, To: email.to, Subject: email.subject, TextBody: email.text, MessageStream: 'outbound', Headers: [], Attachments: [] }),
  });
  const body = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`Postmark answered ${response.statusCode}: ${body.slice(0, 200)}`);
}

// Batches of 100 jobs spread over the pool's connections amortise pg-boss's fetch and complete
// round trips (a batch the size of the pool measured less than half as fast); two fetchers, so one
// batch is being sent while the other is fetched or completed; a full batch fetches again at once.
await boss.work(
  'email',
  { batchSize: 100, localConcurrency: 2, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true, perJobResults: true },
  async (jobs: Job<Email>[]): Promise<JobResult[]> => {
    const settled = await Promise.allSettled(jobs.map((job) => deliver(job.data)));
    // Each job settles on its own: one refused email is retried without resending its batch.
    return jobs.map((job, i) => {
      const result = settled[i]!;
      return result.status === 'fulfilled' ? { id: job.id, status: 'completed' } : { id: job.id, status: 'failed', output: { error: String(result.reason) } };
    });
  },
);

const email = {
  type: 'object',
  required: ['from', 'to', 'subject', 'text'],
  properties: { from: { type: 'string', minLength: 3 }, to: { type: 'string', minLength: 3 }, subject: { type: 'string' }, text: { type: 'string' } },
} as const;

const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
app.post<{ Body: Email }>('/v1/emails', { schema: { body: email } }, async (request, reply) => {
  const id = await boss.send('email', request.body);
  return reply.code(202).send({ id });
});
app.post<{ Body: { emails: Email[] } }>(
  '/v1/emails/batch',
  { schema: { body: { type: 'object', required: ['emails'], properties: { emails: { type: 'array', items: email, minItems: 1, maxItems: 1000 } } } } },
  async (request, reply) => {
    // One multi-row INSERT for the whole batch.
    const ids = await boss.insert('email', request.body.emails.map((data) => ({ data })), { returnId: true });
    return reply.code(202).send({ ids });
  },
);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ ready: true, url }));

process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await boss.stop({ graceful: true, timeout: 5000 });
    await agent.close();
  })();
});
