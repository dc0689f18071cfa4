/** Course slugs: the URL-friendly unique names course pages live at. */
import { z } from 'zod';

export const MAX_SLUG_LENGTH = 80;

export const slugInput = z
  .string()
  .trim()
  .max(MAX_SLUG_LENGTH, `must be at most ${MAX_SLUG_LENGTH} characters`)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single dashes');

/**
 * A slug from a title: accents dropped, anything else that is not a letter or digit becomes a dash.
 * Titles with no Latin letters or digits at all (e.g. Japanese) fall back to "course"; the caller
 * makes it unique.
 */
export function slugify(title: string): string {
  const base = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH - 8)
    .replace(/-+$/, '');
  return base || 'course';
}

/** The first of `base`, `base-2`, `base-3` ... not in `taken`. */
export function firstFreeSlug(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!used.has(candidate)) return candidate;
  }
}
