// An HTTP/2 + TLS front for the mock provider, for the batch benchmark only.
//
// Real providers (api.openai.com, Anthropic, Gemini, Cohere) answer over HTTP/2 on TLS, where
// the browser multiplexes every call to one host on one connection. The mock is a Python
// HTTP/1.1 server, and over HTTP/1.1 Chromium opens at most 6 connections per host, so 16
// "concurrent" calls would wait in the browser's own queue for one of 6 sockets. This front
// speaks HTTP/2 to the browser and forwards each stream to the mock over a keep-alive agent
// with no socket cap (the mock is threaded: one connection per call in flight).
//
// Usage: node bench/h2_front.mjs --port 8496 --target http://127.0.0.1:8498 --cert C --key K
// (scripts/bench makes a throwaway self-signed certificate for 127.0.0.1 into .bench/tls).
import http from 'node:http';
import http2 from 'node:http2';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

// Connection-level headers: each hop has its own connection, and HTTP/2 forbids them outright
// (RFC 9113 §8.2.2), so node refuses to send a response that carries one.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te',
  'http2-settings', 'host',
]);

/**
 * The headers of a browser request as the mock should get them: no HTTP/2 pseudo-headers
 * (`:method`, `:path`...), no connection-level headers; `host` is set by the agent.
 */
export function upstreamHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || HOP_BY_HOP.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

/** The headers of a mock reply as the browser should get them: no connection-level headers. */
export function downstreamHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

/**
 * What the front carried since its last reset: POSTs (the calls) per HTTP/2 connection, and
 * POSTs that came over HTTP/1.1. Counted here rather than read from the browser's DevTools
 * protocol, which would add its own work to every call of the page being measured.
 */
export class FrontStats {
  constructor() { this.reset(); }

  reset() {
    this.postsBySession = new Map();
    this.http1Posts = 0;
  }

  /** Notes one request: `session` is its HTTP/2 session, or null over HTTP/1.1. */
  note(method, session) {
    if (method !== 'POST') return;
    if (session) this.postsBySession.set(session, (this.postsBySession.get(session) ?? 0) + 1);
    else this.http1Posts += 1;
  }

  /** `{ h2Posts, h2Connections, http1Posts }`. */
  toJSON() {
    let h2Posts = 0;
    for (const n of this.postsBySession.values()) h2Posts += n;
    return { h2Posts, h2Connections: this.postsBySession.size, http1Posts: this.http1Posts };
  }
}

/**
 * Starts the front on 127.0.0.1:`port` (0 picks one) for the mock at `target`
 * (`http://127.0.0.1:N`). Resolves to the listening server; `server.close()` also drops the
 * agent's idle connections to the mock. `GET /__front/stats` answers the front's own
 * FrontStats and `POST /__front/reset` clears them; every other request goes to the mock.
 */
export async function startFront({ port, target, cert, key, latencyMs = 0 }) {
  const upstream = new URL(target);
  const stats = new FrontStats();
  // keepAlive so a call does not pay a TCP handshake to the mock; no maxSockets cap, so calls
  // in flight are never queued here (the point of the front).
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const server = http2.createSecureServer({ cert, key, allowHTTP1: true }, (req, res) => {
    if (req.url === '/__front/stats' || req.url === '/__front/reset') {
      if (req.url === '/__front/reset' && req.method === 'POST') stats.reset();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    stats.note(req.method, req.stream?.session ?? null);
    const arrived = performance.now();
    const forward = http.request({
      agent,
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: upstreamHeaders(req.headers),
    }, (reply) => {
      // The reply starts `latencyMs` after the request came in, the mock's own work and the hop
      // to it included (as a provider's latency includes its own work); then it flows as the
      // mock sends it, so a streamed reply's first token comes after the latency and the rest
      // stream on.
      reply.pause();
      const send = () => {
        res.writeHead(reply.statusCode ?? 502, downstreamHeaders(reply.headers));
        reply.pipe(res);
      };
      const wait = arrived + latencyMs - performance.now();
      if (wait > 0) setTimeout(send, wait);
      else send();
    });
    forward.on('error', () => {
      // The mock closed without answering (its `drop` fault, or it stopped): the browser sees
      // a reset stream (HTTP/2) or a closed connection (HTTP/1.1), as it would from the mock.
      if (req.stream) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else res.socket?.destroy();
    });
    req.pipe(forward);
  });
  server.on('close', () => agent.destroy());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--port', '--target', '--cert', '--key', '--latency-ms'].includes(flag) || value === undefined) {
      throw new Error(`usage: node bench/h2_front.mjs --port N --target http://127.0.0.1:M --cert FILE --key FILE [--latency-ms N] (got ${flag})`);
    }
    args[flag.slice(2)] = value;
  }
  for (const need of ['port', 'target', 'cert', 'key']) {
    if (args[need] === undefined) throw new Error(`h2 front: --${need} is required`);
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const server = await startFront({
      port: Number(args.port), target: args.target, cert: await readFile(args.cert), key: await readFile(args.key),
      latencyMs: Number(args['latency-ms'] ?? 0),
    });
    process.stdout.write(`h2 front listening on https://127.0.0.1:${server.address().port} → ${args.target}\n`);
    for (const signal of ['SIGINT', 'SIGTERM']) {
      process.on(signal, () => {
        server.close(() => process.exit(0));
        // A browser may still hold its session open; do not wait for it.
        setTimeout(() => process.exit(0), 1000).unref();
      });
    }
  } catch (e) {
    process.stderr.write(`h2 front: ${e?.message ?? e}\n`);
    process.exit(1);
  }
}
