/**
 * deploy/k8s/ renders, per overlay, to what docs/deploy.md promises, checked against the code
 * rather than against a copy of the manifests: both overlays are rendered with `kubectl kustomize`
 * (offline) and parsed, then
 *
 *   - every process has what it needs to be run and stopped safely: probes on the right paths and
 *     port, requests and limits, a non-root, read-only, capability-less container, a preStop sleep and
 *     a grace period longer than the drain (docs/readiness.md), an autoscaler and a disruption budget;
 *   - every container sets only variables its process reads (config-probe.ts asks its config.ts);
 *   - the NetworkPolicies allow exactly the calls the configuration makes and nothing more: the URLs
 *     in the containers' environment (ROUTER_JWKS, PAYMENTS_JWKS, JWKS_URL, USERS_URL, COURSES_URL,
 *     the datastores' URLs where the overlay holds them) and the routing URLs of the supergraph the
 *     router is given, resolved through the Services to pods and ports, against a small evaluator of
 *     NetworkPolicy semantics (default deny, ingress AND egress, label selectors, named ports);
 *   - the supergraph in the ConfigMap is deploy/supergraph.yaml composed now (not stale);
 *   - images are pinned, and production renders no Secret.
 *
 * Needs kubectl (CI has it); skipped without.
 */
import { spawnSync } from 'node:child_process';
import { posix } from 'node:path';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { KEY_PATHS, listensOn, PROCESSES, reads, readRepoFile, REPO_ROOT, SUBGRAPHS } from './config-probe.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/** What Apollo Server's drain gives requests in flight after SIGTERM (ApolloServerPluginDrainHttpServer's default). */
const HTTP_DRAIN_SECONDS = 10;

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface HttpProbe {
  httpGet?: { path: string; port: number | string };
  exec?: unknown;
  tcpSocket?: unknown;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; configMap?: { name: string } }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> };
  /** One shape per kind, read where used. */
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

/** A pod template: a Deployment's, StatefulSet's or Job's. */
interface Workload {
  kind: string;
  name: string;
  labels: Labels;
  annotations: Labels;
  pod: PodSpec;
  resource: Resource;
}

/** An allowed or expected connection: workload -> workload on a container port. */
const edge = (from: string, to: string, port: number) => `${from} -> ${to}:${port}`;

class Rendered {
  readonly resources: Resource[];
  readonly namespace: string;
  readonly namespaceLabels: Labels;

