/**
 * The built-in sandbox provider: no credentials, no network beyond this service's own webhook.
 * It accepts the test payment methods in test-methods.ts and, like a real provider, answers the
 * request at once and reports the outcome asynchronously through a signed webhook:
 *   pm_card_visa            -> payment_intent.succeeded
 *   pm_card_chargeDeclined  -> payment_intent.payment_failed (with the decline reason)
 *   pm_card_visa_delayed    -> payment_intent.processing, then .succeeded after `delayMs`
 *   refund                  -> refund.updated (succeeded)
 *
 * It stands in for an external provider, so it keeps its state as one would, apart from the
 * merchant's: in its own Sandbox* tables (prisma/schema.prisma), which share nothing with
 * payments' tables; only the database is the same, for want of a provider of its own. What it
 * keeps: each intent and refund under its idempotency key (a repeated request returns the first
 * answer and sends nothing new, also after a restart), and every webhook it owes
 * (webhook-sender.ts delivers them, a delayed one when it is due, after a restart too).
 * `retrievePayment` answers from the intent, as Stripe's `GET /v1/payment_intents/:id` does: a
 * delayed intent has succeeded once its time has come, whether or not its webhook got through.
 */
import { randomBytes } from 'node:crypto';
import { Prisma, type PrismaClient, type SandboxPaymentIntent } from '../generated/prisma/client.ts';
import type { PaymentIntentObject, RefundObject } from '../webhooks/provider-event.ts';
import {
  ProviderError,
  type CreatedPayment,
  type CreatePaymentRequest,
  type PaymentProvider,
  type ProviderPaymentStatus,
  type RefundRequest,
  type RetrievePaymentRequest,
} from './provider.ts';
import { SANDBOX_METHODS } from './test-methods.ts';
import type { WebhookSender } from './webhook-sender.ts';

export interface SandboxOptions {
  prisma: PrismaClient;
  webhooks: WebhookSender;
  /** How long pm_card_visa_delayed takes to succeed. */
  delayMs: number;
}

export interface SandboxProvider extends PaymentProvider {
  /** Starts delivering the webhooks it owes (also those a previous process left). */
  start(): void;
}

const id = (prefix: string) => `${prefix}_sbx_${randomBytes(12).toString('hex')}`;
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const isUniqueViolation = (e: unknown) => e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';

type Scheduled = { type: string; object: PaymentIntentObject | RefundObject; dueAt: Date };

/** The intent as Stripe shows it, in `status`. */
function intentObject(row: SandboxPaymentIntent, status: PaymentIntentObject['status']): PaymentIntentObject {
  return {
    id: row.id,
    object: 'payment_intent',
    status,
    amount: row.amount,
    currency: row.currency,
    metadata: { paymentId: row.paymentId },
    payment_method_details: { brand: row.methodBrand, last4: row.methodLast4 },
    last_payment_error:
      status === 'requires_payment_method' && row.lastErrorMessage
        ? { code: row.lastErrorCode ?? 'card_declined', decline_code: row.lastErrorDeclineCode ?? undefined, message: row.lastErrorMessage }
        : null,
  };
}

const deliveryRow = ({ type, object, dueAt }: Scheduled): Prisma.SandboxWebhookDeliveryCreateManyInput => {
  const eventId = id('evt');
  return { id: eventId, type, dueAt, event: { id: eventId, type, created: seconds(dueAt), data: { object } } as Prisma.InputJsonValue };
};

