// Running helm for the chart tests, with its cache and config in a throwaway folder so the tests
// neither read nor write the user's helm setup, and helpers to read rendered manifests.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from './kubernetes-schema.ts';
import { run, type RunResult } from './processes.ts';
import { helm, repoRoot } from './tools.ts';

export const charts = {
  app: path.join(repoRoot, 'helm/post-office'),
  lib: path.join(repoRoot, 'helm/post-office-lib'),
  demo: path.join(repoRoot, 'helm/examples/app-with-sidecar'),
};

let home: string | undefined;
function helmHome(): string {
  if (home === undefined) {
    home = mkdtempSync(path.join(tmpdir(), 'post-office-helm-'));
    const created = home;
    after(() => rmSync(created, { recursive: true, force: true }));
  }
  return home;
}

export function runHelm(args: string[]): Promise<RunResult> {
  const dir = helmHome();
  return run(helm.require(), args, {
    env: { ...process.env, HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_DATA_HOME: path.join(dir, 'data') },
    timeoutMs: 60_000,
  });
}

export interface Scenario {
  /** e.g. "post-office/ci/standalone-values.yaml" */
  name: string;
  chart: string;
  valuesFile: string;
}

/** Every ci/*-values.yaml of the application chart and of the demo app chart. */
export function scenarios(): Scenario[] {
  return [charts.app, charts.demo].flatMap((chart) =>
    readdirSync(path.join(chart, 'ci'))
      .filter((file) => file.endsWith('-values.yaml'))
      .sort()
      .map((file) => ({ name: `${path.basename(chart)}/ci/${file}`, chart, valuesFile: path.join(chart, 'ci', file) })),
  );
}

/** `helm template`; throws with helm's message when rendering fails. */
export async function render(chart: string, args: string[] = []): Promise<KubernetesObject[]> {
  const result = await runHelm(['template', 'po', chart, '--namespace', 'mail', ...args]);
  if (result.code !== 0) throw new Error(`helm template ${path.basename(chart)} ${args.join(' ')} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

export interface Container {
  name: string;
  image?: string;
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] }; seccompProfile?: { type?: string } };
  lifecycle?: { preStop?: unknown };
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
}
export interface PodSpec {
  securityContext?: Record<string, unknown> & { seccompProfile?: { type?: string } };
  initContainers?: Container[] | null;
  containers: Container[];
  volumes?: { name: string; emptyDir?: Record<string, unknown> }[] | null;
}

/** The pod template of a workload object, or undefined for other kinds. */
export function podSpecOf(object: KubernetesObject): PodSpec | undefined {
  const spec = object.spec as { template?: { spec?: PodSpec } } | undefined;
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(object.kind) ? spec?.template?.spec : undefined;
}

export function podLabelsOf(object: KubernetesObject): Record<string, string> {
  return ((object.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {});
}

export function envOf(container: Container): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((entry) => [entry.name, entry.value]));
}

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0]!;
}
