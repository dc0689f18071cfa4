/**
 * List prices: an integer amount in the currency's minor unit plus an ISO-4217 code (docs/decisions.md
 * section 3). Never a float: 1999 USD is $19.99, 1500 JPY is ¥1,500 (yen have no minor unit).
 */
import { z } from 'zod';

/** Every ISO-4217 code the runtime knows (Node ships the full list with ICU). */
const ISO_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** A sanity ceiling: a course priced above ten million minor units is a typo, not a price. */
export const MAX_PRICE_AMOUNT = 10_000_000;

export const currencyCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => ISO_CURRENCIES.has(code), 'must be an ISO-4217 currency code such as USD, EUR or JPY');

export const moneyInput = z.object({
  amount: z
    .number()
    .int('must be a whole number of minor units (1999 for $19.99)')
    .min(1, 'must be greater than 0; send price: null for a free course')
    .max(MAX_PRICE_AMOUNT, `must be at most ${MAX_PRICE_AMOUNT}`),
  currency: currencyCode,
});

export interface Money {
  amount: number;
  currency: string;
}

/** The stored pair as Money, or null for a free course. */
export function priceOf(course: { priceAmount: number | null; priceCurrency: string | null }): Money | null {
  return course.priceAmount !== null && course.priceCurrency !== null
    ? { amount: course.priceAmount, currency: course.priceCurrency }
    : null;
}

/** True when a stored price is one we would accept from a client: free, or a positive amount in a known currency. */
export function isValidStoredPrice(course: { priceAmount: number | null; priceCurrency: string | null }): boolean {
  if (course.priceAmount === null && course.priceCurrency === null) return true;
  if (course.priceAmount === null || course.priceCurrency === null) return false;
  return moneyInput.safeParse({ amount: course.priceAmount, currency: course.priceCurrency }).success;
}
