/**
 * The dashboard and alert rules in deploy/observability/ import and load as they are: the
 * dashboard's data source is a variable (no edits on import), every panel queries it, every alert
 * waits (`for`), has a severity and says what to do. Where `promtool` is installed (Debian's
 * `prometheus` package has it) the rules, and every dashboard query written as a recording rule,
 * pass `promtool check rules` too; CI does not install it, so there the check is skipped. That the
 * names they query are series the services register is series.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ALERTS_PATH, metricNames, readAlerts, readDashboard } from './assets.ts';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;

describe('Grafana dashboard (deploy/observability/campus-dashboard.json)', () => {
  const dashboard = readDashboard();
  const queried = dashboard.panels.filter((p) => p.type !== 'row');

  it('takes its Prometheus as an import input and a data source variable, never a fixed uid', () => {
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }));
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });

  it('has unique panel ids, a query in every panel, and panels inside the 24-column grid', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of queried) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(new Set(panel.targets!.map((t) => t.refId)).size, panel.title).toBe(panel.targets!.length);
      for (const target of panel.targets!) expect(metricNames(target.expr).length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('shows the router, its subgraph fetches, the subgraphs, event delivery and every process', () => {
    const used = new Set(queried.flatMap((p) => p.targets!.flatMap((t) => metricNames(t.expr))));
    for (const name of [
      'campus_router_requests_total',
      'campus_router_request_duration_seconds_bucket',
      'campus_router_subgraph_fetches_total',
      'campus_router_subgraph_fetch_duration_seconds_bucket',
      'campus_router_subgraph_breaker_open',
      'campus_router_operations_refused_total',
      'campus_router_websocket_connections',
      'campus_router_subscriptions_active',
      'campus_db_queries_total',
      'campus_db_query_duration_seconds_bucket',
      'campus_outbox_unpublished_events',
      'campus_outbox_oldest_unpublished_age_seconds',
      'campus_event_consumer_lag',
      'campus_event_dead_letters',
      'campus_outbox_republished_total',
      'campus_payments_reconciled_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});

describe('Prometheus alert rules (deploy/observability/campus-alerts.yaml)', () => {
  const rules = readAlerts();
  const alerts = rules.groups.flatMap((g) => g.rules);

  it('is a rule file of named groups of alerts with unique names', () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    for (const group of rules.groups) {
      expect(group.name).toMatch(/\S/);
      expect(group.rules.length, group.name).toBeGreaterThan(0);
    }
    const names = alerts.map((r) => r.alert);
    expect(names.every((n) => typeof n === 'string' && /^[A-Z][A-Za-z0-9]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every alert a `for`, a severity and a summary and description', () => {
    for (const rule of alerts) {
      expect(rule.for, rule.alert).toMatch(DURATION);
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.description?.length ?? 0, rule.alert).toBeGreaterThan(40);
      expect(metricNames(rule.expr).length, rule.alert).toBeGreaterThan(0);
    }
  });

  it('alerts on the error ratio, p99 latency, outbox age, consumer lag, dead letters and an open breaker', () => {
    const byMetric = (name: string) => alerts.filter((r) => metricNames(r.expr).includes(name)).map((r) => r.alert);
    expect(byMetric('campus_router_requests_total')).not.toEqual([]);
    expect(byMetric('campus_router_request_duration_seconds_bucket')).not.toEqual([]);
    expect(byMetric('campus_outbox_oldest_unpublished_age_seconds')).not.toEqual([]);
    expect(byMetric('campus_event_consumer_lag')).not.toEqual([]);
    expect(alerts.find((r) => metricNames(r.expr).includes('campus_event_dead_letters'))?.expr).toMatch(/>\s*0\b/);
    expect(byMetric('campus_router_subgraph_breaker_open')).not.toEqual([]);
  });

  it.skipIf(!promtool)('passes promtool check rules, and so does every dashboard query', () => {
    const rulesCheck = spawnSync('promtool', ['check', 'rules', ALERTS_PATH], { encoding: 'utf8' });
    expect(rulesCheck.status, rulesCheck.stdout + rulesCheck.stderr).toBe(0);
    // promtool parses rule files only: each dashboard query becomes a recording rule, with
    // Grafana's $__rate_interval as a fixed range.
    const dir = mkdtempSync(join(tmpdir(), 'campus-dashboard-rules-'));
    try {
      const panels = readDashboard().panels.filter((p) => p.targets?.length);
      const recording = panels.flatMap((p) => p.targets!.map((t) => ({ record: `dashboard:panel_${p.id}:${t.refId}`, expr: t.expr.replaceAll('$__rate_interval', '5m') })));
      const file = join(dir, 'dashboard-queries.yaml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
      const queriesCheck = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(queriesCheck.status, queriesCheck.stdout + queriesCheck.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
