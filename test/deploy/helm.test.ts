// The Helm charts, rendered offline: helm lint and helm template over every ci/*-values.yaml
// scenario, every object validated against the Kubernetes (and prometheus-operator) API schemas,
// and the properties the charts promise asserted on what they render.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { charts, envOf, only, podLabelsOf, podSpecOf, render, runHelm, scenarios, type Container, type PodSpec } from './support/helm.ts';
import { schemaErrors, unknownFields, type KubernetesObject } from './support/kubernetes-schema.ts';
import { helm } from './support/tools.ts';

const SIDECAR = 'post-office';
const skip = helm.skip;

/** Every container of the pod, native sidecars included. */
function containersOf(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

function sidecarOf(pod: PodSpec): Container {
  return only(containersOf(pod).filter((c) => c.name === SIDECAR), `${SIDECAR} container`);
}

function workloads(objects: KubernetesObject[]): { object: KubernetesObject; pod: PodSpec }[] {
  return objects.flatMap((object) => {
    const pod = podSpecOf(object);
    return pod === undefined ? [] : [{ object, pod }];
  });
}

/** Whether a matchLabels selector selects an object with these labels. */
function selects(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

interface ServiceSpec {
  type?: string;
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: string }[];
}
interface NetworkPolicyRule {
  ports: { port: string }[];
  from?: unknown[];
}

/** The NetworkPolicy's ingress rule for one container port name, if any. */
function ingressRuleFor(policy: KubernetesObject, port: string): NetworkPolicyRule | undefined {
  return (policy.spec as { ingress: NetworkPolicyRule[] }).ingress.find((rule) => rule.ports.some((p) => p.port === port));
}

/** What a Pod Security "restricted" admission would insist on, and then some, for our container. */
function assertHardened(container: Container, pod: PodSpec, where: string): void {
  const sc = container.securityContext ?? {};
  assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
  assert.notEqual(sc.privileged, true, `${where}: privileged`);
  assert.ok(sc.capabilities?.drop?.includes('ALL'), `${where}: capabilities.drop ALL`);
  assert.equal(sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
}

function assertNotRoot(container: Container, pod: PodSpec, where: string): void {
  const nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
  assert.equal(nonRoot, true, `${where}: runAsNonRoot must be true`);
  const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
  assert.notEqual(uid, 0, `${where}: runs as uid 0`);
}

/** Probes hit /livez and /readyz on the admin port, by the port's name. */
function assertProbes(container: Container, where: string): void {
  const adminPort = Number(envOf(container).get('POST_OFFICE_ADMIN_PORT'));
  const portOf = (port: number | string | undefined) =>
    typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
  const expected = { startupProbe: '/readyz', livenessProbe: '/livez', readinessProbe: '/readyz' } as const;
  for (const [probe, probePath] of Object.entries(expected)) {
    const httpGet = container[probe as keyof typeof expected]?.httpGet;
    assert.ok(httpGet, `${where}: ${probe} is an httpGet probe`);
    assert.equal(httpGet.path, probePath, `${where}: ${probe} path`);
    assert.equal(portOf(httpGet.port), adminPort, `${where}: ${probe} must target the admin port ${adminPort}`);
  }
}

test('helm lint passes for the library, the application chart and the demo app, in every scenario', { skip }, async () => {
  const runs = [[charts.lib], [charts.app], [charts.demo], ...scenarios().map((s) => [s.chart, '-f', s.valuesFile])];
  for (const args of runs) {
    const result = await runHelm(['lint', '--strict', ...args]);
    assert.equal(result.code, 0, `helm lint ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  }
});

for (const scenario of scenarios()) {
  test(`${scenario.name}: every rendered object validates against the API schemas`, { skip }, async () => {
    const objects = await render(scenario.chart, ['-f', scenario.valuesFile]);
    assert.ok(objects.length > 0, 'renders at least one object');
    for (const object of objects) {
      const name = `${object.kind}/${object.metadata?.name}`;
      assert.deepEqual(await schemaErrors(object), [], `${name} fails its API schema`);
      assert.deepEqual(unknownFields(object), [], `${name} has fields the API does not define`);
    }
    for (const { object, pod } of workloads(objects)) {
      for (const container of containersOf(pod)) assertNotRoot(container, pod, `${object.kind}/${object.metadata?.name} ${container.name}`);
      const sidecar = sidecarOf(pod);
      assertHardened(sidecar, pod, scenario.name);
      assertProbes(sidecar, scenario.name);
      // The sidecar's writable paths are the emptyDirs the library adds, so the root fs can be read-only.
      const mounts = new Map(sidecar.volumeMounts?.map((m) => [m.mountPath, m.name]));
      assert.deepEqual([mounts.get('/data'), mounts.get('/tmp')], ['post-office-data', 'post-office-tmp']);
      for (const volume of ['post-office-data', 'post-office-tmp']) {
        assert.ok(pod.volumes?.some((v) => v.name === volume && v.emptyDir !== undefined), `${volume} is an emptyDir`);
      }
      assert.equal(envOf(sidecar).get('POST_OFFICE_DATA_DIR'), '/data');
    }
  });
}

test('native sidecar: under initContainers with restartPolicy Always and a startupProbe; the app gets POST_OFFICE_URL', { skip }, async () => {
  const objects = await render(charts.demo, ['-f', path.join(charts.demo, 'ci/native-values.yaml')]);
  const { pod } = only(workloads(objects), 'workload');
  const sidecar = only((pod.initContainers ?? []).filter((c) => c.name === SIDECAR), 'native sidecar');
  assert.equal(sidecar.restartPolicy, 'Always');
  assert.ok(sidecar.startupProbe, 'the startupProbe holds the app back until the queue accepts enqueues');
  assert.ok(!pod.containers.some((c) => c.name === SIDECAR), 'not also a regular container');
  assert.equal(sidecar.lifecycle, undefined, 'no preStop delay: the kubelet stops a native sidecar after the app');
  assert.equal(envOf(sidecar).get('POST_OFFICE_HOST'), '127.0.0.1', 'API on loopback: only the pod can reach it');
  assert.equal(envOf(sidecar).has('POST_OFFICE_API_TOKEN'), false);
  const app = only(pod.containers.filter((c) => c.name === 'app'), 'app container');
  assert.equal(envOf(app).get('POST_OFFICE_URL'), 'http://127.0.0.1:8587');
});

test('classic sidecar: a regular container with a preStop drain delay, secrets from the existing Secret', { skip }, async () => {
  const objects = await render(charts.demo, ['-f', path.join(charts.demo, 'ci/classic-values.yaml')]);
  const { pod } = only(workloads(objects), 'workload');
  assert.equal((pod.initContainers ?? []).length, 0);
  const sidecar = only(pod.containers.filter((c) => c.name === SIDECAR), 'classic sidecar');
  assert.equal(sidecar.restartPolicy, undefined);
  assert.ok(sidecar.lifecycle?.preStop, 'preStop keeps the sidecar serving while the app drains');
  assert.equal(envOf(sidecar).get('POST_OFFICE_HOST'), '127.0.0.1');
  const fromSecret = Object.fromEntries((sidecar.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!.name]));
  assert.deepEqual(fromSecret, { DATABASE_URL: 'post-office-credentials', POST_OFFICE_BACKENDS: 'post-office-credentials' });
  assert.equal(envOf(sidecar).get('POST_OFFICE_MAX_BODY_BYTES'), '33554432', 'large numbers stay integers');
});

test('sidecar off: the library renders nothing into the app pod', { skip }, async () => {
  const objects = await render(charts.demo, ['--set', 'postOffice.enabled=false']);
  const { object, pod } = only(workloads(objects), 'workload');
  assert.deepEqual(containersOf(pod).map((c) => c.name), ['app']);
  assert.ok(!pod.volumes?.length);
  assert.equal(podLabelsOf(object)['post-office/sidecar'], undefined);
});

test('standalone: API on the pod network behind a token from a Secret, a Service in front', { skip }, async () => {
  const objects = await render(charts.app, ['-f', path.join(charts.app, 'ci/standalone-values.yaml')]);
  const deployment = only(objects.filter((o) => o.kind === 'Deployment'), 'Deployment');
  const pod = podSpecOf(deployment)!;
  const container = sidecarOf(pod);
  assert.equal((pod.initContainers ?? []).length, 0);
  const env = envOf(container);
  assert.equal(env.get('POST_OFFICE_HOST'), '0.0.0.0');
  const token = container.env?.find((e) => e.name === 'POST_OFFICE_API_TOKEN');
  assert.deepEqual(token?.valueFrom?.secretKeyRef, { name: 'post-office', key: 'POST_OFFICE_API_TOKEN' });
  assert.ok(container.env?.some((e) => e.name === 'DATABASE_URL' && e.valueFrom?.secretKeyRef), 'a shared database from the Secret');
  assert.equal((deployment.spec as { replicas?: number }).replicas, 3);

  const service = only(objects.filter((o) => o.kind === 'Service'), 'Service');
  const selector = (service.spec as { selector: Record<string, string> }).selector;
  for (const [key, value] of Object.entries(selector)) assert.equal(podLabelsOf(deployment)[key], value, `Service selects the pods by ${key}`);
  const ports = (service.spec as { ports: { name: string; targetPort: string }[] }).ports;
  for (const port of ports) assert.ok(container.ports?.some((p) => p.name === port.targetPort), `Service targetPort ${port.targetPort} exists`);
  assert.ok(!podLabelsOf(deployment)['post-office/sidecar'], 'standalone pods are not picked up by the sidecar PodMonitor');
});

test('everything on: each switchable object renders, wired to the others', { skip }, async () => {
  const objects = await render(charts.app, ['-f', path.join(charts.app, 'ci/everything-values.yaml')]);
  const kinds = objects.map((o) => o.kind).sort();
  assert.deepEqual(kinds, [
    'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'NetworkPolicy', 'PodDisruptionBudget',
    'PodMonitor', 'PrometheusRule', 'Service', 'Service', 'ServiceAccount', 'ServiceMonitor',
  ]);
  const byKind = (kind: string) => only(objects.filter((o) => o.kind === kind), kind);
  const deployment = byKind('Deployment');
  assert.equal((deployment.spec as { replicas?: number }).replicas, undefined, 'the HPA owns replicas');
  assert.equal(sidecarOf(podSpecOf(deployment)!).image, 'registry.example.com/post-office@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');

  const dashboard = byKind('ConfigMap');
  assert.equal(dashboard.metadata?.labels?.grafana_dashboard, '1');
  const shipped = JSON.parse((dashboard.data as Record<string, string>)['post-office.json']!) as unknown;
  const source = JSON.parse(await readFile(path.join(charts.app, 'files/dashboards/post-office.json'), 'utf8')) as unknown;
  assert.deepEqual(shipped, source, 'the ConfigMap carries the dashboard file unchanged');

  const rule = byKind('PrometheusRule');
  const groups = (rule.spec as { groups: { rules: { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] }).groups;
  const alerts = parse(await readFile(path.join(charts.app, 'files/alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const rendered = groups.flatMap((g) => g.rules);
  assert.deepEqual(rendered.map((r) => [r.alert, r.expr]), alerts.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]), 'the same rules as files/alerts.yaml');
  for (const r of rendered) {
    assert.equal(r.labels.team, 'mail', `${r.alert} gets ruleLabels`);
    assert.ok(r.labels.severity, `${r.alert} keeps its severity`);
    assert.match(r.annotations.runbook_url!, new RegExp(`^https://git\\.example\\.com/.+#${r.alert.toLowerCase()}$`));
  }

  const serviceMonitor = byKind('ServiceMonitor');
  const apiService = only(objects.filter((o) => o.kind === 'Service' && o.metadata?.name === deployment.metadata?.name), 'API Service');
  const servicePorts = (apiService.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
  for (const endpoint of (serviceMonitor.spec as { endpoints: { port: string }[] }).endpoints) assert.ok(servicePorts.includes(endpoint.port));
  // The ServiceMonitor selects the API Service only, not the webhook Service beside it.
  const selected = objects.filter((o) => o.kind === 'Service' && selects((serviceMonitor.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, o.metadata?.labels ?? {}));
  assert.deepEqual(selected.map((o) => o.metadata?.name), [apiService.metadata?.name]);
  const hpa = byKind('HorizontalPodAutoscaler');
  assert.equal((hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name, deployment.metadata?.name);
});

test('the PodMonitor selects the pods the library labels, on the port the sidecar names', { skip }, async () => {
  const monitoring = await render(charts.app, ['-f', path.join(charts.app, 'ci/sidecar-monitoring-values.yaml')]);
  assert.ok(!monitoring.some((o) => o.kind === 'Deployment'), 'sidecar mode installs no Deployment of its own');
  const podMonitor = only(monitoring.filter((o) => o.kind === 'PodMonitor'), 'PodMonitor');
  const spec = podMonitor.spec as { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] };
  const rule = only(monitoring.filter((o) => o.kind === 'PrometheusRule'), 'PrometheusRule');
  const names = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert));
  assert.ok(!names.includes('PostOfficeBacklogGrowing'), 'disabledAlerts leaves the alert out');

  for (const values of ['native-values.yaml', 'classic-values.yaml']) {
    const app = only(workloads(await render(charts.demo, ['-f', path.join(charts.demo, 'ci', values)])), 'workload');
    const labels = podLabelsOf(app.object);
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) assert.equal(labels[key], value, `${values}: pod label ${key}`);
    for (const endpoint of spec.podMetricsEndpoints) {
      assert.ok(sidecarOf(app.pod).ports?.some((p) => p.name === endpoint.port), `${values}: sidecar has port ${endpoint.port}`);
    }
  }
});

test('webhooks off (the default): no port, the listener kept on loopback, no Service, Ingress or NetworkPolicy rule', { skip }, async () => {
  const objects = await render(charts.app, ['-f', path.join(charts.app, 'ci/standalone-values.yaml'), '--set', 'networkPolicy.enabled=true']);
  const container = sidecarOf(podSpecOf(only(objects.filter((o) => o.kind === 'Deployment'), 'Deployment'))!);
  assert.ok(!container.ports?.some((p) => p.name === 'po-webhooks'), 'no po-webhooks port');
  assert.equal(envOf(container).get('POST_OFFICE_WEBHOOK_HOST'), '127.0.0.1', 'a webhook setting in the Secret alone opens nothing');
  assert.equal(envOf(container).get('POST_OFFICE_WEBHOOK_PORT'), '8588');
  assert.deepEqual(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata?.name), ['po-post-office']);
  assert.ok(!objects.some((o) => o.kind === 'Ingress'));
  const policy = only(objects.filter((o) => o.kind === 'NetworkPolicy'), 'NetworkPolicy');
  assert.ok(ingressRuleFor(policy, 'po-api') && ingressRuleFor(policy, 'po-admin'), 'the API and admin rules are there');
  assert.equal(ingressRuleFor(policy, 'po-webhooks'), undefined, 'no rule for the webhook port');

  const classic = await render(charts.demo, ['-f', path.join(charts.demo, 'ci/classic-values.yaml'), '--set', 'postOffice.webhooks.enabled=false']);
  assert.ok(!classic.some((o) => o.kind === 'Service'), 'the demo renders no webhook Service');
  assert.equal(envOf(sidecarOf(only(workloads(classic), 'workload').pod)).get('POST_OFFICE_WEBHOOK_HOST'), '127.0.0.1');
});

test('webhooks on, standalone: its own Service on the pods\' po-webhooks port, the Ingress routes /webhooks to it, the NetworkPolicy admits webhooks.from', { skip }, async () => {
  const objects = await render(charts.app, ['-f', path.join(charts.app, 'ci/everything-values.yaml')]);
  const deployment = only(objects.filter((o) => o.kind === 'Deployment'), 'Deployment');
  const container = sidecarOf(podSpecOf(deployment)!);
  const env = envOf(container);
  assert.equal(env.get('POST_OFFICE_WEBHOOK_HOST'), '0.0.0.0');
  assert.equal(container.ports?.find((p) => p.name === 'po-webhooks')?.containerPort, Number(env.get('POST_OFFICE_WEBHOOK_PORT')));

  const service = only(objects.filter((o) => o.kind === 'Service' && o.metadata?.name === 'po-post-office-webhooks'), 'webhook Service');
  const spec = service.spec as ServiceSpec;
  assert.ok(selects(spec.selector, podLabelsOf(deployment)), 'the webhook Service selects the standalone pods');
  assert.deepEqual(spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['webhooks', 443, 'po-webhooks']], 'the webhook port alone: never the API or the admin port');

  const ingress = only(objects.filter((o) => o.kind === 'Ingress'), 'Ingress');
  const ingressSpec = ingress.spec as { ingressClassName: string; tls: { secretName: string }[]; rules: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] };
  assert.equal(ingressSpec.ingressClassName, 'nginx');
  assert.deepEqual(ingressSpec.tls.map((t) => t.secretName), ['hooks-shop-tls']);
  const rule = only(ingressSpec.rules, 'Ingress rule');
  assert.equal(rule.host, 'hooks.shop.example.com');
  assert.deepEqual(rule.http.paths.map((p) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.name]), [['/webhooks', 'Prefix', service.metadata?.name, 'webhooks']]);
  assert.equal(ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'], '1m');

  const policy = only(objects.filter((o) => o.kind === 'NetworkPolicy'), 'NetworkPolicy');
  assert.deepEqual(ingressRuleFor(policy, 'po-webhooks')?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
  // The default webhooks.from is everywhere: a rule with no `from` at all.
  const open = await render(charts.app, ['--set', 'webhooks.enabled=true', '--set', 'networkPolicy.enabled=true']);
  const openRule = ingressRuleFor(only(open.filter((o) => o.kind === 'NetworkPolicy'), 'NetworkPolicy'), 'po-webhooks');
  assert.ok(openRule, 'the webhook rule is there');
  assert.equal(openRule.from, undefined, 'from anywhere: providers call from the internet');
  assert.ok(!open.some((o) => o.kind === 'Ingress'), 'the Ingress is a switch of its own');
});

