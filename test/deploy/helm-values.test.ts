// The charts' values: typos are rejected (by the schema in the application chart, by the library
// itself in any app chart), names follow docs/contract.md, defaults agree between the two charts, and
// every value is documented in helm/README.md.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { charts, podSpecOf, render, runHelm, scenarios } from './support/helm.ts';
import { helm, repoRoot } from './support/tools.ts';

const skip = helm.skip;

/** The variables the charts may set: each is in docs/contract.md's configuration list. */
const CONTRACT_ENV = [
  'DATABASE_URL', 'POST_OFFICE_DATA_DIR', 'POST_OFFICE_HOST', 'POST_OFFICE_PORT', 'POST_OFFICE_ADMIN_HOST',
  'POST_OFFICE_ADMIN_PORT', 'POST_OFFICE_WEBHOOK_HOST', 'POST_OFFICE_WEBHOOK_PORT', 'POST_OFFICE_BACKENDS', 'POST_OFFICE_THREADS', 'POST_OFFICE_THREAD_IDLE_SECONDS', 'POST_OFFICE_HTTP_CONNECTIONS',
  'POST_OFFICE_DB_POOL_MAX', 'POST_OFFICE_DISPATCHER', 'POST_OFFICE_API_TOKEN', 'POST_OFFICE_LEASE_SECONDS',
  'POST_OFFICE_RETRY_BASE_SECONDS', 'POST_OFFICE_MAX_ATTEMPTS', 'POST_OFFICE_SHUTDOWN_GRACE_SECONDS',
  'POST_OFFICE_BATCH_SIZE', 'POST_OFFICE_MAX_BODY_BYTES', 'POST_OFFICE_DEFAULT_FROM',
];

async function expectFailure(chart: string, args: string[], message: RegExp): Promise<void> {
  const result = await runHelm(['template', 'po', chart, ...args]);
  assert.notEqual(result.code, 0, `helm template ${args.join(' ')} should fail`);
  assert.match(result.stderr, message);
}

test('the application chart schema rejects misspelt values', { skip }, async () => {
  await expectFailure(charts.app, ['--set', 'standalone.replica=3'], /additional properties 'replica' not allowed/);
  await expectFailure(charts.app, ['--set', 'podMonitor.enable=true'], /additional properties 'enable' not allowed/);
  await expectFailure(charts.app, ['--set', 'postOffice.config.POST_OFFICE_THREAD=2'], /additional properties 'POST_OFFICE_THREAD' not allowed/);
  await expectFailure(charts.app, ['--set', 'postOffice.config.POST_OFFICE_DISPATCHER=maybe'], /POST_OFFICE_DISPATCHER/);
  await expectFailure(charts.app, ['--set', 'prometheusRule.disabledAlerts[0]=PostOfficeNoSuchAlert'], /disabledAlerts/);
  await expectFailure(charts.app, ['--set', 'webhooks.ingress.hosts[0]=x'], /additional properties 'hosts' not allowed/);
  await expectFailure(charts.app, ['--set', 'webhooks.ingress.path=/hooks'], /path/);
  await expectFailure(charts.app, ['--set', 'postOffice.webhooks.enabled=true'], /additional properties 'webhooks' not allowed/);
});

test('the library rejects misspelt sidecar values in any app chart, whatever its own schema', { skip }, async () => {
  await expectFailure(charts.demo, ['--set', 'postOffice.imag.tag=x'], /postOffice\.imag is not a setting/);
  await expectFailure(charts.demo, ['--set', 'postOffice.config.POST_OFFICE_THREAD=2'], /postOffice\.config\.POST_OFFICE_THREAD is not a setting/);
  await expectFailure(charts.demo, ['--set', 'postOffice.webhooks.enable=true'], /postOffice\.webhooks\.enable is not a setting/);
  // false must win over the default true (Sprig's merge would silently drop it).
  const objects = await render(charts.demo, ['--set', 'postOffice.native=false']);
  const pod = podSpecOf(objects.find((o) => o.kind === 'Deployment')!)!;
  assert.ok(pod.containers.some((c) => c.name === 'post-office'));
});

