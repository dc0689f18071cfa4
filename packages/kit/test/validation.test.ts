import { graphql, buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addressKey } from '../src/core/client-address.ts';
import { isMissingRecord } from '../src/core/errors.ts';
import { allow, applyShield } from '../src/subgraph/shield.ts';
import { displayText, escapeLike, isInvisibleOnly, lineText, longText, parseInput, textProblem } from '../src/core/validation.ts';

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions?: { code?: string; field?: string } }).extensions;
  }
  return undefined;
};

describe('text rules', () => {
  it.each([
    ['a NUL byte', 'Ada\u0000Lovelace', 'U+0000'],
    ['an escape', 'Ada\u001b[31m', 'U+001B'],
    ['DEL', 'Ada\u007f', 'U+007F'],
    ['a C1 control', 'Ada\u0085', 'U+0085'],
  ])('refuses %s in any text, naming the character', (_what, value, name) => {
    expect(textProblem(value, { multiline: true })).toContain(name);
    expect(textProblem(value, { multiline: false })).toContain(name);
  });

  it('refuses lone surrogates as text that is not Unicode', () => {
    expect(textProblem('a\ud800b', { multiline: true })).toMatch(/not valid Unicode/);
    expect(textProblem('emoji \u{1F600} is fine', { multiline: true })).toBeUndefined();
  });

  it('allows tabs and line breaks in multi-line text only', () => {
    expect(textProblem('line one\r\n\tline two', { multiline: true })).toBeUndefined();
    expect(textProblem('line one\nline two', { multiline: false })).toMatch(/single line/);
    expect(textProblem('one\u2028two', { multiline: false })).toMatch(/single line/);
  });

  it('tells invisible-only text from text with something to see', () => {
    for (const invisible of ['', '   ', '\u200b\u200b', '\u202e\u202d', '\u2066\u2069', '\u3164', '\u2800', '\ufeff\u00a0', '\u200e\u200f\u061c']) {
      expect(isInvisibleOnly(invisible), JSON.stringify(invisible)).toBe(true);
    }
    for (const visible of ['Ada', '\u202eAda', 'عائشة', '李', '.']) expect(isInvisibleOnly(visible), visible).toBe(false);
  });

  it('accepts a name, trimmed, and refuses invisible-only names and names across lines with the field', () => {
    const schema = z.object({ name: displayText(100) });
    expect(parseInput(schema, { name: '  Ada Lovelace ' })).toEqual({ name: 'Ada Lovelace' });
    expect(parseInput(schema, { name: 'محمد' })).toEqual({ name: 'محمد' });
    for (const name of ['\u200b\u200c\u200d', '\u202e', ' \u2800 ', 'Ada\nLovelace', 'Ada\u0000']) {
      expect(fieldOf(() => parseInput(schema, { name })), JSON.stringify(name)).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
    }
  });

  it('keeps opaque one-line tokens as sent when asked not to trim', () => {
    expect(lineText(10, { trim: false }).parse(' key ')).toBe(' key ');
    expect(lineText(10).parse(' key ')).toBe('key');
    expect(longText(100).parse('a\n\tb')).toBe('a\n\tb');
  });
});

describe('LIKE patterns', () => {
  it('escapes the wildcards and the escape character so they match themselves', () => {
    expect(escapeLike('100%')).toBe('100\\%');
    expect(escapeLike('first_last')).toBe('first\\_last');
    expect(escapeLike('back\\slash')).toBe('back\\\\slash');
    expect(escapeLike('plain')).toBe('plain');
  });
});

describe('the argument check every subgraph schema gets', () => {
  const schema = applyShield(
    buildSchema(`
      input NameInput { name: String!, tags: [String!] }
      type Query { echo(text: String, input: NameInput): String }
      type Mutation { rename(input: NameInput!): String }
    `),
    { Query: { echo: allow }, Mutation: { rename: allow } },
  );
  const rootValue = {
    echo: (args: { text?: string; input?: { name: string } }) => args.text ?? args.input?.name,
    rename: () => {
      throw Object.assign(new Error('No record was found for an update.'), { code: 'P2025', meta: { modelName: 'User' } });
    },
  };
  const run = (source: string, variableValues?: Record<string, unknown>) => graphql({ schema, source, rootValue, variableValues });

  it('refuses a control character in a top-level argument before the resolver runs, naming it', async () => {
    const r = await run('query($t: String) { echo(text: $t) }', { t: 'a\u0000b' });
    expect(r.data).toEqual({ echo: null });
    expect(r.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'text' });
  });

  it('finds it inside input objects and lists, with the path', async () => {
    const r = await run('query($i: NameInput) { echo(input: $i) }', { i: { name: 'ok', tags: ['fine', 'bad\u0007'] } });
    expect(r.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.tags.1' });
  });

  it('lets ordinary text, line breaks included, through unchanged', async () => {
    const r = await run('query($t: String) { echo(text: $t) }', { t: 'two\nlines' });
    expect(r).toEqual({ data: { echo: 'two\nlines' } });
  });

  it('answers a mutation that writes to a missing record with NOT_FOUND', async () => {
    const r = await run('mutation { rename(input: { name: "x" }) }');
    expect(r.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
    expect(r.errors?.[0]?.message).toBe('User was not found.');
    expect(isMissingRecord(new Error('other'))).toBe(false);
  });
});

describe('client address buckets', () => {
  it('groups IPv6 per /64 and unwraps IPv4-mapped addresses', () => {
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::2'));
  });
});
