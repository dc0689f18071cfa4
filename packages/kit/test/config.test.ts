import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../src/core/config.ts';

describe('parseEnv', () => {
  it('reports every bad variable at once', () => {
    const schema = z.object({ A_PORT: z.coerce.number().int(), B_URL: z.url(), C: z.string() });
    try {
      parseEnv(schema, { A_PORT: 'x', B_URL: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const names = (e as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(names.sort()).toEqual(['A_PORT', 'B_URL', 'C']);
    }
  });

  it('treats empty strings as unset so defaults apply', () => {
    expect(parseEnv(z.object({ P: z.string().default('d') }), { P: '' })).toEqual({ P: 'd' });
  });
});
