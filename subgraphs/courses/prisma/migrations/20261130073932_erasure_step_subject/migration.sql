-- AlterTable
ALTER TABLE "ErasureStep" ADD COLUMN     "pseudonymousId" UUID,
ADD COLUMN     "userIdHash" TEXT;

-- CreateIndex
CREATE INDEX "ErasureStep_userIdHash_idx" ON "ErasureStep"("userIdHash");
