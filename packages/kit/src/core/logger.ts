/** Structured JSON logs (pino). Secrets never reach a log line: the paths below are redacted. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: {
      paths: [
        'password',
        '*.password',
        '*.newPassword',
        '*.currentPassword',
        'refreshToken',
        '*.refreshToken',
        'accessToken',
        '*.accessToken',
        'headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
