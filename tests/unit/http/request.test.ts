import { describe, expect, it } from 'vitest';
import { clientIp, countRawHeader, headerValue } from '../../../src/http/index.js';
import { rateLimitKeyOfIp } from '../../../src/index.js';

describe('clientIp', () => {
  it('keeps an IPv4 address', () => {
    expect(clientIp('203.0.113.7')).toBe('203.0.113.7');
  });

  it('unwraps an IPv4-mapped IPv6 address, so one client has one key', () => {
    expect(clientIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('lower-cases an IPv6 address', () => {
    expect(clientIp('2001:DB8::1')).toBe('2001:db8::1');
  });

  it.each([undefined, '', 'not an ip', '203.0.113.7, 10.0.0.1'])('answers %j as unknown', (ip) => {
    expect(clientIp(ip)).toBe('unknown');
  });
});

describe('rateLimitKeyOfIp', () => {
  it('keys IPv4 by the address', () => {
    expect(rateLimitKeyOfIp('203.0.113.7')).toBe('203.0.113.7');
  });

  it('attack: keys IPv6 by its /64, so rotating addresses inside one network does not escape', () => {
    expect(rateLimitKeyOfIp('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKeyOfIp('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
  });

  it('expands a compressed IPv6 address before taking the /64', () => {
    expect(rateLimitKeyOfIp('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKeyOfIp('::1')).toBe('0:0:0:0::/64');
  });

  it('gives different /64 networks different keys', () => {
    expect(rateLimitKeyOfIp('2001:db8:1:2::1')).not.toBe(rateLimitKeyOfIp('2001:db8:1:3::1'));
  });
});

describe('headers', () => {
  it('headerValue takes the first of repeated values', () => {
    expect(headerValue({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1');
  });

  it('countRawHeader counts a header in any case', () => {
    expect(countRawHeader(['Cookie', 'a', 'COOKIE', 'b', 'Host', 'h'], 'cookie')).toBe(2);
  });
});
