// A minimal HTTP/1.1 client over node:net for the fuzzer: it writes exactly the bytes it is given
// (malformed request lines, duplicated headers, NUL bytes, lying Content-Length), then reads and
// frames whatever the server answers, until the expected number of responses, the server's close,
// or a deadline.
import { connect } from 'node:net';

/** One response as read off the socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; a repeated header keeps every value. */
  headers: Record<string, string[]>;
  body: Buffer;
  /** The body ended before its Content-Length or last chunk (the connection closed). */
  truncated: boolean;
}

/** What happened on one connection. */
export interface RawExchange {
  responses: RawResponse[];
  /** How it ended: the expected responses came, the server closed, or the deadline passed. */
  end: 'answered' | 'closed' | 'deadline' | 'refused';
  /** Bytes after the last complete response (a head that never completed, say). */
  leftover: number;
  ms: number;
}

export interface RawRequest {
  host: string;
  port: number;
  /** Source address of the connection (a 127.x.y.z address), or undefined for the default. */
  localAddress?: string;
  /** Written in order; between two parts the client yields to the event loop once. */
  parts: Buffer[];
  /** The method of each request sent, in order: HEAD responses have no body. */
  methods: string[];
  /** Stop reading once this many final (non-1xx) responses came. */
  expect: number;
  deadlineMs: number;
  /** Half-close after the last part: a client that gives up in the middle of its request. */
  halfClose?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

function headerOf(res: { headers: Record<string, string[]> }, name: string): string | undefined {
  return res.headers[name]?.[0];
}

/** Parses chunked framing from `offset`; null while incomplete. */
function readChunked(buf: Buffer, offset: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let at = offset;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return { body: Buffer.concat(parts), end: -1 };
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, then an empty line.
      for (;;) {
        const trailerEnd = buf.indexOf('\r\n', at);
        if (trailerEnd < 0) return null;
        const empty = trailerEnd === at;
        at = trailerEnd + 2;
        if (empty) return { body: Buffer.concat(parts), end: at };
      }
    }
    if (buf.length < at + size + 2) return null;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * Frames the responses in `buf`. `closed` says the server closed the connection, so a body
 * without framing ends here and an incomplete one is truncated.
 */
export function parseResponses(
  buf: Buffer,
  methods: string[],
  closed: boolean,
): { responses: RawResponse[]; consumed: number } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < buf.length) {
    const headEnd = buf.indexOf(CRLFCRLF, at);
    if (headEnd < 0) break;
    const lines = buf.subarray(at, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    const status = match ? Number(match[1]) : 0;
    const headers: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const values = headers[name] ?? [];
      values.push(line.slice(colon + 1).trim());
      headers[name] = values;
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    const method = methods[responses.length] ?? 'GET';
    const response = { status, headers, body: Buffer.alloc(0), truncated: false };
    // A HEAD answer has no body, unless what follows is not a next response: a parse error of a
    // pipelined request is answered (with a body) in place of the HEAD's own answer.
    const next = buf.subarray(bodyStart, bodyStart + 5).toString('latin1');
    const headWithoutBody = method === 'HEAD' && (next === '' || 'HTTP/'.startsWith(next));
    if (headWithoutBody || status === 204 || status === 304) {
      responses.push(response);
      at = bodyStart;
      continue;
    }
    const te = headerOf(response, 'transfer-encoding');
    const cl = headerOf(response, 'content-length');
    if (te !== undefined && /chunked/i.test(te)) {
      const chunked = readChunked(buf, bodyStart);
      if (chunked === null || chunked.end < 0) {
        if (!closed) break;
        responses.push({ ...response, body: chunked?.body ?? Buffer.alloc(0), truncated: true });
        at = buf.length;
        break;
      }
      responses.push({ ...response, body: chunked.body });
      at = chunked.end;
    } else if (cl !== undefined) {
      const length = Number(cl);
      if (buf.length - bodyStart < length) {
        if (!closed) break;
        responses.push({ ...response, body: buf.subarray(bodyStart), truncated: true });
        at = buf.length;
        break;
      }
      responses.push({ ...response, body: buf.subarray(bodyStart, bodyStart + length) });
      at = bodyStart + length;
    } else {
      // Unframed: the body runs to the close.
      if (!closed) break;
      responses.push({ ...response, body: buf.subarray(bodyStart) });
      at = buf.length;
    }
  }
  return { responses, consumed: at };
}

/** Sends `req.parts` on a new connection and collects the answers. Never rejects. */
export function exchange(req: RawRequest): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let finished = false;
    let connected = false;
    const socket = connect({
      host: req.host,
      port: req.port,
      ...(req.localAddress ? { localAddress: req.localAddress } : {}),
    });
    const finish = (end: RawExchange['end']) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const buf = Buffer.concat(chunks);
      const closed = end !== 'answered';
      const { responses, consumed } = parseResponses(buf, req.methods, closed);
      resolve({ responses, end, leftover: buf.length - consumed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('deadline'), req.deadlineMs);
    socket.on('connect', async () => {
      connected = true;
      for (const [i, part] of req.parts.entries()) {
        if (finished || socket.destroyed) return;
        if (i > 0) await new Promise((r) => setImmediate(r));
        // Writes to a server that already answered and closed fail with EPIPE: that is fine.
        socket.write(part, () => {});
      }
      if (req.halfClose && !finished) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const { responses } = parseResponses(Buffer.concat(chunks), req.methods, false);
      if (responses.length >= req.expect) finish('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && err.code === 'ECONNREFUSED') finish('refused');
      // ECONNRESET, EPIPE: the server closed while we wrote. What came so far stands.
      else finish('closed');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
  });
}

/** Serialises a request: method, target, version, header lines and body, bytes as given. */
export function requestBytes(
  method: string,
  target: string,
  version: string,
  headers: [string, string][],
  body: Buffer,
): Buffer {
  const head = [`${method} ${target} ${version}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}
