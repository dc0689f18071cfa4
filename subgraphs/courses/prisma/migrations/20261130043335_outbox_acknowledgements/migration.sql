-- AlterTable
ALTER TABLE "OutboxEvent" ADD COLUMN     "acknowledgedAt" TIMESTAMPTZ(3),
ADD COLUMN     "publishCount" INTEGER NOT NULL DEFAULT 0;
