/**
 * Identical upstream subscriptions are opened once and shared (docs/subscriptions.md, "Shared
 * upstream subscriptions").
 *
 *   upstream  one subscription on the owning subgraph per (subgraph, URL, viewer scope, primary
 *             operation text, its variables); opened by the first client subscription that needs
 *             it, completed when the last one leaves
 *   group     the client subscriptions of one upstream that run the same operation with the same
 *             variables on the same supergraph: the rest of the plan (entity fetches) runs once
 *             per event per group, and the result goes to every member
 *   scope     "public" for clients without a token (nothing of theirs goes upstream), else one
 *             per access token: two viewers are never merged, and neither are two sessions of
 *             one user (mySessionEvents' `reauthenticate` differs between them)
 *
 * Per group, events wait for the rest of the plan one after another (so members see them in the
 * subgraph's order), and at most MAX_EVENTS_WAITING of them: past that the group ends with
 * SUBSCRIPTION_BACKLOG_FULL instead of queueing without bound behind a slow entity subgraph.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@campus/kit/core';
import { GraphQLError, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import type { ExecutionResult as WsExecutionResult, Sink } from 'graphql-ws';
import type { RouterContext } from '../context.ts';
import type { SubscriptionPlan, SupergraphState } from '../planning/supergraph-state.ts';
import { executeEvent, type EventRequest } from './execute-event.ts';
import type { UpstreamPool, ViewerScope } from './upstream.ts';

/** Events of one group waiting for (or in) the rest of the plan; one more ends the group. */
export const MAX_EVENTS_WAITING = 100;

export const SubscriptionCode = {
  /** The rest of the plan could not keep up with the events (a slow entity subgraph). */
  SUBSCRIPTION_BACKLOG_FULL: 'SUBSCRIPTION_BACKLOG_FULL',
} as const;

/** A client subscription, as the group sees it. */
export interface Member {
  push(result: ExecutionResult): void;
  /** Ends the client's subscription (after what was pushed); the member leaves its group. */
  end(): void;
}

export interface JoinRequest {
  state: SupergraphState;
  plan: SubscriptionPlan;
  url: string;
  /** The client's own request: its context decides the scope. */
  request: EventRequest;
}

const failure = (message: string, code = 'INTERNAL_SERVER_ERROR'): ExecutionResult => ({
  data: null,
  errors: [new GraphQLError(message, { extensions: { code } })],
});

function upstreamFailure(serviceName: string, error: unknown): ExecutionResult {
  // graphql-ws reports an upstream `error` message as the array of GraphQL errors it carried.
  if (Array.isArray(error) && error.every((e) => typeof e?.message === 'string')) {
    return {
      data: null,
      errors: error.map((e: { message: string; extensions?: Record<string, unknown> }) =>
        new GraphQLError(e.message, { extensions: { ...e.extensions, serviceName } }),
      ),
    };
  }
  return failure(`The ${serviceName} service ended the subscription unexpectedly. Subscribe again.`);
}

function pick(variables: Record<string, unknown>, names: string[] | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names ?? []) if (name in variables) picked[name] = variables[name];
  return picked;
}

/** The scope a client's subscription runs in, and the context the rest of its plan runs with. */
export function viewerScope(context: RouterContext): { scope: ViewerScope; context: RouterContext } {
  // connection.ts refused the socket if a token was sent and did not verify: a token here is valid.
  if (!context.authorization) return { scope: { key: 'public', forward: {} }, context: { viewer: null } };
  const key = `token:${createHash('sha256').update(context.authorization).digest('base64url')}`;
  const { viewer, authorization, requestId, clientIp } = context;
  return {
    scope: { key, forward: { authorization, requestId, clientIp } },
    context: { viewer, authorization, requestId, clientIp },
  };
}

class Group {
  readonly members = new Set<Member>();
  private waiting = 0;
  private chain: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    private readonly state: SupergraphState,
    private readonly plan: SubscriptionPlan,
    private readonly request: EventRequest,
    private readonly onOverflow: (group: Group) => void,
  ) {}

  event(event: FormattedExecutionResult): void {
    if (this.closed) return;
    if (this.waiting >= MAX_EVENTS_WAITING) return this.onOverflow(this);
    this.waiting++;
    this.then(async () => {
      try {
        if (this.closed) return;
        const result = await executeEvent(this.state, this.plan, this.request, event);
        // executeQueryPlan's result is not touched after this; every member may share it.
        if (!this.closed) for (const member of [...this.members]) member.push(result);
      } finally {
        this.waiting--;
      }
    });
  }

  /** After the events already waiting: `last` (if any) to every member, then the end. */
  finish(last?: ExecutionResult): void {
    this.then(() => this.end(last));
  }

  /** Now, dropping whatever waits. */
  end(last?: ExecutionResult): void {
    if (this.closed) return;
    this.closed = true;
    for (const member of [...this.members]) {
      if (last) member.push(last);
      member.end();
    }
    this.members.clear();
  }

  private then(step: () => Promise<void> | void): void {
    this.chain = this.chain.then(step).catch((e) => {
      this.request.logger.error({ err: e }, 'subscription event failed');
      this.end(failure('Resolving this subscription event failed on our side.'));
    });
  }
}

