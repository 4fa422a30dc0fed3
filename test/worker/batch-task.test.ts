// A batch task through the real worker module in the real pool: the emails go in one request
// through the thread's one Agent, with the recipient override applied to each; an email whose
// template cannot be rendered fails alone and stays out of the request; outcomes come back in order.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import type { EmailMessage } from '../../src/email/message.ts';
import { WorkerPool } from '../../src/worker/pool.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { message } from '../helpers/provider-fixtures.ts';

type Item = { To: string; Subject: string };

const mock = new MockProvider((request) => {
  const items = JSON.parse(request.body) as Item[];
  return { status: 200, body: items.map((item) => ({ ErrorCode: 0, Message: 'OK', MessageID: `pm-${item.Subject}`, To: item.To })) };
});
let dataDir: string;
let pool: WorkerPool;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-batch-task-'));
  const baseUrl = await mock.start();
  pool = new WorkerPool(loadConfig({
    POST_OFFICE_DATA_DIR: dataDir,
    POST_OFFICE_THREADS: '1',
    POST_OFFICE_OVERRIDE_RECIPIENTS: 'qa@example.com',
    POST_OFFICE_BACKENDS: JSON.stringify({ default: { provider: 'postmark', server_token: 'pm-token', base_url: baseUrl, batch: true } }),
  }));
});

after(async () => {
  await pool.close();
  await mock.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const email = (i: number, extra: Partial<EmailMessage> = {}): EmailMessage => ({
  ...message,
  id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
  subject: `email ${i}`,
  ...extra,
});

test('one request for the batch; an unrenderable email fails alone; outcomes in order', async () => {
  const outcomes = await pool.runBatch({
    backend: 'default',
    emails: [
      { message: email(0) },
      // render_on_delivery, but the template was deleted before the dispatcher read it.
      { message: email(1, { subject: '', template: { name: 'gone', language: '', context: {} } }) },
      { message: email(2) },
    ],
  });
  assert.deepEqual(outcomes.map((outcome) => (outcome.outcome === 'ok' ? outcome.providerMessageId : `${outcome.outcome} ${outcome.code}`)), [
    'pm-email 0',
    'permanent UNKNOWN_TEMPLATE',
    'pm-email 2',
  ]);
  assert.equal(mock.requests.length, 1);
  assert.equal(mock.requests[0]!.path, '/email/batch');
  const items = JSON.parse(mock.requests[0]!.body) as Item[];
  assert.deepEqual(items.map((item) => [item.Subject, item.To]), [['email 0', 'qa@example.com'], ['email 2', 'qa@example.com']]);

  const metrics = (await pool.collectMetrics()).flat();
  const sends = metrics.find((metric) => metric.name === 'postoffice_worker_sends_total')!.values;
  const count = (result: string) => sends.find((value) => value.labels.result === result)?.value;
  assert.deepEqual([count('ok'), count('permanent')], [2, 1], 'each email counted as a send of its own');
});

test('a batch task for an unknown backend answers each email', async () => {
  const outcomes = await pool.runBatch({ backend: 'nowhere', emails: [{ message: email(3) }, { message: email(4) }] });
  assert.deepEqual(outcomes.map((outcome) => outcome.outcome === 'ok' ? 'ok' : outcome.code), ['UNKNOWN_BACKEND', 'UNKNOWN_BACKEND']);
});