export function sandboxProvider(options: SandboxOptions): SandboxProvider {
  const { prisma, webhooks } = options;

  /** The intent's status now: a processing one whose time has come has succeeded (and is stored so). */
  async function current(row: SandboxPaymentIntent): Promise<SandboxPaymentIntent> {
    if (row.status !== 'processing' || !row.succeedsAt || row.succeedsAt.getTime() > Date.now()) return row;
    await prisma.sandboxPaymentIntent.updateMany({ where: { id: row.id, status: 'processing' }, data: { status: 'succeeded' } });
    return { ...row, status: 'succeeded' };
  }

  /** A repeated create: the first answer, if the request is the same one (Stripe refuses a reused key otherwise). */
  function replayIntent(row: SandboxPaymentIntent, request: CreatePaymentRequest): CreatedPayment {
    if (row.paymentId !== request.paymentId || row.amount !== request.amount || row.currency !== request.currency.toLowerCase()) {
      throw new ProviderError('Keys for idempotent requests can only be used with the same parameters they were first used with.', 'idempotency_error');
    }
    return { providerPaymentId: row.id, method: { brand: row.methodBrand, last4: row.methodLast4 } };
  }

  return {
    name: 'sandbox',

    start: () => webhooks.start(),

    checkPaymentMethod(paymentMethod) {
      if (SANDBOX_METHODS[paymentMethod]) return null;
      return `is not a sandbox test payment method; use one of ${Object.keys(SANDBOX_METHODS).join(', ')}.`;
    },

    async createPayment(request) {
      const known = await prisma.sandboxPaymentIntent.findUnique({ where: { idempotencyKey: request.idempotencyKey } });
      if (known) return replayIntent(known, request);
      const method = SANDBOX_METHODS[request.paymentMethod];
      if (!method) throw new ProviderError(`Unknown payment method ${request.paymentMethod}.`, 'payment_method_unknown');

      const now = new Date();
      const { outcome } = method;
      const succeedsAt = outcome.kind === 'succeedAfterDelay' ? new Date(now.getTime() + options.delayMs) : null;
      const row: SandboxPaymentIntent = {
        id: id('pi'),
        idempotencyKey: request.idempotencyKey,
        paymentId: request.paymentId,
        status: outcome.kind === 'succeed' ? 'succeeded' : outcome.kind === 'decline' ? 'requires_payment_method' : 'processing',
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        description: request.description,
        methodBrand: method.brand,
        methodLast4: method.last4,
        lastErrorCode: outcome.kind === 'decline' ? outcome.code : null,
        lastErrorDeclineCode: outcome.kind === 'decline' ? outcome.declineCode : null,
        lastErrorMessage: outcome.kind === 'decline' ? outcome.message : null,
        succeedsAt,
        createdAt: now,
        updatedAt: now,
      };
      const scheduled: Scheduled[] =
        outcome.kind === 'succeed'
          ? [{ type: 'payment_intent.succeeded', object: intentObject(row, 'succeeded'), dueAt: now }]
          : outcome.kind === 'decline'
            ? [{ type: 'payment_intent.payment_failed', object: intentObject(row, 'requires_payment_method'), dueAt: now }]
            : [
                { type: 'payment_intent.processing', object: intentObject(row, 'processing'), dueAt: now },
                { type: 'payment_intent.succeeded', object: intentObject(row, 'succeeded'), dueAt: succeedsAt! },
              ];
      try {
        // The intent and the webhooks it owes, together: neither exists without the other.
        await prisma.$transaction([
          prisma.sandboxPaymentIntent.create({ data: row }),
          prisma.sandboxWebhookDelivery.createMany({ data: scheduled.map(deliveryRow) }),
        ]);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        // A concurrent request with the same key created it first.
        return replayIntent(await prisma.sandboxPaymentIntent.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } }), request);
      }
      webhooks.wakeAt(succeedsAt ?? now);
      return { providerPaymentId: row.id, method: { brand: method.brand, last4: method.last4 } };
    },

    async refund(request: RefundRequest) {
      const known = await prisma.sandboxRefund.findUnique({ where: { idempotencyKey: request.idempotencyKey } });
      if (known) return { providerRefundId: known.id };
      const intent = await prisma.sandboxPaymentIntent.findUnique({ where: { id: request.providerPaymentId } });
      // Demo payments written by the seed (src/seed.ts, pseudo ids "pi_...") never went through
      // the sandbox: refundable as if it had charged them.
      if (!intent && !request.providerPaymentId.startsWith('pi_')) {
        throw new ProviderError(`No such payment ${request.providerPaymentId}.`, 'resource_missing');
      }
      if (intent && (await current(intent)).status !== 'succeeded') {
        throw new ProviderError(`Payment ${request.providerPaymentId} has not been charged; there is nothing to refund.`, 'charge_not_refundable');
      }
      const refund: RefundObject = {
        id: id('re'),
        object: 'refund',
        status: 'succeeded',
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        payment_intent: request.providerPaymentId,
        metadata: { paymentId: request.paymentId, refundId: request.refundId },
        failure_reason: null,
      };
      const now = new Date();
      try {
        await prisma.$transaction([
          prisma.sandboxRefund.create({
            data: {
              id: refund.id,
              idempotencyKey: request.idempotencyKey,
              paymentIntentId: request.providerPaymentId,
              paymentId: request.paymentId,
              refundId: request.refundId,
              status: refund.status,
              amount: refund.amount,
              currency: refund.currency,
            },
          }),
          prisma.sandboxWebhookDelivery.createMany({ data: [deliveryRow({ type: 'refund.updated', object: refund, dueAt: now })] }),
        ]);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        return { providerRefundId: (await prisma.sandboxRefund.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } })).id };
      }
      webhooks.wakeAt(now);
      return { providerRefundId: refund.id };
    },

    async retrievePayment({ paymentId, providerPaymentId }: RetrievePaymentRequest): Promise<ProviderPaymentStatus> {
      const found = providerPaymentId
        ? await prisma.sandboxPaymentIntent.findUnique({ where: { id: providerPaymentId } })
        : await prisma.sandboxPaymentIntent.findFirst({ where: { paymentId }, orderBy: { createdAt: 'desc' } });
      if (!found) return { status: 'unknown' };
      const row = await current(found);
      const base = {
        providerPaymentId: row.id,
        amount: row.amount,
        currency: row.currency,
        method: { brand: row.methodBrand, last4: row.methodLast4 },
      };
      if (row.status === 'succeeded') return { status: 'succeeded', ...base };
      if (row.status === 'processing') return { status: 'processing', ...base };
      return {
        status: 'failed',
        ...base,
        failure: { code: row.lastErrorDeclineCode ?? row.lastErrorCode ?? 'payment_failed', message: row.lastErrorMessage ?? 'The payment was not accepted.' },
      };
    },

    close: () => webhooks.close(),
  };
}