  constructor(readonly overlay: string) {
    const out = spawnSync('kubectl', ['kustomize', `deploy/k8s/overlays/${overlay}`], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`kubectl kustomize deploy/k8s/overlays/${overlay} failed:\n${out.stderr}`);
    this.resources = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Resource);
    const namespaces = this.of('Namespace');
    if (namespaces.length !== 1) throw new Error(`${overlay}: expected one Namespace, found ${namespaces.length}`);
    this.namespace = namespaces[0]!.metadata.name;
    this.namespaceLabels = { ...namespaces[0]!.metadata.labels, 'kubernetes.io/metadata.name': this.namespace };
  }

  of(kind: string): Resource[] {
    return this.resources.filter((r) => r.kind === kind);
  }

  named(kind: string, name: string): Resource | undefined {
    return this.resources.find((r) => r.kind === kind && r.metadata.name === name);
  }

  get workloads(): Workload[] {
    return this.resources
      .filter((r) => ['Deployment', 'StatefulSet', 'Job'].includes(r.kind))
      .map((r) => ({
        kind: r.kind,
        name: `${r.kind}/${r.metadata.name}`,
        labels: r.spec.template.metadata?.labels ?? {},
        annotations: r.spec.template.metadata?.annotations ?? {},
        pod: r.spec.template.spec as PodSpec,
        resource: r,
      }));
  }

  /** The Campus process a workload runs (its app.kubernetes.io/name), or undefined for the datastores. */
  process(w: Workload): string | undefined {
    const name = w.labels['app.kubernetes.io/name'];
    return name && PROCESSES.includes(name) ? name : undefined;
  }

  /** An env var's value: literal, or from a Secret or ConfigMap the render holds; undefined otherwise. */
  value(v: EnvVar): string | undefined {
    if (v.value !== undefined) return v.value;
    const ref = v.valueFrom?.secretKeyRef ?? v.valueFrom?.configMapKeyRef;
    if (!ref) return undefined;
    const holder = this.named(v.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name);
    if (!holder) return undefined;
    if (holder.stringData?.[ref.key] !== undefined) return holder.stringData[ref.key];
    const raw = holder.data?.[ref.key];
    if (raw === undefined) return undefined;
    return holder.kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  }

  /** The workload pods behind `host:port` (a Service of the namespace), as container ports. */
  resolve(host: string, port: number): { workload: Workload; port: number }[] {
    const [serviceName, ns] = host.split('.');
    if (ns !== undefined && ns !== this.namespace) return [];
    const service = this.named('Service', serviceName!);
    if (!service) return [];
    const servicePort = (service.spec.ports as { port: number; targetPort?: number | string }[]).find((p) => p.port === port);
    if (!servicePort) throw new Error(`${this.overlay}: Service ${serviceName} has no port ${port}`);
    return this.workloads
      .filter((w) => matches({ matchLabels: service.spec.selector }, w.labels))
      .map((w) => ({ workload: w, port: containerPort(w, servicePort.targetPort ?? servicePort.port) }))
      .filter((t): t is { workload: Workload; port: number } => t.port !== undefined);
  }

  /** Every connection the configuration makes, as workload -> workload:port. */
  expectedEdges(): Set<string> {
    const edges = new Set<string>();
    const add = (from: Workload, url: URL) => {
      const port = Number(url.port) || DEFAULT_PORTS[url.protocol];
      if (!port) return;
      for (const target of this.resolve(url.hostname, port)) edges.add(edge(from.name, target.workload.name, target.port));
    };
    for (const w of this.workloads) {
      const process = this.process(w);
      if (!process) continue;
      for (const c of w.pod.containers) {
        for (const v of c.env ?? []) {
          const value = this.value(v);
          if (value === undefined || !reads(process, v.name)) continue;
          const url = parseUrl(value);
          if (url) add(w, url);
        }
        // The router calls every subgraph at its routing URL in the supergraph it serves.
        if (process === 'router') for (const url of this.supergraphUrls(w, c)) add(w, new URL(url));
      }
    }
    return edges;
  }

  /** The routing URLs of the supergraph file the router container is pointed at (SUPERGRAPH_PATH, from a ConfigMap). */
  supergraphUrls(w: Workload, c: Container): string[] {
    return [...this.supergraphOf(w, c).matchAll(/@join__graph\(name: "[^"]+", url: "([^"]+)"\)/g)].map((m) => m[1]!);
  }

  supergraphOf(w: Workload, c: Container): string {
    const path = c.env?.find((v) => v.name === 'SUPERGRAPH_PATH')?.value;
    if (!path) throw new Error(`${w.name}: SUPERGRAPH_PATH is not set, so it serves the image's own supergraph`);
    const mount = c.volumeMounts?.find((m) => m.mountPath === posix.dirname(path));
    const configMap = w.pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name;
    const data = configMap ? this.named('ConfigMap', configMap)?.data?.[posix.basename(path)] : undefined;
    if (data === undefined) throw new Error(`${w.name}: SUPERGRAPH_PATH ${path} is not a file of a ConfigMap mounted there`);
    return data;
  }

  /** Every connection the NetworkPolicies allow between the render's pods, as workload -> workload:port. */
  allowedEdges(): Set<string> {
    const policies = this.of('NetworkPolicy');
    const edges = new Set<string>();
    for (const from of this.workloads) {
      for (const to of this.workloads) {
        for (const c of to.pod.containers) {
          for (const p of c.ports ?? []) {
            if ((p.protocol ?? 'TCP') !== 'TCP') continue;
            const out = this.direction(policies, 'Egress', from, to, p.containerPort);
            const into = this.direction(policies, 'Ingress', to, from, p.containerPort);
            if (out && into) edges.add(edge(from.name, to.name, p.containerPort));
          }
        }
      }
    }
    return edges;
  }

  /**
   * Whether the policies selecting `self` let it send (Egress) to or receive (Ingress) from `other`
   * on `port` (a port of the receiving pod). Unselected pods are not isolated.
   */
  private direction(policies: Resource[], type: 'Ingress' | 'Egress', self: Workload, other: Workload, port: number): boolean {
    const selecting = policies.filter((p) => policyTypes(p).includes(type) && matches(p.spec.podSelector, self.labels));
    if (selecting.length === 0) return true;
    const receiver = type === 'Ingress' ? self : other;
    return selecting.some((p) =>
      ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) as Rule[] | undefined)?.some((rule) => {
        const peers = type === 'Ingress' ? rule.from : rule.to;
        const peerOk = !peers || peers.length === 0 || peers.some((peer) => this.peerMatches(peer, other));
        const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((rp) => policyPortMatches(rp, receiver, port));
        return peerOk && portOk;
      }),
    );
  }

  /** A peer names pods of this namespace when its namespaceSelector (if any) selects this namespace. An ipBlock may hold any pod's address. */
  private peerMatches(peer: Peer, w: Workload): boolean {
    if (peer.ipBlock) return true;
    if (peer.namespaceSelector && !matches(peer.namespaceSelector, this.namespaceLabels)) return false;
    return matches(peer.podSelector ?? {}, w.labels);
  }
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };

