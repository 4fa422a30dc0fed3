// The alert rules and the Grafana dashboard: promtool checks and unit-tests the rules; every
// alert has its severity, texts and runbook; and every dashboard query is run against a real
// Prometheus that scraped a real sidecar (`node src/main.ts`) during a short load and a Postmark
// bounce webhook, so a panel that names a metric the sidecar does not export fails here, not in
// someone's Grafana.
import assert from 'node:assert/strict';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept } from '../helpers/mock-provider.ts';
import { eventually, postJson, sidecarEnv, spawnSidecar } from '../helpers/sidecar.ts';
import { dashboardFile, loadDashboard, metricNames, panelQueries, toPromQL, variableQueries } from './support/dashboard.ts';
import { run, waitFor } from './support/processes.ts';
import { startPrometheus } from './support/prometheus.ts';
import { databaseSkip, prometheus, promtool, repoRoot } from './support/tools.ts';

const rulesFile = path.join(repoRoot, 'helm/post-office/files/alerts.yaml');
const rulesTestFile = path.join(repoRoot, 'monitoring/alerts.test.yaml');

/**
 * Every metric the alerts and the dashboard read: docs/contract.md's names, the two the core exports for
 * circuit breaking and auth failures, the delivery-webhook ones, and prom-client's default process metrics.
 */
const EXPORTED = [
  'postoffice_emails_enqueued_total', 'postoffice_emails_finished_total', 'postoffice_queue_emails',
  'postoffice_queue_oldest_age_seconds', 'postoffice_api_request_duration_seconds_bucket',
  'postoffice_api_request_duration_seconds_count', 'postoffice_worker_sends_total',
  'postoffice_worker_send_duration_seconds_bucket', 'postoffice_worker_connections_opened_total',
  'postoffice_worker_inflight_sends', 'postoffice_worker_event_loop_utilization',
  'postoffice_worker_send_errors_total', 'postoffice_backend_circuit_open',
  'postoffice_delivery_events_total', 'postoffice_webhook_requests_total', 'postoffice_webhook_events_total',
  'postoffice_suppressions_added_total', 'postoffice_recipients_suppressed_total',
  'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'up',
];

/** Enqueues one email through a backend and waits until it is sent; returns the provider's message id. */
async function sentThrough(apiUrl: string, backend: string, to: string[]): Promise<{ id: string; messageId: string }> {
  const { status, body } = await postJson(`${apiUrl}/v1/emails`, { from: 'load@example.com', to, subject: 'events', text: 'hi', backend });
  assert.equal(status, 202, JSON.stringify(body));
  const id = String(body.id);
  let messageId = '';
  await eventually(`email ${id} to be sent`, async () => {
    const email = (await (await fetch(`${apiUrl}/v1/emails/${id}`)).json()) as { status: string; provider_message_id: string };
    messageId = email.provider_message_id;
    return email.status === 'sent';
  }, 60_000);
  return { id, messageId };
}

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function alertRules(): Promise<Rule[]> {
  const file = parse(await readFile(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] };
  return file.groups.flatMap((g) => g.rules);
}

