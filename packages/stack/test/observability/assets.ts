/**
 * The operator's files in deploy/observability/ (the Grafana dashboard and the Prometheus alert
 * rules), read the way Grafana and Prometheus read them, and the metric names their PromQL uses.
 * Shared by assets.test.ts (their shape) and series.e2e.test.ts (every name is a series the
 * services register).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const DIR = new URL('../../../../deploy/observability/', import.meta.url);
export const DASHBOARD_PATH = new URL('campus-dashboard.json', DIR).pathname;
export const ALERTS_PATH = new URL('campus-alerts.yaml', DIR).pathname;

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
}

export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: string }[] };
  panels: DashboardPanel[];
}

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; interval?: string; rules: AlertRule[] }[];
}

export const readDashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
export const readAlerts = (): RuleFile => parseYaml(readFileSync(ALERTS_PATH, 'utf8')) as RuleFile;

/** Every PromQL expression of both files, named after where it comes from (for failure messages). */
export function expressions(): { where: string; expr: string }[] {
  const fromPanels = readDashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })));
  const fromRules = readAlerts().groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })));
  return [...fromPanels, ...fromRules];
}

/** PromQL's words that are not metric names: aggregations' modifiers, set operators, `bool`, `offset`. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names an expression selects. Label matchers, label lists (`by (...)`), range and
 * subquery brackets and strings are removed first; what is left that is an identifier and not a
 * function call (followed by `(`) or a keyword is a metric name. Enough for the expressions we
 * write; it makes no attempt at the whole grammar (promtool checks that, assets.test.ts).
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/**
 * The series names a /metrics body declares, from its `# TYPE` lines: a labelled series that has
 * not been observed yet has no sample line, but it is registered and declared all the same.
 * Histograms and summaries add the names their samples carry.
 */
export function declaredSeries(body: string): Set<string> {
  const names = new Set<string>();
  for (const line of body.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}