function parseUrl(value: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return undefined;
  try {
    return new URL(value.trim());
  } catch {
    return undefined;
  }
}

function policyTypes(p: Resource): string[] {
  return p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function matches(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const ok =
      e.operator === 'In' ? has && e.values!.includes(labels[e.key]!)
      : e.operator === 'NotIn' ? !has || !e.values!.includes(labels[e.key]!)
      : e.operator === 'Exists' ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}

function containerPort(w: Workload, port: number | string): number | undefined {
  if (typeof port === 'number') return w.pod.containers.some((c) => c.ports?.some((p) => p.containerPort === port)) ? port : undefined;
  for (const c of w.pod.containers) {
    const found = c.ports?.find((p) => p.name === port);
    if (found) return found.containerPort;
  }
  return undefined;
}

function policyPortMatches(rp: PolicyPort, receiver: Workload, port: number): boolean {
  if ((rp.protocol ?? 'TCP') !== 'TCP') return false;
  if (rp.port === undefined) return true;
  const resolved = typeof rp.port === 'string' ? containerPort(receiver, rp.port) : rp.port;
  if (resolved === undefined) return false;
  return rp.endPort ? port >= resolved && port <= rp.endPort : port === resolved;
}

const httpPort = (w: Workload, c: Container, probe: HttpProbe | undefined) =>
  probe?.httpGet ? containerPort(w, probe.httpGet.port) : undefined;

describe.skipIf(!hasKubectl)('deploy/k8s', () => {
  const overlays = hasKubectl ? (['dev', 'prod'] as const).map((o) => new Rendered(o)) : [];

  describe.each(overlays.map((r) => [r.overlay, r] as const))('overlays/%s', (_name, r) => {
    const deployments = r.of('Deployment');
    const campus = r.workloads.filter((w) => r.process(w));

    test('runs every process of the supergraph and the router, and a migration Job for every subgraph, in one image per service', () => {
      const byName = (kind: string, name: string) => r.named(kind, name);
      for (const process of PROCESSES) {
        expect(byName('Deployment', process), `Deployment ${process}`).toBeDefined();
        expect(byName('Service', process), `Service ${process}`).toBeDefined();
      }
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...PROCESSES].sort());
      const jobs = r.of('Job');
      expect(jobs.map((j) => j.spec.template.metadata.labels['app.kubernetes.io/name']).sort()).toEqual([...SUBGRAPHS].sort());
      for (const job of jobs) {
        const process = job.spec.template.metadata.labels['app.kubernetes.io/name'] as string;
        const [c] = job.spec.template.spec.containers as Container[];
        const deployment = byName('Deployment', process)!;
        // The service's own image, so the migrations applied are the ones that version carries.
        expect(c!.image).toBe((deployment.spec.template.spec.containers as Container[])[0]!.image);
        expect(c!.command).toEqual(['node', '/app/scripts/dist/db-migrate.js']);
        // npm run db:migrate reads <SERVICE>_DATABASE_URL (scripts/service-databases.ts), and only that is given.
        expect((c!.env ?? []).map((v) => v.name)).toEqual([`${process.toUpperCase()}_DATABASE_URL`]);
        expect(reads(process, `${process.toUpperCase()}_DATABASE_URL`)).toBe(true);
      }
    });

    test('every container sets only variables its process reads', () => {
      for (const w of campus) {
        for (const c of w.pod.containers) {
          const unread = (c.env ?? []).map((v) => v.name).filter((name) => !reads(r.process(w)!, name));
          expect(unread, `${w.name}: variables ${r.process(w)} does not read`).toEqual([]);
        }
      }
    });

    test('URLs to other services name the paths those services serve', () => {
      for (const w of campus) {
        for (const c of w.pod.containers) {
          for (const v of c.env ?? []) {
            const url = v.value !== undefined ? parseUrl(v.value) : undefined;
            if (!url) continue;
            if (v.name === 'ROUTER_JWKS' || v.name === 'PAYMENTS_JWKS') expect(url.pathname, `${w.name} ${v.name}`).toBe(KEY_PATHS.service);
            if (v.name === 'JWKS_URL') expect(url.pathname, `${w.name} ${v.name}`).toBe(KEY_PATHS.accessTokens);
            // The port named is the one the target process listens on, as configured in its own Deployment.
            const target = r.named('Deployment', url.hostname);
            if (target) {
              const targetEnv = Object.fromEntries(((target.spec.template.spec.containers as Container[])[0]!.env ?? []).map((e) => [e.name, e.value]));
              expect(Number(url.port), `${w.name} ${v.name}`).toBe(listensOn(url.hostname, targetEnv));
            }
          }
        }
      }
    });

    test('every container has probes, requests and limits, and runs as a non-root user without privileges', () => {
      for (const w of r.workloads) {
        for (const c of w.pod.containers) {
          const where = `${w.name} container ${c.name}`;
          if (w.kind !== 'Job') {
            expect(c.readinessProbe, `${where}: readinessProbe`).toBeDefined();
            expect(c.livenessProbe, `${where}: livenessProbe`).toBeDefined();
          }
          for (const kind of ['requests', 'limits'] as const) {
            expect(c.resources?.[kind]?.cpu, `${where}: ${kind}.cpu`).toBeDefined();
            expect(c.resources?.[kind]?.memory, `${where}: ${kind}.memory`).toBeDefined();
          }
          const sc = c.securityContext ?? {};
          expect(sc.runAsNonRoot ?? w.pod.securityContext?.runAsNonRoot, `${where}: runAsNonRoot`).toBe(true);
          expect(sc.runAsUser ?? w.pod.securityContext?.runAsUser, `${where}: runAsUser`).not.toBe(0);
          expect(sc.allowPrivilegeEscalation, `${where}: allowPrivilegeEscalation`).toBe(false);
          expect(sc.readOnlyRootFilesystem, `${where}: readOnlyRootFilesystem`).toBe(true);
          expect(sc.capabilities?.drop, `${where}: capabilities.drop`).toContain('ALL');
          expect(sc.capabilities?.add ?? [], `${where}: capabilities.add`).toEqual([]);
        }
      }
    });

    test('Campus processes are probed on /ready and /health of the port they listen on, and drain before they are killed', () => {
      for (const w of campus.filter((x) => x.kind === 'Deployment')) {
        const c = w.pod.containers[0]!;
        const env = Object.fromEntries((c.env ?? []).map((v) => [v.name, r.value(v)]));
        const port = listensOn(r.process(w)!, env);
        expect(c.readinessProbe?.httpGet?.path, `${w.name} readiness`).toBe('/ready');
        expect(c.livenessProbe?.httpGet?.path, `${w.name} liveness`).toBe('/health');
        expect(httpPort(w, c, c.readinessProbe), `${w.name} readiness port`).toBe(port);
        expect(httpPort(w, c, c.livenessProbe), `${w.name} liveness port`).toBe(port);
        // A preStop sleep lets the endpoints drop the pod before SIGTERM, and the grace period covers
        // that sleep plus the drain (docs/readiness.md), or requests in flight are cut.
        const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
        expect(preStop[0], `${w.name} preStop`).toBe('sleep');
        const sleep = Number(preStop[1]);
        expect(sleep).toBeGreaterThan(0);
        expect(w.pod.terminationGracePeriodSeconds ?? 30, `${w.name} terminationGracePeriodSeconds`).toBeGreaterThan(sleep + HTTP_DRAIN_SECONDS);
      }
    });

    test('metrics are served on their own port, annotated for Prometheus, and reachable from the monitoring namespace only', () => {
      for (const w of campus.filter((x) => x.kind === 'Deployment')) {
        const process = r.process(w)!;
        const c = w.pod.containers[0]!;
        const name = `${process.toUpperCase()}_METRICS_PORT`;
        expect(reads(process, name), name).toBe(true);
        const metricsPort = Number(c.env?.find((v) => v.name === name)?.value);
        expect(metricsPort, `${w.name} ${name}`).toBeGreaterThan(0);
        expect(c.ports?.map((p) => p.containerPort)).toContain(metricsPort);
        expect(w.annotations['prometheus.io/scrape']).toBe('true');
        expect(Number(w.annotations['prometheus.io/port'])).toBe(metricsPort);
        expect(w.annotations['prometheus.io/path']).toBe('/metrics');
        const scrapers = r.of('NetworkPolicy').filter(
          (p) =>
            matches(p.spec.podSelector, w.labels) &&
            (p.spec.ingress as Rule[] | undefined)?.some(
              (rule) => rule.ports?.some((rp) => policyPortMatches(rp, w, metricsPort)) && rule.from?.every((peer) => peer.namespaceSelector && !matches(peer.namespaceSelector, r.namespaceLabels)),
            ),
        );
        expect(scrapers.length, `${w.name}: a policy letting another namespace scrape port ${metricsPort}`).toBeGreaterThan(0);
      }
    });

    test('every Deployment has an autoscaler and a disruption budget that leave it running', () => {
      for (const d of deployments) {
        const labels = d.spec.template.metadata.labels as Labels;
        const hpas = r.of('HorizontalPodAutoscaler').filter((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name);
        expect(hpas, `HPA for ${d.metadata.name}`).toHaveLength(1);
        expect(hpas[0]!.spec.minReplicas).toBeGreaterThanOrEqual(1);
        expect(hpas[0]!.spec.maxReplicas).toBeGreaterThan(hpas[0]!.spec.minReplicas);
        const pdbs = r.of('PodDisruptionBudget').filter((p) => matches(p.spec.selector, labels));
        expect(pdbs, `PDB for ${d.metadata.name}`).toHaveLength(1);
        // maxUnavailable, not minAvailable: a one-replica development deployment can still be drained.
        expect(pdbs[0]!.spec.maxUnavailable).toBe(1);
        // Rollouts never lower capacity: the next pod is ready before one goes.
        expect(d.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
      }
    });

    test('the NetworkPolicies allow exactly the calls the configuration makes', () => {
      const expected = r.expectedEdges();
      // Sanity: the calls docs/deploy.md lists are among them (a broken derivation must not pass as "both empty").
      for (const call of [
        edge('Deployment/router', 'Deployment/users', 4001),
        edge('Deployment/users', 'Deployment/router', 4000),
        edge('Deployment/payments', 'Deployment/courses', 4002),
        edge('Deployment/courses', 'Deployment/payments', 4003),
      ]) {
        expect(expected).toContain(call);
      }
      expect([...r.allowedEdges()].sort()).toEqual([...expected].sort());
    });

    test('a process with a database or Redis URL may reach a database or Redis', () => {
      const policies = r.of('NetworkPolicy');
      for (const w of campus) {
        const names = w.pod.containers.flatMap((c) => (c.env ?? []).map((v) => v.name));
        for (const [suffix, port] of [['_DATABASE_URL', 5432], ['REDIS_URL', 6379]] as const) {
          if (!names.some((n) => n.endsWith(suffix))) continue;
          const allowed = policies.some(
            (p) =>
              policyTypes(p).includes('Egress') &&
              matches(p.spec.podSelector, w.labels) &&
              (p.spec.egress as Rule[] | undefined)?.some((rule) => rule.to?.length && rule.ports?.some((rp) => rp.port === port)),
          );
          expect(allowed, `${w.name}: egress on ${port}`).toBe(true);
        }
      }
    });

    test('the supergraph the routers serve is deploy/supergraph.yaml composed now, routed to the Services', () => {
      const router = campus.find((w) => w.kind === 'Deployment' && r.process(w) === 'router')!;
      const served = r.supergraphOf(router, router.pod.containers[0]!);
      // Stale after a schema change until `npm run compose` (part of `npm run generate`) writes it again.
      expect(served === composeSupergraph(readSupergraphConfig(`${REPO_ROOT}deploy/supergraph.yaml`)), 'deploy/k8s/base/supergraph.graphql is stale').toBe(true);
      for (const url of r.supergraphUrls(router, router.pod.containers[0]!)) {
        const { hostname, port } = new URL(url);
        expect(r.resolve(hostname, Number(port)), url).toHaveLength(1);
      }
    });

    test('images are pinned', () => {
      for (const w of r.workloads) {
        for (const c of w.pod.containers) {
          const image = c.image;
          const tag = /@sha256:[0-9a-f]{64}$/.test(image) ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
          expect(tag, `${w.name}: ${image} has no tag`).toBeDefined();
          expect(tag, `${w.name}: ${image}`).not.toBe('latest');
        }
      }
    });
  });

  test('production renders no Secret and references ones that exist there; development generates every one referenced', () => {
    const [dev, prod] = overlays;
    expect(prod!.of('Secret')).toEqual([]);
    for (const r of [dev!, prod!]) {
      const refs = r.workloads.flatMap((w) => w.pod.containers.flatMap((c) => (c.env ?? []).flatMap((v) => (v.valueFrom?.secretKeyRef ? [v] : []))));
      expect(refs.length).toBeGreaterThan(0);
      if (r === dev) for (const v of refs) expect(dev!.value(v), `${v.name} from ${v.valueFrom!.secretKeyRef!.name}`).toBeDefined();
    }
  });

  test('the development PostgreSQL creates each role with the password its service connects with', () => {
    const dev = overlays[0]!;
    const postgres = dev.workloads.find((w) => w.labels['app.kubernetes.io/name'] === 'postgres')!;
    const env = Object.fromEntries((postgres.pod.containers[0]!.env ?? []).map((v) => [v.name, dev.value(v)]));
    for (const subgraph of SUBGRAPHS) {
      const deployment = dev.named('Deployment', subgraph)!;
      const v = (deployment.spec.template.spec.containers as Container[])[0]!.env!.find((e) => e.name === `${subgraph.toUpperCase()}_DATABASE_URL`)!;
      const url = new URL(dev.value(v)!);
      // deploy/datastores/init-databases.sh: role and database campus_<service>, password CAMPUS_<SERVICE>_DB_PASSWORD.
      expect([url.username, url.pathname.slice(1)]).toEqual([`campus_${subgraph}`, `campus_${subgraph}`]);
      expect(decodeURIComponent(url.password)).toBe(env[`CAMPUS_${subgraph.toUpperCase()}_DB_PASSWORD`]);
    }
  });

  test('deploy/supergraph.yaml lists the subgraphs of supergraph.yaml with the same schemas', () => {
    const deployed = YAML.parse(readRepoFile('deploy/supergraph.yaml')) as { subgraphs: Record<string, { schema: { file: string } }> };
    const local = YAML.parse(readRepoFile('supergraph.yaml')) as { subgraphs: Record<string, { schema: { file: string } }> };
    expect(Object.keys(deployed.subgraphs).sort()).toEqual(Object.keys(local.subgraphs).sort());
    for (const [name, s] of Object.entries(local.subgraphs)) {
      expect(posix.join('deploy', deployed.subgraphs[name]!.schema.file)).toBe(posix.normalize(s.schema.file));
    }
  });
});
