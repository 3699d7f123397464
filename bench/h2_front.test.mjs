// Checks of the HTTP/2 front (bench/h2_front.mjs): header rewriting, and that many streams on
// one HTTP/2 connection reach the backend at once. Needs the system `openssl` for a certificate.
// Run with: node --test bench/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrontStats, downstreamHeaders, startFront, upstreamHeaders } from './h2_front.mjs';

test('pseudo-headers and connection-level headers are not forwarded', () => {
  assert.deepEqual(upstreamHeaders({
    ':method': 'POST', ':path': '/openai/v1/chat/completions', ':authority': '127.0.0.1:1', ':scheme': 'https',
    'Content-Type': 'application/json', authorization: 'Bearer k', connection: 'keep-alive', host: 'x', te: 'trailers',
  }), { 'content-type': 'application/json', authorization: 'Bearer k' });
  assert.deepEqual(downstreamHeaders({
    'content-type': 'application/json', 'content-length': '2', connection: 'close', 'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked', 'access-control-allow-origin': '*',
  }), { 'content-type': 'application/json', 'content-length': '2', 'access-control-allow-origin': '*' });
});

/** A backend that answers every request after `delayMs`, echoing what it got, and counts the most requests it held at once. */
async function slowBackend(delayMs) {
  const seen = { open: 0, most: 0 };
  const server = http.createServer((req, res) => {
    seen.open += 1;
    seen.most = Math.max(seen.most, seen.open);
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => setTimeout(() => {
      seen.open -= 1;
      res.writeHead(201, { 'content-type': 'application/json', connection: 'keep-alive', 'x-mock': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, headers: req.headers }));
    }, delayMs));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen };
}

/**
 * A front for `backend` (an http.Server) on a throwaway certificate, with an HTTP/2 session to
 * it; all three are closed, and the certificate removed, when test `t` ends.
 */
async function frontSession(t, backend, options = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'h2front-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const front = await startFront({
    port: 0, target: `http://127.0.0.1:${backend.address().port}`, ...options,
    cert: await readFile(join(dir, 'cert.pem')), key: await readFile(join(dir, 'key.pem')),
  });
  const session = http2.connect(`https://127.0.0.1:${front.address().port}`, { rejectUnauthorized: false });
  t.after(() => new Promise((resolve) => {
    session.close();
    front.close(() => backend.close(resolve));
  }));
  return { front, session };
}

