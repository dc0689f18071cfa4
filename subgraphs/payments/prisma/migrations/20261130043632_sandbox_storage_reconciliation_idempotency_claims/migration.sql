-- AlterTable
ALTER TABLE "IdempotencyRecord" ALTER COLUMN "paymentId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "enrollmentId" UUID,
ADD COLUMN     "fulfilledAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Refund" ALTER COLUMN "requestedBy" DROP NOT NULL;

-- CreateTable
CREATE TABLE "SandboxPaymentIntent" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "paymentId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "description" TEXT,
    "methodBrand" TEXT NOT NULL,
    "methodLast4" VARCHAR(4),
    "lastErrorCode" TEXT,
    "lastErrorDeclineCode" TEXT,
    "lastErrorMessage" TEXT,
    "succeedsAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SandboxPaymentIntent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SandboxRefund" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "paymentIntentId" TEXT NOT NULL,
    "paymentId" TEXT NOT NULL,
    "refundId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SandboxRefund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SandboxWebhookDelivery" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "event" JSONB NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "claimedUntil" TIMESTAMPTZ(3),
    "deliveredAt" TIMESTAMPTZ(3),
    "givenUpAt" TIMESTAMPTZ(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SandboxWebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "SandboxPaymentIntent_idempotencyKey_key" ON "SandboxPaymentIntent"("idempotencyKey");

-- CreateIndex
CREATE INDEX "SandboxPaymentIntent_paymentId_idx" ON "SandboxPaymentIntent"("paymentId");

-- CreateIndex
CREATE INDEX "SandboxPaymentIntent_status_succeedsAt_idx" ON "SandboxPaymentIntent"("status", "succeedsAt");

-- CreateIndex
CREATE UNIQUE INDEX "SandboxRefund_idempotencyKey_key" ON "SandboxRefund"("idempotencyKey");

-- CreateIndex
CREATE INDEX "SandboxWebhookDelivery_deliveredAt_givenUpAt_dueAt_idx" ON "SandboxWebhookDelivery"("deliveredAt", "givenUpAt", "dueAt");

-- CreateIndex
CREATE INDEX "Payment_status_createdAt_idx" ON "Payment"("status", "createdAt");
