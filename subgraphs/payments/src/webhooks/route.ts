/**
 * POST /webhooks/payments: where the provider reports outcomes. Not GraphQL and not behind the
 * router, so it does not take the router's signature; it takes the provider's instead, computed
 * over the raw bytes (which is why this route reads the body itself). A bad, missing or stale
 * signature, or a body that is not an event, is refused with 400 and changes nothing. A verified
 * event is stored (once per event id) and answered with 200 before it is processed.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '@campus/kit/core';
import type { Inbox } from './inbox.ts';
import { providerEnvelope } from './provider-event.ts';
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER } from './signature.ts';

export const WEBHOOK_PATH = '/webhooks/payments';

export interface WebhookRouteDeps {
  secret: string;
  inbox: Inbox;
  logger: Logger;
}

const refuse = (res: Response, status: number, message: string) => res.status(status).json({ error: { message } });

export function mountWebhookRoute(app: Express, { secret, inbox, logger }: WebhookRouteDeps): void {
  app.post(
    WEBHOOK_PATH,
    // Any content type: the signature, not the header, decides what is acceptable.
    express.raw({ type: () => true, limit: '256kb' }),
    async (req: Request, res: Response) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifyWebhook(secret, req.get(WEBHOOK_SIGNATURE_HEADER), raw);
      if (!check.ok) {
        logger.warn({ reason: check.reason }, 'webhook refused');
        return refuse(res, 400, `Webhook signature verification failed: ${check.reason}.`);
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        return refuse(res, 400, 'The body is not JSON.');
      }
      const parsed = providerEnvelope.safeParse(json);
      if (!parsed.success) return refuse(res, 400, 'The body is not a provider event ({ id, type, created, data: { object } }).');

      let stored: boolean;
      try {
        stored = await inbox.receive(parsed.data);
      } catch (err) {
        // Not stored: a 5xx makes the provider deliver it again later.
        logger.error({ err, providerEventId: parsed.data.id }, 'could not store a webhook event');
        return refuse(res, 500, 'Could not store the event; deliver it again.');
      }
      res.status(200).json({ received: true, duplicate: !stored });
      if (stored) void inbox.drain().catch((err) => logger.error({ err }, 'processing webhook events failed'));
    },
  );
  // Body too large or unreadable: a 4xx with a JSON body, never a crash or an HTML page.
  app.use(WEBHOOK_PATH, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status ?? 400;
    refuse(res, status >= 400 && status < 500 ? status : 400, 'The webhook body could not be read.');
  });
}
