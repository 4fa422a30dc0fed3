// Reading the Grafana dashboard's queries, and turning them into plain PromQL the way Grafana
// would before sending them to Prometheus.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './tools.ts';

export const dashboardFile = path.join(repoRoot, 'helm/post-office/files/dashboards/post-office.json');

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query?: string } }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
}

export interface NamedQuery {
  /** Where it comes from, for failure messages: "panel title (A)" or "variable pod". */
  name: string;
  expr: string;
}

/** Every panel target, rows' nested panels included. */
export function panelQueries(dashboard: Dashboard): NamedQuery[] {
  const walk = (panels: Panel[]): NamedQuery[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).filter((t) => t.expr).map((t) => ({ name: `${panel.title} (${t.refId})`, expr: t.expr! })),
      ...walk(panel.panels ?? []),
    ]);
  return walk(dashboard.panels);
}

/**
 * Query variables as PromQL: Grafana's label_values(metric{...}, label) asks for the label's
 * values among the metric's series, which `count by (label) (metric{...})` returns.
 */
export function variableQueries(dashboard: Dashboard): NamedQuery[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
      if (!match) throw new Error(`variable ${v.name}: unsupported query ${query}`);
      return { name: `variable ${v.name}`, expr: `count by (${match[2]}) (${match[1]})` };
    });
}

/** Grafana's substitution: built-in intervals become durations, template variables match all. */
export function toPromQL(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '30s')
    .replaceAll('$__interval', '5s')
    .replaceAll('$__range', '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, '.*');
}

/** Metric names a PromQL expression reads (histogram/summary suffixes kept). */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const names = withoutStrings.match(/\b(postoffice_[a-z0-9_]+|process_[a-z0-9_]+|up)\b(?!\s*\()/g) ?? [];
  return [...new Set(names)];
}
