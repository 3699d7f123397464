// 3. Batch saturation: 200 problems on the Batch page at concurrency 16, every reply 100 ms late.
//
// ideal = ceil(problems / concurrency) × steps per problem × latency: each wave of 16 problems
// takes 3 sequential calls (solver, verifier that passes, judge) of 100 ms each, and no time at
// all is spent outside the mock. Wall = batch-start click → batch-status shows the end.
//
// It runs twice on the same mock: over HTTP/2 + TLS (the front in h2_front.mjs), as the hosted
// providers are reached, and over plain HTTP/1.1, as local servers (llama.cpp, vLLM) are, where
// Chromium opens at most 6 connections per host and the other calls wait for one.
import https from 'node:https';
import {
  APP, MOCK_FAST, MOCK_SLOW, MOCK_SLOW_H2, checkTestId, clickTestId, cpuUsed, fillTestId, longTaskMs, machineCpu, mainThread,
  maxOverlap, median, minus, mockConfig, mockControl, mockProviders, quantile, quietFreshBrowser, seedStorage,
  setFileTestId, waitInPage, waitMark, watch,
} from './lib.mjs';
import { PROFILING, startCpuProfile } from './cpu_profile.mjs';

export const BATCH = { problems: 200, concurrency: 16, stepsPerProblem: 3, latencyMs: 100 };

/** The ideal wall time of BATCH in ms (see the file comment). */
export function idealMs({ problems, concurrency, stepsPerProblem, latencyMs }) {
  return Math.ceil(problems / concurrency) * stepsPerProblem * latencyMs;
}

/**
 * Chromium's limit of HTTP/1.1 connections per host: `g_max_sockets_per_group` (6 for normal
 * sockets) in net/socket/client_socket_pool_manager.cc.
 */
export const HTTP1_CONNECTIONS_PER_HOST = 6;

/**
 * The least wall time of BATCH when at most `connections` calls can be on the wire at once
 * (HTTP/1.1: one call per connection): every call once, `connections` at a time.
 */
export function connectionFloorMs({ problems, stepsPerProblem, latencyMs }, connections) {
  return Math.ceil((problems * stepsPerProblem) / connections) * latencyMs;
}

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `b${String(i).padStart(3, '0')}`, problem: `[B${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/** Time-weighted calls in flight in each whole second of [0, wall), to one decimal. */
export function inFlightBySecond(intervals, wall) {
  const seconds = Math.ceil(wall / 1000);
  const out = new Array(seconds).fill(0);
  for (const [start, end] of intervals) {
    for (let k = Math.max(0, Math.floor(start / 1000)); k < seconds && k * 1000 < end; k += 1) {
      out[k] += Math.max(0, Math.min(end, (k + 1) * 1000) - Math.max(start, k * 1000)) / 1000;
    }
  }
  return out.map((v) => Math.round(v * 10) / 10);
}

/**
 * How the browser sent the calls, from CDP Network events: one `{ sentAt, protocol,
 * connectionId, timing }` per call (`sentAt` = `requestWillBeSent.timestamp`, `timing` =
 * `responseReceived.response.timing`, both in the same monotonic seconds). Gives the protocols
 * used, the distinct connections, and the wait before each request went out, in ms: the time
 * queued in the renderer and the network service (`requestTime − sentAt`) plus the wait for a
 * connection (`sendStart`, which includes the socket pool's queue).
 */
export function connectionStats(calls) {
  const protocols = {};
  const connections = new Set();
  const waits = [];
  for (const { sentAt, protocol, connectionId, timing } of calls) {
    protocols[protocol] = (protocols[protocol] ?? 0) + 1;
    connections.add(connectionId);
    if (timing && Number.isFinite(sentAt)) {
      waits.push(Math.max(0, (timing.requestTime - sentAt) * 1000 + Math.max(0, timing.sendStart)));
    }
  }
  return {
    protocols,
    connections: connections.size,
    waitMedianMs: median(waits),
    waitP95Ms: quantile(waits, 0.95),
  };
}

/** Listens to the page's CDP Network events; `calls()` gives the POSTs to `origin` so far. */
async function networkLog(context, page, origin) {
  const cdp = await context.newCDPSession(page);
  const sent = new Map();
  const calls = [];
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.request.method === 'POST' && e.request.url.startsWith(origin)) sent.set(e.requestId, e.timestamp);
  });
  cdp.on('Network.responseReceived', (e) => {
    if (!sent.has(e.requestId)) return;
    calls.push({
      sentAt: sent.get(e.requestId), protocol: e.response.protocol, connectionId: e.response.connectionId,
      timing: e.response.timing,
    });
  });
  await cdp.send('Network.enable');
  return { calls: () => calls };
}

/** Asks the HTTP/2 front (h2_front.mjs) for its counts, or resets them (`reset`). */
function frontStats(path) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${MOCK_SLOW_H2}/__front/${path}`, {
      method: path === 'reset' ? 'POST' : 'GET', rejectUnauthorized: false,
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error(`h2 front answered ${res.statusCode}: ${body}`)); }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The front's counts as connectionStats gives them (no wait figures: see TRANSPORTS). */
export function frontWire({ h2Posts, h2Connections, http1Posts }) {
  const protocols = {};
  if (h2Posts) protocols.h2 = h2Posts;
  if (http1Posts) protocols['http/1.1'] = http1Posts;
  return { protocols, connections: h2Connections + (http1Posts ? 1 : 0), waitMedianMs: undefined, waitP95Ms: undefined };
}