test('webhooks on, sidecar: the po-webhooks port on the pod IP, the API still on loopback, the app chart\'s Service routes to it', { skip }, async () => {
  const objects = await render(charts.demo, ['-f', path.join(charts.demo, 'ci/classic-values.yaml')]);
  const { object, pod } = only(workloads(objects), 'workload');
  const sidecar = sidecarOf(pod);
  const env = envOf(sidecar);
  assert.equal(env.get('POST_OFFICE_HOST'), '127.0.0.1', 'the API stays on loopback');
  assert.equal(env.get('POST_OFFICE_WEBHOOK_HOST'), '0.0.0.0');
  assert.equal(sidecar.ports?.find((p) => p.name === 'po-webhooks')?.containerPort, Number(env.get('POST_OFFICE_WEBHOOK_PORT')));
  const service = only(objects.filter((o) => o.kind === 'Service'), 'the demo\'s webhook Service');
  const spec = service.spec as ServiceSpec;
  assert.ok(selects(spec.selector, podLabelsOf(object)));
  assert.deepEqual(spec.ports.map((p) => p.targetPort), ['po-webhooks']);
  // Native sidecars serve webhooks the same way.
  const native = await render(charts.demo, ['-f', path.join(charts.demo, 'ci/native-values.yaml'), '--set', 'postOffice.webhooks.enabled=true', '--set', 'postOffice.ports.webhooks=9000']);
  const nativeSidecar = only((only(workloads(native), 'workload').pod.initContainers ?? []).filter((c) => c.name === SIDECAR), 'native sidecar');
  assert.equal(nativeSidecar.ports?.find((p) => p.name === 'po-webhooks')?.containerPort, 9000);
  assert.equal(envOf(nativeSidecar).get('POST_OFFICE_WEBHOOK_PORT'), '9000');
});
