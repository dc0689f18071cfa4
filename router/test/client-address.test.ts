import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../src/subscriptions/client-address.ts';

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;
const loopback = (address: string) => address === '127.0.0.1' || address === '::1';

describe('client address of a WebSocket upgrade', () => {
  it('is the peer when nothing is forwarded', () => {
    expect(clientAddress(request('203.0.113.9'), loopback)).toBe('203.0.113.9');
  });

  it('honours X-Forwarded-For from a trusted local proxy, taking the nearest untrusted hop', () => {
    expect(clientAddress(request('127.0.0.1', '198.51.100.1, 203.0.113.7'), loopback)).toBe('203.0.113.7');
  });

  it('ignores X-Forwarded-For sent by a remote client, who could write anything there', () => {
    expect(clientAddress(request('203.0.113.9', '10.0.0.1'), loopback)).toBe('203.0.113.9');
  });
});
