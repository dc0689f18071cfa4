-- CreateEnum
CREATE TYPE "DataExportStatus" AS ENUM ('PENDING', 'READY', 'EXPIRED');

-- CreateEnum
CREATE TYPE "AccountDeletionStatus" AS ENUM ('SCHEDULED', 'CANCELLED', 'RUNNING', 'COMPLETED');

-- AlterEnum
ALTER TYPE "UserStatus" ADD VALUE 'ERASED';

-- CreateTable
CREATE TABLE "DataExport" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "requestedById" UUID NOT NULL,
    "status" "DataExportStatus" NOT NULL DEFAULT 'PENDING',
    "requestedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readyAt" TIMESTAMPTZ(3),
    "expiresAt" TIMESTAMPTZ(3),
    "document" TEXT,
    "requestEventId" UUID NOT NULL,

    CONSTRAINT "DataExport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DataExportPart" (
    "exportId" UUID NOT NULL,
    "service" TEXT NOT NULL,
    "part" JSONB NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DataExportPart_pkey" PRIMARY KEY ("exportId","service")
);

-- CreateTable
CREATE TABLE "AccountDeletion" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "status" "AccountDeletionStatus" NOT NULL DEFAULT 'SCHEDULED',
    "requestedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "scheduledFor" TIMESTAMPTZ(3) NOT NULL,
    "cancelledAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "openLock" UUID,
    "requestEventId" UUID,

    CONSTRAINT "AccountDeletion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccountDeletionStep" (
    "deletionId" UUID NOT NULL,
    "service" TEXT NOT NULL,
    "summary" JSONB NOT NULL,
    "completedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AccountDeletionStep_pkey" PRIMARY KEY ("deletionId","service")
);

-- CreateTable
CREATE TABLE "PaymentProjection" (
    "paymentId" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "openedAt" TIMESTAMPTZ(3),
    "closedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PaymentProjection_pkey" PRIMARY KEY ("paymentId")
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "service" TEXT NOT NULL,
    "actorId" UUID,
    "action" TEXT NOT NULL,
    "targetId" TEXT,
    "requestId" TEXT,
    "details" JSONB NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxEvent" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" TIMESTAMPTZ(3),
    "publishCount" INTEGER NOT NULL DEFAULT 0,
    "acknowledgedAt" TIMESTAMPTZ(3),
    "traceContext" JSONB,

    CONSTRAINT "OutboxEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProcessedEvent" (
    "consumer" TEXT NOT NULL,
    "eventId" UUID NOT NULL,
    "processedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProcessedEvent_pkey" PRIMARY KEY ("consumer","eventId")
);

-- CreateIndex
CREATE INDEX "DataExport_userId_requestedAt_idx" ON "DataExport"("userId", "requestedAt");

-- CreateIndex
CREATE INDEX "DataExport_status_expiresAt_idx" ON "DataExport"("status", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "AccountDeletion_openLock_key" ON "AccountDeletion"("openLock");

-- CreateIndex
CREATE INDEX "AccountDeletion_status_scheduledFor_idx" ON "AccountDeletion"("status", "scheduledFor");

-- CreateIndex
CREATE INDEX "AccountDeletion_userId_requestedAt_idx" ON "AccountDeletion"("userId", "requestedAt");

-- CreateIndex
CREATE INDEX "PaymentProjection_userId_closedAt_idx" ON "PaymentProjection"("userId", "closedAt");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_seq_key" ON "AuditEntry"("seq");

-- CreateIndex
CREATE INDEX "AuditEntry_actorId_seq_idx" ON "AuditEntry"("actorId", "seq");

-- CreateIndex
CREATE INDEX "AuditEntry_targetId_seq_idx" ON "AuditEntry"("targetId", "seq");

-- CreateIndex
CREATE INDEX "AuditEntry_action_seq_idx" ON "AuditEntry"("action", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "OutboxEvent_seq_key" ON "OutboxEvent"("seq");

-- CreateIndex
CREATE INDEX "OutboxEvent_publishedAt_seq_idx" ON "OutboxEvent"("publishedAt", "seq");

-- AddForeignKey
ALTER TABLE "DataExportPart" ADD CONSTRAINT "DataExportPart_exportId_fkey" FOREIGN KEY ("exportId") REFERENCES "DataExport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccountDeletionStep" ADD CONSTRAINT "AccountDeletionStep_deletionId_fkey" FOREIGN KEY ("deletionId") REFERENCES "AccountDeletion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The audit log is append-only (docs/privacy.md). No API edits it; this refuses it to any SQL too,
-- short of a superuser disabling the trigger. The hash chain is the proof: `npm run audit:verify`
-- finds an edit made that way.
CREATE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on "AuditEntry" refused', TG_OP;
END;
$$;

CREATE TRIGGER "AuditEntry_append_only" BEFORE UPDATE OR DELETE ON "AuditEntry"
  FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"();

CREATE TRIGGER "AuditEntry_no_truncate" BEFORE TRUNCATE ON "AuditEntry"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_entry_append_only"();