const BATCH_ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'paused'];

/**
 * The two ways the batch reaches the mock. How the calls went out is read from the HTTP/2
 * front's own counts over HTTP/2, and from CDP Network events over HTTP/1.1, where the wait
 * for one of the 6 connections is the point of the row. Listening to CDP Network events costs
 * the page 5–10 % more main-thread time (measured), so the row with the target does without.
 */
export const TRANSPORTS = {
  h2: { name: 'batch-h2', mock: MOCK_SLOW_H2, control: MOCK_FAST, ignoreCertificateErrors: true, wire: 'front' },
  http1: { name: 'batch-http1', mock: MOCK_SLOW, control: MOCK_SLOW, ignoreCertificateErrors: false, wire: 'cdp' },
};

/** The batch benchmark with the app's provider pointed at `transport.mock`. */
export async function batchSaturation(transport) {
  const { mock } = transport;
  // Driven over a bare CDP pipe: see quietFreshBrowser.
  const { context, page, readProblems } = await quietFreshBrowser(transport.name, {
    ignoreCertificateErrors: transport.ignoreCertificateErrors,
  });
  try {
    // The mock behind the transport (the front forwards to MOCK_FAST and holds its replies).
    await mockControl(transport.control, 'reset');
    await seedStorage(context, {
      providers: mockProviders(mock), keys: { openai: 'bench-key' }, config: mockConfig('bench-batch', 3),
    });
    await page.goto(`${APP}/batch`);
    await setFileTestId(page, 'dataset-import', {
      name: 'bench-200.jsonl', mimeType: 'application/x-ndjson', text: dataset(BATCH.problems),
    });
    await clickTestId(page, 'dataset-save');
    await waitInPage(page, `${BATCH.problems} problems selected`, (n) => document.querySelector(
      `[data-testid="batch-selected"][data-count="${n}"]`) !== null, BATCH.problems);
    await checkTestId(page, 'batch-mode-debate');
    await fillTestId(page, 'batch-concurrency', String(BATCH.concurrency));
    await watch(page, { name: 'ended', selector: '[data-testid="batch-status"]', textIn: BATCH_ENDED });
    await page.evaluate(() => {
      performance.setResourceTimingBufferSize(10_000);
      performance.clearResourceTimings();
    });
    const network = transport.wire === 'cdp' ? await networkLog(context, page, mock) : null;
    if (transport.wire === 'front') await frontStats('reset');
    const busy = await mainThread(context, page);
    const before = await busy();
    const stopProfile = PROFILING ? await startCpuProfile(context, page, transport.name) : null;
    const cpuBefore = machineCpu();
    await clickTestId(page, 'batch-start');
    const marks = await waitMark(page, 'ended', 300_000);
    if (stopProfile) process.stderr.write(await stopProfile());
    const cpu = cpuUsed(cpuBefore, machineCpu());
    const mainThreadMs = minus(await busy(), before);
    const r = await page.evaluate(({ mock, start, end }) => {
      const progress = document.querySelector('[data-testid="batch-progress"]');
      const requests = performance.getEntriesByType('resource')
        .filter((e) => e.name.startsWith(mock) && e.startTime >= start && e.startTime <= end)
        .map((e) => [e.startTime, e.responseEnd]);
      return {
        status: document.querySelector('[data-testid="batch-status"]').textContent.trim(),
        done: Number(progress?.dataset.done),
        failed: Number(progress?.dataset.failed),
        wall: end - start,
        requests,
      };
    }, { mock, start: marks['click:batch-start'], end: marks.ended });
    if (r.status !== 'completed' || r.done !== BATCH.problems || r.failed !== 0) {
      throw new Error(`batch ended ${r.status} with ${r.done} done, ${r.failed} failed`);
    }
    const calls = BATCH.problems * BATCH.stepsPerProblem;
    if (r.requests.length !== calls) throw new Error(`${r.requests.length} requests, expected ${calls}`);
    const problems = await readProblems();
    if (problems.length) throw new Error(problems.join('; '));
    const inFlight = maxOverlap(r.requests);
    const long = await longTaskMs(page, marks['click:batch-start'], marks.ended);
    const ideal = idealMs(BATCH);
    return {
      ...BATCH,
      mock,
      ...(network ? connectionStats(network.calls()) : frontWire(await frontStats('stats'))),
      wall: r.wall,
      ideal,
      ratio: r.wall / ideal,
      http1FloorMs: connectionFloorMs(BATCH, HTTP1_CONNECTIONS_PER_HOST),
      requests: r.requests.length,
      maxInFlight: inFlight,
      // Time-weighted mean of calls in flight: summed call time / wall.
      meanInFlight: r.requests.reduce((sum, [s, e]) => sum + (e - s), 0) / r.wall,
      longTaskMs: long,
      mainThreadMs,
      // The machine's CPU over the batch (browser, mock, HTTP/2 front and anything else):
      // with few cores, the batch is bound by it rather than by the calls' latency.
      cpu,
      // Calls in flight per second of the batch (time-weighted), for results.json readers.
      inFlightBySecond: inFlightBySecond(r.requests.map(([s, e]) => [s - marks['click:batch-start'], e - marks['click:batch-start']]), r.wall),
      medianRequestMs: median(r.requests.map(([s, e]) => e - s)),
      // The ideal with the mock's measured median call in place of its nominal latency.
      idealAtMedianCall: idealMs({ ...BATCH, latencyMs: median(r.requests.map(([s, e]) => e - s)) }),
    };
  } finally {
    await context.close();
  }
}

/**
 * `batchSaturation(transport)` `runs` times in fresh browsers; the run of median wall time,
 * with every run's wall time in `walls` (in the order run). One batch on a shared machine moves
 * by a few percent from run to run, so the row with the target reports the median of several.
 */
export async function medianBatchSaturation(transport, runs) {
  const results = [];
  for (let i = 0; i < runs; i += 1) results.push(await batchSaturation(transport));
  const byWall = [...results].sort((a, b) => a.wall - b.wall);
  return { ...byWall[Math.floor((runs - 1) / 2)], walls: results.map((r) => r.wall) };
}
