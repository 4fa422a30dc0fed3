// A throwaway Prometheus on a free loopback port: scrapes the given targets every second into a
// temporary folder, evaluates the given rule files, answers queries over its HTTP API.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defer } from '../../helpers/cleanup.ts';
import { freePort, startServer, waitFor, type Server } from './processes.ts';
import { prometheus as prometheusTool } from './tools.ts';

export interface ScrapeTarget {
  job: string;
  address: string;
  /** Target labels, e.g. namespace and pod as Kubernetes discovery would set them. */
  labels: Record<string, string>;
}

export interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

export interface RunningPrometheus {
  url: string;
  server: Server;
  query(expr: string): Promise<QueryResult>;
  rules(): Promise<{ name: string; health: string; lastError?: string }[]>;
}

export async function startPrometheus(targets: ScrapeTarget[], ruleFiles: string[] = []): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'post-office-prometheus-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: targets.map((t) => ({ job_name: t.job, static_configs: [{ targets: [t.address], labels: t.labels }] })),
  };
  // JSON is YAML, so no serializer is needed for the config file.
  await writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const server = startServer(
    prometheusTool.require(),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { cwd: dir },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor('prometheus to be ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), { timeoutMs: 60_000, server });
  return {
    url,
    server,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      return (await response.json()) as QueryResult;
    },
    async rules() {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
      return body.data.groups.flatMap((g) => g.rules);
    },
  };
}
