/**
 * The services the stack runs, in start order (a service may need the URL of one started before
 * it: payments asks courses for a price at checkout). Each is its own definition
 * (subgraphs/<name>/src/service.ts, docs/service-shape.md); adding a subgraph to the embedded
 * default and the test harness means adding its definition here and its entry to supergraph.yaml.
 */
import type { RunningService as ServiceInstance, ServiceDefinition } from '@campus/kit/subgraph';
import { usersService } from '@campus/users/service';
import { coursesService } from '@campus/courses/service';
import { paymentsService } from '@campus/payments/service';

export type { SharedInfra } from '@campus/kit/subgraph';

/** A service the stack runs, with its seed bound to it. */
export interface RunningService extends ServiceInstance {
  /** Seeds demo data when the service's database is empty; returns what it created. */
  seedIfEmpty(scale: number): Promise<Record<string, number> | null>;
}

export const SERVICE_DEFINITIONS: ServiceDefinition[] = [usersService, coursesService, paymentsService];
