import type { AccountDeletionResolvers, AccountDeletionStepResolvers } from '../generated/graphql.ts';

export const AccountDeletion: AccountDeletionResolvers = {
  // Batched: a page of deletions is one query for all their steps (loaders.ts).
  steps: (deletion, _args, ctx) => ctx.loaders.stepsByDeletion.load(deletion.id),
};

export const AccountDeletionStep: AccountDeletionStepResolvers = {
  summary: (step) => JSON.stringify(step.summary),
};