class SharedUpstream {
  readonly groups = new Map<string, Group>();
  stop: () => void = () => {};
  /** Completed, failed or left by its last group: joiners open a new one. */
  gone = false;
}

export interface SharedSubscriptionStats {
  /** Subscriptions open on subgraphs, each shared by one or more client subscriptions. */
  upstreamSubscriptions: number;
  /** Client subscriptions ended with SUBSCRIPTION_BACKLOG_FULL since start. */
  backlogOverflows: number;
}

export class SharedSubscriptions {
  private readonly upstreams = new Map<string, SharedUpstream>();
  private overflows = 0;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly logger: Logger,
  ) {}

  stats(): SharedSubscriptionStats {
    return { upstreamSubscriptions: this.upstreams.size, backlogOverflows: this.overflows };
  }

  /** Adds a client subscription; the returned function takes it out (idempotent). */
  join({ state, plan, url, request }: JoinRequest, member: Member): () => void {
    const { primary } = plan.node;
    const { scope, context } = viewerScope(request.context);
    const variables = pick(request.variables, primary.variableUsages);
    const upstreamKey = JSON.stringify([primary.serviceName, url, scope.key, primary.operation, primary.operationName ?? null, variables]);
    let upstream = this.upstreams.get(upstreamKey);
    if (!upstream) {
      upstream = this.open(upstreamKey, primary.serviceName, url, scope, { query: primary.operation, operationName: primary.operationName ?? null, variables });
    }
    const groupKey = JSON.stringify([state.version, request.query, request.operationName ?? null, request.variables]);
    let group = upstream.groups.get(groupKey);
    if (!group) {
      const shared = upstream;
      group = new Group(state, plan, { ...request, context, logger: this.logger }, (g) => {
        this.overflows += g.members.size;
        this.logger.warn({ service: primary.serviceName, members: g.members.size, waiting: MAX_EVENTS_WAITING }, 'subscription backlog full: ending the subscriptions that share it');
        this.drop(shared, upstreamKey, groupKey, g);
        g.end(failure(
          `Events of this subscription arrived faster than the router could complete them (over ${MAX_EVENTS_WAITING} waiting); subscribe again.`,
          SubscriptionCode.SUBSCRIPTION_BACKLOG_FULL,
        ));
      });
      upstream.groups.set(groupKey, group);
    }
    group.members.add(member);
    const joined = { upstream, group };
    let left = false;
    return () => {
      if (left) return;
      left = true;
      joined.group.members.delete(member);
      if (joined.group.members.size === 0) {
        joined.group.closed = true;
        this.drop(joined.upstream, upstreamKey, groupKey, joined.group);
      }
    };
  }

  /** Takes a group out of its upstream; the upstream closes with its last group. */
  private drop(upstream: SharedUpstream, upstreamKey: string, groupKey: string, group: Group): void {
    if (upstream.groups.get(groupKey) === group) upstream.groups.delete(groupKey);
    if (upstream.groups.size === 0) this.close(upstream, upstreamKey);
  }

  private close(upstream: SharedUpstream, key: string): void {
    if (upstream.gone) return;
    upstream.gone = true;
    if (this.upstreams.get(key) === upstream) this.upstreams.delete(key);
    upstream.stop();
  }

  private open(key: string, service: string, url: string, scope: ViewerScope, payload: { query: string; operationName: string | null; variables: Record<string, unknown> }): SharedUpstream {
    const upstream = new SharedUpstream();
    this.upstreams.set(key, upstream);
    const ended = (last?: ExecutionResult) => {
      // Joiners from now on open a new upstream subscription; the current groups end after their waiting events.
      const groups = [...upstream.groups.values()];
      this.close(upstream, key);
      for (const group of groups) group.finish(last);
    };
    const sink: Sink<WsExecutionResult> = {
      next: (event) => {
        for (const group of upstream.groups.values()) group.event(event as FormattedExecutionResult);
      },
      error: (error) => ended(upstreamFailure(service, error)),
      complete: () => ended(),
    };
    upstream.stop = this.pool.subscribe(service, url, scope, payload, sink);
    // graphql-ws may report a refusal synchronously (a disposed client): nothing to keep then.
    if (upstream.gone) upstream.stop();
    return upstream;
  }
}
