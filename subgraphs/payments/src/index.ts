/**
 * The payments service as its own process (production): `npm start -w @campus/payments`.
 * The only file that starts listening; runService owns signals, draining and exit. With REDIS_URL
 * the event bus is Redis Streams and pub/sub is Redis, shared with the other services' processes.
 */
import { runService } from '@campus/kit/subgraph';
import { paymentsService } from './service.ts';

await runService(paymentsService);
