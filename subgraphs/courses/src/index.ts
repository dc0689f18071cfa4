/**
 * The courses service as its own process (production): `npm start -w @campus/courses`.
 * The only file that starts listening; runService owns signals, draining and exit. With REDIS_URL
 * it joins the event bus (Redis Streams): it consumes payments' events and relays its outbox.
 */
import { runService } from '@campus/kit/subgraph';
import { coursesService } from './service.ts';

await runService(coursesService);
