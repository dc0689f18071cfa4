/**
 * Who may read and do what in the payments subgraph. Fail closed: a field without a rule is denied.
 * A payment is its buyer's and admins' business; a course's sales its instructor's and admins'.
 * The rules hold for every path that reaches a type, `_entities` included.
 */
import { forbidden, unauthenticated } from '@campus/kit/core';
import { allow, applyShield, federationRules, isAdmin, isAuthenticated, rule } from '@campus/kit/subgraph';
import type { GraphQLSchema } from 'graphql';
import type { Context } from './context.ts';
import type { Payment } from './generated/prisma/client.ts';
import type { CourseRef, UserRef } from './models.ts';

const isPayerOrAdmin = rule({ cache: 'strict' })((payment: Payment, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  if (ctx.viewer.role === 'ADMIN' || ctx.viewer.id === payment.userId) return true;
  return forbidden('Only the buyer and admins can see a payment.');
});

/** For root fields that take a payment id: the check runs before the resolver, on the stored payment. */
const canSeePaymentArg = rule({ cache: 'strict' })(async (_parent, args: { id: string }, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  if (ctx.viewer.role === 'ADMIN') return true;
  const payment = await ctx.loaders.paymentById.load(args.id);
  // No such payment: the resolver answers null (or NOT_FOUND), revealing nothing.
  if (!payment || payment.userId === ctx.viewer.id) return true;
  return forbidden('Only the buyer and admins can see a payment.');
});

const isSelfOrAdmin = rule({ cache: 'strict' })((user: UserRef, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  if (ctx.viewer.role === 'ADMIN' || ctx.viewer.id === user.id) return true;
  return forbidden("Only the user and admins can see a user's payments.");
});

/** `instructor { id }` is in the representation thanks to @requires; without it, nobody passes. */
const isCourseInstructorOrAdmin = rule({ cache: 'strict' })((course: CourseRef, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  if (ctx.viewer.role === 'ADMIN') return true;
  if (course.instructor?.id && course.instructor.id === ctx.viewer.id) return true;
  return forbidden("Only the course's instructor and admins can see its sales.");
});

export function withPermissions(schema: GraphQLSchema): GraphQLSchema {
  return applyShield(schema, {
    Query: { ...federationRules.Query, payment: canSeePaymentArg },
    Mutation: { checkout: isAuthenticated, requestRefund: isAuthenticated, refundPayment: isAdmin },
    Subscription: { paymentUpdated: canSeePaymentArg, myPaymentUpdates: isAuthenticated },
    _Service: federationRules._Service,
    Payment: isPayerOrAdmin,
    // Reached only through a Payment the viewer may see.
    PaymentMethodSummary: allow,
    Refund: allow,
    Receipt: allow,
    Money: allow,
    User: { id: allow, payments: isSelfOrAdmin },
    Course: { id: allow, sales: isCourseInstructorOrAdmin },
    CourseSales: allow,
    PaymentConnection: allow,
    PaymentEdge: allow,
    PageInfo: allow,
    CheckoutPayload: allow,
    RequestRefundPayload: allow,
    RefundPaymentPayload: allow,
  });
}
