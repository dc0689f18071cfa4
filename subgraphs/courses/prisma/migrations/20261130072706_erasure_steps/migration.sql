-- CreateTable
CREATE TABLE "ErasureStep" (
    "deletionId" UUID NOT NULL,
    "summary" JSONB NOT NULL,
    "completedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ErasureStep_pkey" PRIMARY KEY ("deletionId")
);