test('20 streams on one HTTP/2 connection are in flight at the backend together', async (t) => {
  const backend = await slowBackend(200);
  const { front, session } = await frontSession(t, backend.server);

  const call = (i) => new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST', ':path': `/openai/v1/chat/completions?n=${i}`, 'content-type': 'application/json', authorization: 'Bearer k',
    });
    let headers;
    let data = '';
    stream.on('response', (h) => { headers = h; });
    stream.on('data', (c) => { data += c; });
    stream.on('end', () => resolve({ headers, body: JSON.parse(data) }));
    stream.on('error', reject);
    stream.end(JSON.stringify({ n: i }));
  });
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i)));

  // All 20 were held by the backend at one moment: nothing queued them behind a socket cap.
  assert.equal(backend.seen.most, 20);
  for (const [i, { headers, body }] of replies.entries()) {
    assert.equal(headers[':status'], 201);
    assert.equal(headers['x-mock'], 'yes');
    assert.equal(headers.connection, undefined);
    assert.equal(body.method, 'POST');
    assert.equal(body.url, `/openai/v1/chat/completions?n=${i}`);
    assert.equal(body.body, JSON.stringify({ n: i }));
    assert.equal(body.headers.authorization, 'Bearer k');
    assert.ok(!Object.keys(body.headers).some((h) => h.startsWith(':')), Object.keys(body.headers).join());
  }

  // The front's own counts: 20 POSTs on the one HTTP/2 connection. Then one over HTTP/1.1
  // (allowHTTP1), and a reset.
  const stats = (path, method = 'GET') => new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': `/__front/${path}` });
    let data = '';
    stream.on('data', (c) => { data += c; });
    stream.on('end', () => resolve(JSON.parse(data)));
    stream.on('error', reject);
    stream.end();
  });
  assert.deepEqual(await stats('stats'), { h2Posts: 20, h2Connections: 1, http1Posts: 0 });
  const viaHttp1 = await new Promise((resolve, reject) => {
    const req = https.request(`https://127.0.0.1:${front.address().port}/openai/v1/chat/completions`, {
      method: 'POST', rejectUnauthorized: false, agent: false,
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(viaHttp1, 201);
  assert.deepEqual(await stats('stats'), { h2Posts: 20, h2Connections: 1, http1Posts: 1 });
  assert.deepEqual(await stats('reset', 'POST'), { h2Posts: 0, h2Connections: 0, http1Posts: 0 });
});

test('only POSTs count, per HTTP/2 session', () => {
  const stats = new FrontStats();
  const [a, b] = [{}, {}];
  stats.note('OPTIONS', a);
  stats.note('POST', a);
  stats.note('POST', a);
  stats.note('POST', b);
  stats.note('GET', null);
  stats.note('POST', null);
  assert.deepEqual(stats.toJSON(), { h2Posts: 3, h2Connections: 2, http1Posts: 1 });
});

test('a backend that closes without answering becomes a reset stream', async (t) => {
  const dropper = http.createServer((req) => req.socket.destroy());
  await new Promise((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  const { session } = await frontSession(t, dropper);
  const outcome = await new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': '/x' });
    stream.on('response', (h) => resolve(`answered ${h[':status']}`));
    stream.on('close', () => resolve(`closed with code ${stream.rstCode}`));
    stream.on('error', () => {});
    stream.end('{}');
  });
  assert.equal(outcome, `closed with code ${http2.constants.NGHTTP2_INTERNAL_ERROR}`);
});

test('with latencyMs the reply leaves that long after the request came in, the backend\'s time included', async (t) => {
  // The backend takes 60 ms; a latency of 150 ms holds its reply 90 ms more, not 150.
  const backend = await slowBackend(60);
  const { session } = await frontSession(t, backend.server, { latencyMs: 150 });
  const call = () => new Promise((resolve, reject) => {
    const started = performance.now();
    const stream = session.request({ ':method': 'POST', ':path': '/openai/v1/chat/completions' });
    let status;
    let data = '';
    stream.on('response', (h) => { status = h[':status']; });
    stream.on('data', (c) => { data += c; });
    stream.on('end', () => resolve({ ms: performance.now() - started, status, body: JSON.parse(data) }));
    stream.on('error', reject);
    stream.end('{"n":1}');
  });
  await call(); // the connection's handshake is not part of what is measured
  const reply = await call();
  assert.equal(reply.status, 201);
  assert.equal(reply.body.body, '{"n":1}');
  assert.ok(reply.ms >= 149, `answered after ${reply.ms} ms`);
  assert.ok(reply.ms < 200, `answered after ${reply.ms} ms: the backend's 60 ms were added to the latency`);
});

test('with latencyMs a streamed reply starts after the latency, then flows as the backend sends it', async (t) => {
  // The backend sends its second event only when told to: a front that held the reply until
  // its end could not pass the first one on before that.
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      released.then(() => res.end('data: second\n\n'));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { session } = await frontSession(t, server, { latencyMs: 100 });
  const started = performance.now();
  const stream = session.request({ ':method': 'POST', ':path': '/openai/v1/chat/completions' });
  const chunks = [];
  const firstAfter = new Promise((resolve) => stream.once('data', () => resolve(performance.now() - started)));
  stream.on('data', (c) => chunks.push(String(c)));
  const ended = new Promise((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
  stream.end('{}');
  const giveUp = setTimeout(release, 5_000);
  const ms = await firstAfter;
  release();
  clearTimeout(giveUp);
  await ended;
  assert.ok(ms >= 99, `the first event came ${ms} ms after the request, before the latency`);
  assert.deepEqual(chunks, ['data: first\n\n', 'data: second\n\n']);
});