test('standalone refuses to render without a token and a shared database', { skip }, async () => {
  await expectFailure(charts.app, ['--set', 'postOffice.secret.apiTokenKey='], /apiTokenKey/);
  await expectFailure(charts.app, ['--set', 'postOffice.secret.name='], /postOffice\.secret\.name/);
  await expectFailure(charts.app, ['--set', 'postOffice.secret.databaseUrlKey='], /shared PostgreSQL/);
});

test('webhook objects refuse to render where nothing would serve them', { skip }, async () => {
  await expectFailure(charts.app, ['--set', 'webhooks.enabled=true', '--set', 'standalone.enabled=false'], /webhooks\.enabled serves the standalone Deployment's webhook listener/);
  await expectFailure(charts.app, ['--set', 'webhooks.ingress.enabled=true'], /webhooks\.ingress\.enabled routes to the webhook Service: set webhooks\.enabled too/);
});

test('a sidecar without a shared database renders only when the values ask for the embedded demo mode', { skip }, async () => {
  const refusal = /postOffice has no shared database: set postOffice\.secret\.name and postOffice\.secret\.databaseUrlKey \(a Secret key holding DATABASE_URL\), or postOffice\.database\.embedded=true for a demo whose queued mail is lost with each pod/;
  await expectFailure(charts.demo, ['--set', 'postOffice.database.embedded=false'], refusal);
  await expectFailure(charts.demo, ['--set', 'postOffice.database.embedded=false', '--set', 'postOffice.native=false'], refusal);
  await expectFailure(charts.demo, ['--set', 'postOffice.database.embedded=false', '--set', 'postOffice.secret.name=mail', '--set', 'postOffice.secret.databaseUrlKey='], refusal);
  await expectFailure(charts.demo, ['--set', 'postOffice.database.embeded=true'], /postOffice\.database\.embeded is not a setting/);

  const envNames = async (args: string[]) => {
    const pod = podSpecOf((await render(charts.demo, args)).find((o) => o.kind === 'Deployment')!)!;
    const sidecar = [...(pod.initContainers ?? []), ...pod.containers].find((c) => c.name === 'post-office')!;
    return (sidecar.env ?? []).map((e) => e.name);
  };
  assert.ok((await envNames(['--set', 'postOffice.database.embedded=false', '--set', 'postOffice.secret.name=mail'])).includes('DATABASE_URL'), 'from the Secret');
  assert.ok((await envNames(['--set', 'postOffice.database.embedded=false', '--set', 'postOffice.extraEnv[0].name=DATABASE_URL', '--set', 'postOffice.extraEnv[0].value=postgres://db/mail'])).includes('DATABASE_URL'), 'from extraEnv');
  assert.ok(!(await envNames([])).includes('DATABASE_URL'), 'the demo app asks for the embedded database explicitly');
});

test('every environment variable the charts set is named as in docs/contract.md', { skip }, async () => {
  const text = await readFile(path.join(repoRoot, 'docs/contract.md'), 'utf8');
  for (const name of CONTRACT_ENV) assert.ok(text.includes(`\`${name}\``), `${name} is not in docs/contract.md`);
  for (const scenario of scenarios()) {
    for (const object of await render(scenario.chart, ['-f', scenario.valuesFile])) {
      const pod = podSpecOf(object);
      for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
        for (const { name } of container.env ?? []) {
          if (name.startsWith('POST_OFFICE_') && name !== 'POST_OFFICE_URL') assert.ok(CONTRACT_ENV.includes(name), `${scenario.name}: ${name} is not a docs/contract.md name`);
        }
      }
    }
  }
});

