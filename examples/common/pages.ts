import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The browser pages of both examples (login, dashboard, sign-up, forgot / reset password,
 * verify email): plain files in examples/express-api/public, served with a strict CSP. They talk
 * to the cookie-mode auth routes under /app/api/auth.
 */
export const PUBLIC_DIR = fileURLToPath(new URL('../express-api/public/', import.meta.url));

/** Scripts and styles only from the app's own files: no inline code, nothing from elsewhere. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** The headers of every page file. Pages never send a Referer (links in mails carry tokens). */
export function pageHeaders(file: string): Record<string, string> {
  return {
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // The reset and verify pages are opened with a one-time token in their URL: keep no copy.
    ...(file.endsWith('.html') ? { 'cache-control': 'no-store' } : {}),
  };
}

/**
 * The headers of the dashboard's "Download my data" answer: a file to save, never cached (it
 * holds the user's personal data).
 */
export const EXPORT_DOWNLOAD_HEADERS: Readonly<Record<string, string>> = {
  'content-disposition': 'attachment; filename="my-data.json"',
  'cache-control': 'no-store',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface PageFile {
  /** The URL paths it answers: `/name.html` and `/name` (`/` for index.html). */
  paths: string[];
  contentType: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Every page file, read once (a few KiB), for a server without a static file middleware: the
 * paths are fixed at start, so no request path ever reaches the file system.
 */
export function loadPageFiles(dir = PUBLIC_DIR): PageFile[] {
  return readdirSync(dir)
    .filter((name) => CONTENT_TYPES[extname(name)] !== undefined)
    .sort()
    .map((name) => {
      const base = name.slice(0, -extname(name).length);
      const paths = [`/${name}`];
      if (name.endsWith('.html')) paths.push(base === 'index' ? '/' : `/${base}`);
      return {
        paths,
        contentType: CONTENT_TYPES[extname(name)]!,
        headers: pageHeaders(name),
        body: readFileSync(join(dir, name)),
      };
    });
}