test('promtool check rules accepts the alert rules', { skip: promtool.skip }, async () => {
  const result = await run(promtool.require(), ['check', 'rules', rulesFile]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test('promtool test rules: every alert fires on synthetic series and stays quiet on healthy ones', { skip: promtool.skip }, async () => {
  const result = await run(promtool.require(), ['test', 'rules', rulesTestFile], { cwd: path.dirname(rulesTestFile) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const tests = parse(await readFile(rulesTestFile, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
  const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
  for (const rule of await alertRules()) assert.ok(fired.has(rule.alert), `${rule.alert} is never fired by a unit test`);
});

test('every alert has a severity, a summary, a description and a runbook section', async () => {
  const runbooks = await readFile(path.join(repoRoot, 'docs/runbooks.md'), 'utf8');
  const headings = new Set([...runbooks.matchAll(/^## (\w+)$/gm)].map((m) => m[1]));
  for (const rule of await alertRules()) {
    assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, `${rule.alert} severity`);
    assert.ok(rule.annotations?.summary, `${rule.alert} summary`);
    assert.ok(rule.annotations?.description, `${rule.alert} description`);
    assert.equal(rule.annotations?.runbook_url, `docs/runbooks.md#${rule.alert.toLowerCase()}`, `${rule.alert} runbook_url`);
    assert.ok(headings.has(rule.alert), `docs/runbooks.md has no "## ${rule.alert}" section`);
  }
});

test('monitoring/ and grafana/ point at the files the chart ships: one source each', async () => {
  for (const [link, target] of [
    ['monitoring/alerts.yaml', rulesFile],
    ['grafana/post-office.json', dashboardFile],
  ] as const) {
    assert.ok((await lstat(path.join(repoRoot, link))).isSymbolicLink(), `${link} is a symlink`);
    assert.equal(await realpath(path.join(repoRoot, link)), await realpath(target));
  }
});

test('the alerts and the dashboard read only metrics the sidecar exports', async () => {
  const dashboard = loadDashboard();
  const queries = [...(await alertRules()).map((r) => ({ name: r.alert, expr: r.expr })), ...panelQueries(dashboard), ...variableQueries(dashboard)];
  for (const { name, expr } of queries) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${name} reads no metric: ${expr}`);
    for (const metric of names) assert.ok(EXPORTED.includes(metric), `${name} reads ${metric}, which is not exported`);
  }
  const variables = dashboard.templating.list.map((v) => v.name);
  for (const wanted of ['namespace', 'pod']) assert.ok(variables.includes(wanted), `dashboard variable ${wanted}`);
});

test('every dashboard query returns data from a Prometheus that scraped a loaded sidecar', { skip: prometheus.skip || databaseSkip, timeout: 300_000 }, async () => {
  prometheus.require();
  // A provider that accepts one token, rejects another (401, AUTH_FAILED) and is down for a
  // third (503, retryable), so the error panels have errors to show.
  const provider = new MockProvider((request, index) => {
    const token = request.headers['x-postmark-server-token'];
    if (token === 'denied') return { status: 401, body: { ErrorCode: 10, Message: 'Bad or missing Server API Token' } };
    if (token === 'down') return { status: 503, body: 'unavailable' };
    return accept(request, index);
  });
  const providerUrl = await provider.start();
  const postmark = (token: string) => ({ provider: 'postmark', server_token: token, base_url: providerUrl });
  // The postmark alias also takes Postmark's webhooks, for the delivery-event panels.
  const hook = { username: 'u', password: 'webhook-password-0123456789' };
  const sidecar = await spawnSidecar(
    sidecarEnv(await createTestDatabase(), {
      POST_OFFICE_THREADS: '2',
      POST_OFFICE_RETRY_BASE_SECONDS: '1',
      POST_OFFICE_MAX_ATTEMPTS: '2',
      // The always-down backend must run out of attempts (so every email finishes) rather than
      // be paused by its circuit; the circuit gauge still has a series for every backend.
      POST_OFFICE_CIRCUIT_FAILURES: '1000',
      POST_OFFICE_BACKENDS: JSON.stringify({ default: { provider: 'outbox' }, postmark: { ...postmark('ok'), webhook: hook }, denied: postmark('denied'), flaky: postmark('down') }),
    }),
  );
  const prom = await startPrometheus(
    [{ job: 'post-office', address: new URL(sidecar.adminUrl).host, labels: { namespace: 'deploy-test', pod: 'post-office-0', container: 'post-office' } }],
    [rulesFile],
  );
  let stopped: { prometheus: number | string; sidecar: number | string } | undefined;
  try {
    await waitFor('the sidecar to be scraped', async () => ((await prom.query('up{job="post-office"} == 1')).data?.result.length ? true : undefined), { timeoutMs: 30_000, server: prom.server });

    // A short, bounded load: 200 emails in two batches across every backend, a few single
    // enqueues and reads, and a few invalid requests for the 4xx panels.
    const backends = ['default', 'default', 'default', 'postmark', 'postmark', 'postmark', 'denied', 'flaky'];
    for (const round of [0, 1]) {
      const emails = Array.from({ length: 100 }, (_, i) => ({
        from: 'load@example.com',
        to: `user${round}-${i}@example.com`,
        subject: `load ${round}/${i}`,
        text: 'hello',
        backend: backends[i % backends.length],
      }));
      const batch = await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails });
      assert.equal(batch.status, 202, JSON.stringify(batch.body));
    }
    for (let i = 0; i < 5; i++) {
      const one = await postJson(`${sidecar.apiUrl}/v1/emails`, { from: 'load@example.com', to: 'single@example.com', subject: `single ${i}`, text: 'hi' });
      assert.equal(one.status, 202);
      await fetch(`${sidecar.apiUrl}/v1/emails/${String(one.body.id)}`);
      const bad = await postJson(`${sidecar.apiUrl}/v1/emails`, { from: 'load@example.com', to: 'bob@', subject: 'bad', text: 'x' });
      assert.equal(bad.status, 400);
    }

    // Delivery events: Postmark reports a hard bounce of an email sent through the webhook
    // backend (which suppresses the address), a caller with the wrong password is refused, and
    // a later email to the bounced address and another drops the bounced one at send time.
    const bounced = await sentThrough(sidecar.apiUrl, 'postmark', ['bounce@example.com']);
    const webhookUrl = `${sidecar.webhookUrl!}/webhooks/postmark`;
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`${hook.username}:${password}`).toString('base64')}` });
    const record = { RecordType: 'Bounce', ID: 4242, Type: 'HardBounce', MessageID: bounced.messageId, Email: 'bounce@example.com', BouncedAt: new Date().toISOString(), Description: 'no such user' };
    assert.equal((await postJson(webhookUrl, record, basic(hook.password))).status, 200);
    assert.equal((await postJson(webhookUrl, record, basic('not-the-password'))).status, 401);
    assert.equal((await fetch(`${sidecar.apiUrl}/v1/suppressions/bounce@example.com`)).status, 200, 'the hard bounce suppressed the address');
    await sentThrough(sidecar.apiUrl, 'postmark', ['bounce@example.com', 'kept@example.com']);

    // Wait until every email reached a final status and Prometheus has seen it and the
    // webhook's counters, then a few more scrapes so every rate has two points after the load.
    await waitFor(
      'all 207 emails to finish and the bounce to be counted, as Prometheus sees it',
      async () => {
        const value = async (expr: string) => Number((await prom.query(expr)).data?.result[0]?.value?.[1] ?? 0);
        const finished = await value('sum(postoffice_emails_finished_total{job="post-office"})');
        const bounces = await value('sum(postoffice_delivery_events_total{job="post-office", event="bounced"})');
        const dropped = await value('sum(postoffice_recipients_suppressed_total{job="post-office"})');
        return finished >= 207 && bounces >= 1 && dropped >= 1 ? true : undefined;
      },
      { timeoutMs: 120_000, server: prom.server, describe: () => sidecar.log.slice(-20).join('\n') },
    );
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    const dashboard = loadDashboard();
    const failures: string[] = [];
    for (const { name, expr } of [...panelQueries(dashboard), ...variableQueries(dashboard)]) {
      const promql = toPromQL(expr);
      const result = await prom.query(promql);
      if (result.status !== 'success') failures.push(`${name}: ${result.error}\n    ${promql}`);
      else if (result.data!.result.length === 0) failures.push(`${name}: no data\n    ${promql}`);
    }
    // The alert rules evaluate cleanly against the real series too (no matching errors).
    for (const rule of await prom.rules()) {
      if (rule.health !== 'ok') failures.push(`alert ${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
    }
    assert.deepEqual(failures, [], `queries that failed or returned nothing:\n${failures.join('\n')}`);
  } finally {
    // Stopped by their own PIDs; asserted on only when the test got this far without failing,
    // so a failure above is not hidden by one here.
    const prometheusExit = await prom.server.stop();
    sidecar.child.kill('SIGTERM');
    stopped = { prometheus: prometheusExit, sidecar: await sidecar.exited };
    await provider.stop();
  }
  assert.deepEqual(stopped, { prometheus: 0, sidecar: 0 }, 'prometheus and the sidecar stop cleanly on SIGTERM');
});
