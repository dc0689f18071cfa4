/**
 * The users service as its own process (production): `npm start -w @campus/users`.
 * The only file that starts listening; runService owns signals, draining and exit.
 */
import { runService } from '@campus/kit/subgraph';
import { usersService } from './service.ts';

await runService(usersService);