/** The library's defaults, from the YAML inside its "post-office-lib.defaults" template. */
async function libraryDefaults(): Promise<Record<string, unknown>> {
  const text = await readFile(path.join(charts.lib, 'templates/_values.tpl'), 'utf8');
  const body = /\{\{- define "post-office-lib\.defaults" -\}\}\n([\s\S]*?)\{\{- end -\}\}/.exec(text)?.[1];
  assert.ok(body, 'the defaults template is there');
  return parse(body) as Record<string, unknown>;
}

test('versions and defaults agree: package.json, both charts, the library defaults', async () => {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const chart = async (dir: string) => parse(await readFile(path.join(dir, 'Chart.yaml'), 'utf8')) as { appVersion: string; dependencies?: { name: string; version: string }[]; version: string };
  const lib = await chart(charts.lib);
  const app = await chart(charts.app);
  const defaults = await libraryDefaults();
  const values = parse(await readFile(path.join(charts.app, 'values.yaml'), 'utf8')) as { postOffice: Record<string, unknown> };
  assert.equal(lib.appVersion, pkg.version);
  assert.equal(app.appVersion, pkg.version);
  assert.equal((defaults.image as { tag: string }).tag, pkg.version);
  assert.equal(app.dependencies?.find((d) => d.name === 'post-office-lib')?.version, lib.version);

  // The application chart spells the library's defaults out for `helm show values`; only the
  // Secret differs on purpose (standalone needs one), and the chart's own webhooks.enabled sets
  // the library's postOffice.webhooks.
  const without = (object: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
  assert.deepEqual(without(values.postOffice, ['secret']), without(defaults, ['enabled', 'native', 'secret', 'webhooks']));
  assert.deepEqual(defaults.webhooks, { enabled: false });
  assert.equal((values as unknown as { webhooks: { enabled: boolean } }).webhooks.enabled, false, 'webhooks are off by default in both charts');
});

/** Dotted paths of every value, down to leaves and empty maps. */
function valuePaths(value: unknown, prefix = ''): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, inner]) => valuePaths(inner, prefix ? `${prefix}.${key}` : key));
  }
  return [prefix];
}

test('every value is in the schema and documented in helm/README.md', async () => {
  const values = parse(await readFile(path.join(charts.app, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const schema = JSON.parse(await readFile(path.join(charts.app, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
  const readme = await readFile(path.join(repoRoot, 'helm/README.md'), 'utf8');
  // Free-form Kubernetes objects are documented as a whole, not key by key.
  const freeForm = [
    'postOffice.resources', 'postOffice.probes.startup', 'postOffice.probes.liveness', 'postOffice.probes.readiness',
    'standalone.podSecurityContext', 'podMonitor.namespaceSelector', 'networkPolicy.apiFrom', 'networkPolicy.metricsFrom',
    'webhooks.from', 'webhooks.ingress.tls',
  ];
  const paths = valuePaths(values).map((p) => freeForm.find((f) => p.startsWith(`${f}.`)) ?? p);
  const undocumented = [...new Set(paths)].filter((p) => !readme.includes(`\`${p}\``));
  assert.deepEqual(undocumented, [], 'values missing from helm/README.md');
  for (const key of ['postOffice.enabled', 'postOffice.native', 'postOffice.webhooks.enabled']) assert.ok(readme.includes(`\`${key}\``), `${key} (library only) is documented`);

  const schemaPaths = (node: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>).flatMap(([key, inner]) => {
      const here = prefix ? `${prefix}.${key}` : key;
      return inner.properties ? schemaPaths(inner, here) : [here];
    });
  const inValues = new Set(valuePaths(values).map((p) => p.split('.').slice(0, 3).join('.')));
  const hidden = schemaPaths(schema).filter((p) => !['global', 'post-office-lib'].includes(p) && ![...inValues].some((v) => v === p || v.startsWith(`${p}.`) || p.startsWith(`${v}.`)));
  assert.deepEqual(hidden, [], 'schema properties with no default in values.yaml');
});
