import { describe } from 'vitest';
import { createMemoryEventBus } from '../src/events/memory-bus.ts';
import { eventBusContract } from './event-bus-contract.ts';

describe('in-process event bus', () => {
  eventBusContract(() => createMemoryEventBus({ retryDelayMs: () => 10 }));
});
