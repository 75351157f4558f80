import { expect } from 'vitest';
import type { RunningApp } from './apps.js';
import { type CallOptions, type ContractResponse, call, PASSWORD } from './client.js';

/** The trusted origin of the cookie-mode contract apps. */
export const ORIGIN = 'https://app.example.com';

/** A minimal browser: a cookie jar honouring Path and Max-Age, and a page on ORIGIN. */
export class Browser {
  readonly jar = new Map<string, { value: string; path: string }>();
  csrfToken: string | undefined;
  /** The CSRF binding cookie's name (secure mode). */
  readonly bindingName = '__Host-gatehouse-csrf';
  constructor(readonly app: RunningApp) {}

  async send(
    path: string,
    options: CallOptions & { origin?: string | null; withToken?: boolean } = {},
  ): Promise<ContractResponse> {
    const cookies = [...this.jar]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`);
    const headers: Record<string, string> = { ...options.headers };
    if (cookies.length) headers['cookie'] = cookies.join('; ');
    if (options.origin !== null) headers['origin'] = options.origin ?? ORIGIN;
    if (options.withToken !== false && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    const response = await call(this.app, path, { ...options, headers });
    for (const line of response.cookies) {
      const [pair = '', ...attributes] = line.split('; ');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const pathAttr = attributes.find((a) => a.startsWith('Path='))?.slice(5) ?? '/';
      if (attributes.includes('Max-Age=0')) this.jar.delete(name);
      else this.jar.set(name, { value: pair.slice(eq + 1), path: pathAttr });
    }
    const body = response.body as { csrfToken?: string };
    if (typeof body?.csrfToken === 'string') this.csrfToken = body.csrfToken;
    return response;
  }

  /** Registers (201: verification not required) and logs in through the cookie-mode routes. */
  async signUp(email = 'ada@example.com') {
    if (!this.csrfToken) await this.send('/api/auth/csrf');
    const registered = await this.send('/api/auth/register', {
      json: { email, password: PASSWORD, name: 'Ada Lovelace' },
    });
    expect(registered.status).toBe(201);
    return this.logIn(email);
  }

  async logIn(email = 'ada@example.com') {
    if (!this.csrfToken) await this.send('/api/auth/csrf');
    const response = await this.send('/api/auth/login', { json: { email, password: PASSWORD } });
    expect(response.status).toBe(200);
    return response;
  }
}
