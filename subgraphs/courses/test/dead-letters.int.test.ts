/**
 * The admin's view of the bus's dead letters through courses' GraphQL API (docs/delivery.md): an
 * event a consumer kept failing on is listed with its last error, only admins see or replay it, and
 * a replay hands it back to that consumer alone.
 */
import { createMemoryEventBus, domainEvent, type DomainEvent, type EventBus } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCourses, type CoursesHarness, type Person } from './harness.ts';

const LIST = `query ($first: Int, $consumer: String) {
  eventDeadLetters(first: $first, consumer: $consumer) { id eventId type consumer error deliveries deadAt payload }
}`;
const REPLAY = `mutation ($input: ReplayEventDeadLettersInput!) { replayEventDeadLetters(input: $input) { replayed } }`;

describe('event dead letters', () => {
  let h: CoursesHarness;
  let bus: EventBus;
  let admin: Person;
  let student: Person;
  let healthy = false;
  const handled: DomainEvent[] = [];

  beforeAll(async () => {
    bus = createMemoryEventBus({ retryDelayMs: () => 5, maxDeliveries: 3 });
    h = await startCourses({ bus });
    admin = await h.person('dead-letters-admin', 'ADMIN');
    student = await h.person('dead-letters-student', 'STUDENT');
    // A consumer of another service whose handler fails until it is "fixed".
    await bus.consume('reports', ['ReportRequested'], async (event) => {
      if (!healthy) throw new Error('report store unavailable');
      handled.push(event);
    });
  });
  afterAll(async () => {
    await h?.close();
    await bus?.close();
  });

  it('lists what a consumer gave up on to admins, and replays it to that consumer only', async () => {
    const event = domainEvent('ReportRequested', { reportId: 'r-1' });
    await bus.publish(event);
    await waitFor(async () => (await bus.deadLetterCount()) === 1, 'the event to become a dead letter');

    // Operators see it too: GET /metrics counts the bus's dead letters (docs/delivery.md).
    const metricsUrl = h.url.replace(/\/graphql$/, '/metrics');
    const scrape = async () => (await fetch(metricsUrl)).text();
    expect(await scrape()).toMatch(/^campus_event_dead_letters\{service="courses"\} 1$/m);

    const listed = await h.request(LIST, { as: admin, variables: { consumer: 'reports' } });
    expect(listed.errors).toBeUndefined();
    const [letter] = listed.data.eventDeadLetters;
    expect(letter).toMatchObject({ eventId: event.id, type: 'ReportRequested', consumer: 'reports', error: 'report store unavailable', deliveries: 3 });
    expect(JSON.parse(letter.payload)).toEqual({ reportId: 'r-1' });
    expect((await h.request(LIST, { as: admin, variables: { consumer: 'courses' } })).data.eventDeadLetters).toEqual([]);

    for (const who of [student, undefined]) {
      const refused = await h.request(LIST, who ? { as: who } : {});
      expect(refused.errors?.[0]?.extensions?.code).toBe(who ? 'FORBIDDEN' : 'UNAUTHENTICATED');
      const notReplayed = await h.request(REPLAY, { ...(who ? { as: who } : {}), variables: { input: { ids: [letter.id] } } });
      expect(notReplayed.errors?.[0]?.extensions?.code).toBe(who ? 'FORBIDDEN' : 'UNAUTHENTICATED');
    }
    expect(await bus.deadLetterCount()).toBe(1);

    const badFirst = await h.request(LIST, { as: admin, variables: { first: 0 } });
    expect(badFirst.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const noIds = await h.request(REPLAY, { as: admin, variables: { input: { ids: [] } } });
    expect(noIds.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    healthy = true;
    const replayed = await h.request(REPLAY, { as: admin, variables: { input: { ids: [letter.id] } } });
    expect(replayed.data.replayEventDeadLetters).toEqual({ replayed: 1 });
    await waitFor(async () => handled.length === 1, 'the replayed event to be handled');
    expect(handled[0]!.id).toBe(event.id);
    expect(await bus.deadLetterCount()).toBe(0);
    expect((await h.request(LIST, { as: admin })).data.eventDeadLetters).toEqual([]);
    const metrics = await scrape();
    expect(metrics).toMatch(/^campus_event_dead_letters\{service="courses"\} 0$/m);
    // Node.js's own metrics come with every service's registry, labelled with the service.
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds\{service="courses"\} /m);
  });
});
