// Checks of the pure parts of the benchmark suite: statistics, the batch ideal, the table.
// Run with: node --test bench/
// Every expected value is worked out by hand in the comment beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionFloorMs, connectionStats, frontWire, idealMs, inFlightBySecond } from './batch.mjs';
import { maxOverlap, median, quantile } from './lib.mjs';
import { grouped, kb, markdown, rows, verdict } from './report.mjs';

/** Bundle results whose first load is `first`, plus 4 page chunks of 300 KB gzip. */
function bundle(first) {
  const f = { wasm: { brotli: 0, files: 1, ...first.wasm }, js: { brotli: 0, files: 2, ...first.js } };
  const d = { wasm: { raw: 1_000_000, gzip: 300_000, brotli: 250_000, files: 4 }, js: { raw: 0, gzip: 0, brotli: 0, files: 0 } };
  const add = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]));
  return { firstLoad: f, onDemand: d, all: { wasm: add(f.wasm, d.wasm), js: add(f.js, d.js) } };
}

test('nearest-rank quantiles and the median', () => {
  const ten = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
  // 95 % of 10 = 9.5 → rank 10 → the largest; 50 % → rank 5 → 5; 10 % → rank 1 → 1.
  assert.equal(quantile(ten, 0.95), 10);
  assert.equal(quantile(ten, 0.5), 5);
  assert.equal(quantile(ten, 0.1), 1);
  // Even count: (5 + 6) / 2; odd count: the middle one.
  assert.equal(median(ten), 5.5);
  assert.equal(median([4, 1, 3]), 3);
  assert.ok(Number.isNaN(median([])));
});

test('the most intervals open at once; back-to-back ones do not overlap', () => {
  // [0,10) and [5,15) overlap on [5,10); [10,20) starts as the first ends.
  assert.equal(maxOverlap([[0, 10], [5, 15], [10, 20]]), 2);
  assert.equal(maxOverlap([[0, 1], [0, 1], [0, 1]]), 3);
  assert.equal(maxOverlap([[0, 1], [1, 2], [2, 3]]), 1);
  assert.equal(maxOverlap([]), 0);
});

test('the ideal batch time is full waves of sequential calls', () => {
  // ⌈200 / 16⌉ = 13 waves × 3 calls × 100 ms = 3,900 ms.
  assert.equal(idealMs({ problems: 200, concurrency: 16, stepsPerProblem: 3, latencyMs: 100 }), 3900);
  // 16 / 16 = exactly 1 wave: 1 × 3 × 100.
  assert.equal(idealMs({ problems: 16, concurrency: 16, stepsPerProblem: 3, latencyMs: 100 }), 300);
});

test('the HTTP/1.1 floor is every call once, 6 at a time', () => {
  // 200 × 3 = 600 calls; ⌈600 / 6⌉ = 100 rounds × 100 ms = 10,000 ms.
  assert.equal(connectionFloorMs({ problems: 200, stepsPerProblem: 3, latencyMs: 100 }, 6), 10_000);
  // 7 calls on 6 connections: 2 rounds.
  assert.equal(connectionFloorMs({ problems: 7, stepsPerProblem: 1, latencyMs: 50 }, 6), 100);
});

test('connection figures from CDP: protocols, distinct connections, wait before sending', () => {
  const stats = connectionStats([
    // Queued 2 ms in the browser (requestTime − sentAt), then 0 ms for a connection: 2 ms.
    { sentAt: 10.000, protocol: 'h2', connectionId: 7, timing: { requestTime: 10.002, sendStart: 0 } },
    // Queued 1 ms, then 150 ms for a free socket: 151 ms.
    { sentAt: 10.000, protocol: 'h2', connectionId: 7, timing: { requestTime: 10.001, sendStart: 150 } },
    // No timing (a reply served without one): counted as a call, not as a wait.
    { sentAt: 10.5, protocol: 'http/1.1', connectionId: 9, timing: undefined },
    // sendStart −1 (not sent on a connection, e.g. from a cache) counts as 0: 4 ms.
    { sentAt: 11.000, protocol: 'h2', connectionId: 7, timing: { requestTime: 11.004, sendStart: -1 } },
  ]);
  assert.deepEqual(stats.protocols, { h2: 3, 'http/1.1': 1 });
  assert.equal(stats.connections, 2);
  // Waits 2, 151, 4 → median 4; p95 nearest rank of 3 → the largest.
  assert.ok(Math.abs(stats.waitMedianMs - 4) < 1e-6, stats.waitMedianMs);
  assert.ok(Math.abs(stats.waitP95Ms - 151) < 1e-6, stats.waitP95Ms);
});

test("the HTTP/2 front's counts read as protocols and connections, without waits", () => {
  assert.deepEqual(frontWire({ h2Posts: 600, h2Connections: 1, http1Posts: 0 }),
    { protocols: { h2: 600 }, connections: 1, waitMedianMs: undefined, waitP95Ms: undefined });
  // Calls that fell back to HTTP/1.1 show, and count at least one connection more.
  assert.deepEqual(frontWire({ h2Posts: 590, h2Connections: 1, http1Posts: 10 }).protocols, { h2: 590, 'http/1.1': 10 });
  assert.equal(frontWire({ h2Posts: 590, h2Connections: 1, http1Posts: 10 }).connections, 2);
});

test('number formatting and verdicts', () => {
  assert.equal(grouped(1234567), '1,234,567');
  assert.equal(grouped(999), '999');
  assert.equal(kb(412_345), '412.3 KB');
  assert.equal(verdict(5, 5), 'met');
  assert.equal(verdict(5.01, 5), 'not met');
});

test('a benchmark that failed is a "not measured" row, the others still show', () => {
  const table = rows({
    bundle: bundle({ wasm: { raw: 1_000_000, gzip: 350_000 }, js: { raw: 40_000, gzip: 10_000 } }),
    batch: { error: 'the Batch page | is not there' },
  });
  assert.equal(table.length, 2);
  // 350,000 + 10,000 = 360,000 B = 360.0 KB, under 400 KB.
  assert.match(table[0][1], /^360\.0 KB /);
  assert.equal(table[0][3], 'met');
  assert.match(table[1][1], /^not measured: the Batch page/);
  // In markdown, the pipe inside a cell is escaped so the row keeps four cells.
  const md = markdown({ batch: { error: 'a | b' } });
  const row = md.split('\n')[2];
  assert.ok(row.includes('a \\| b'), row);
  assert.equal(row.split(/(?<!\\)\|/).length, 6);
});

test('with a stored budget the bundle row is measured against it, not the 400 KB ceiling', () => {
  const sizes = bundle({ wasm: { raw: 900_000, gzip: 312_400 }, js: { raw: 40_000, gzip: 14_200 } });
  // 312,400 + 14,200 = 326,600 B: 900 B over a budget of 325,700 B.
  const over = rows({ bundle: { ...sizes, budget: { firstLoadGzip: 325_700 } } })[0];
  assert.match(over[1], /^326\.6 KB; 900 B over the budget \(wasm 312\.4 KB/);
  assert.equal(over[2], '≤ 325.7 KB (bench/budget.json)');
  assert.equal(over[3], 'not met');
  // At 326,600 B exactly the budget is met, with 0 B under it.
  const at = rows({ bundle: { ...sizes, budget: { firstLoadGzip: 326_600 } } })[0];
  assert.match(at[1], /^326\.6 KB; 0 B under the budget /);
  assert.equal(at[3], 'met');
});

test('calls in flight per second are time-weighted', () => {
  // [0, 1500) fills second 0 and half of second 1; [500, 1000) adds half of second 0;
  // [1500, 2500) adds half of seconds 1 and 2. Wall 2,500 ms → 3 seconds.
  assert.deepEqual(inFlightBySecond([[0, 1500], [500, 1000], [1500, 2500]], 2500), [1.5, 1, 0.5]);
});

test('a full set of results gives eleven rows with figures worked out by hand', () => {
  const results = {
    bundle: bundle({ wasm: { raw: 2_000_000, gzip: 800_000, brotli: 600_000 }, js: { raw: 70_000, gzip: 12_000, brotli: 10_000 } }),
    firstLoad: { samples: [{ interactive: 300 }, { interactive: 250 }, { interactive: 400 }], median: 300, medianWasmStarted: 280 },
    loop: {
      runs: new Array(10).fill({}), stepsPerRun: 7, median: 4.5, p95: 9, gapMedian: 3, gapP95: 6,
      firstGapMedian: 20, lastGapMedian: 7, mainThreadMedianPerStep: 30, serviceMedianPerStep: 40,
      cpuMedianPerStep: 21.25, cores: 2,
    },
    batch: {
      problems: 200, concurrency: 16, stepsPerProblem: 3, latencyMs: 100, wall: 4290, ideal: 3900,
      ratio: 1.1, idealAtMedianCall: 4368, medianRequestMs: 112, maxInFlight: 16, meanInFlight: 14.2,
      mainThreadMs: { task: 2000, script: 1500 }, longTaskMs: 100,
      protocols: { h2: 600 }, connections: 1, cpu: { busyMs: 7200, share: 0.838, cores: 2 },
    },
    batchHttp1: {
      problems: 200, concurrency: 16, stepsPerProblem: 3, latencyMs: 100, wall: 10_500, ideal: 3900,
      ratio: 2.6923, idealAtMedianCall: 10_257, medianRequestMs: 263, maxInFlight: 16, meanInFlight: 14.2,
      mainThreadMs: { task: 2000, script: 1500 }, longTaskMs: 0,
      protocols: { 'http/1.1': 600 }, connections: 6, waitMedianMs: 159, waitP95Ms: 186, http1FloorMs: 10_000,
    },
    storage: {
      runs: 10_000, steps: 100_000,
      runsPage: { samples: [{}, {}, {}], median: 350, rows: 10_000 },
      export: { seconds: 6.2, bytes: 100_000_000, lines: 100_000, heapBefore: 20e6, heapPeak: 90e6, wasmBefore: 80e6, wasmAfter: 80e6 },
      costsPage: { samples: [{}, {}, {}], median: 900 },
      disk: { usedBefore: 1e6, usedAfter: 151e6, bytesPerStep: 1500.3 },
    },
    model: {
      model: 'local/smollm2-135m', status: 'completed', steps: 5, tokensPerSecond: 20, medianStepSeconds: 3,
      wallSecondsPerStep: 3.2, promptTokens: 1000, completionTokens: 400, plainTokensPerSecond: 50, schemaTokensPerSecond: 40,
    },
  };
  const table = rows(results);
  assert.equal(table.length, 11);
  const byName = (start) => table.find((r) => r[0].startsWith(start));
  // Issue 20's target for the Costs page: 900 ms ≤ 1 s.
  assert.equal(byName('Costs page')[1], '900 ms');
  assert.equal(byName('Costs page')[3], 'met');
  // 1,500.3 B rounds to 1,500; 150,000,000 B = 150.0 MB.
  assert.match(byName('Bytes per stored step')[1], /^1,500 B per step \(150\.0 MB/);
  // 800,000 + 12,000 = 812,000 B → 812.0 KB, over 400 KB; brotli 600,000 + 10,000 = 610.0 KB.
  // First load 800,000 + 12,000; with the chunks' 300,000 all code is 1,112,000 B gzip.
  assert.match(byName('Bundle')[1], /^812\.0 KB .*brotli -11 610\.0 KB\. .*4 chunks, 300\.0 KB gzip; all code 1112\.0 KB gzip/);
  assert.equal(byName('Bundle')[3], 'not met');
  assert.equal(byName('Loop')[3], 'met'); // 4.5 ≤ 5
  assert.match(byName('Loop')[1], /mock round trip 40\.0 ms per call; machine CPU 21\.3 ms per step on 2 cores\)$/);
  // 4,290 / 3,900 = 1.1 ≤ 1.15; 4,368 ms → 4.4 s.
  assert.match(byName('Batch saturation over HTTP/2')[1], /^4\.29 s = 1\.10 × ideal 3\.9 s .*4\.4 s with the measured median call of 112 ms.*; h2 × 600 on 1 connection \(counted by the HTTP\/2 front\)$/);
  assert.equal(byName('Batch saturation over HTTP/2')[3], 'met');
  // 7,200 ms of CPU over 600 calls = 12.0 ms per call; 0.838 → 84 %.
  assert.match(byName('Batch saturation over HTTP/2')[1], /machine CPU 7\.2 s busy on 2 cores, 84 % of them \(12\.0 ms per call: browser, mock and front\)/);
  // Several runs: the row says which one it shows, and their spread.
  const three = rows({ ...results, batch: { ...results.batch, walls: [4600, 4290, 4100] } });
  assert.match(three.find((r) => r[0].startsWith('Batch saturation over HTTP/2'))[1],
    /^the median of 3 batches \(4\.10–4\.60 s\): 4\.29 s = 1\.10 × ideal/);
  // A row without the reading says nothing of the CPU.
  assert.doesNotMatch(byName('Batch saturation over plain HTTP/1.1')[1], /machine CPU/);
  // 10,500 / 10,000 = 1.05 × the 6-connection floor; no target, so no verdict.
  assert.match(byName('Batch saturation over plain HTTP/1.1')[1], /^10\.50 s = 2\.69 × ideal .*http\/1\.1 × 600 on 6 connections.*⌈600\/6⌉ × 100 ms = 10\.0 s \(wall = 1\.05 × floor\)$/);
  assert.equal(byName('Batch saturation over plain HTTP/1.1')[3], '—');
  assert.equal(byName('Runs page')[3], 'not met'); // 350 > 300
  assert.equal(byName('Export all')[3], 'met'); // 6.2 ≤ 10
  // Peak 90 MB heap + 80 MB wasm = 170 MB = 1.70 × 100 MB ≤ 2 ×.
  assert.match(byName('Export peak')[1], /^170\.0 MB .*1\.70 × file size$/);
  assert.equal(byName('Export peak')[3], 'met');
  assert.match(byName('Real model')[1], /^20\.0 completion tokens\/s; 3\.00 s per step/);
});

test('the answer check time row: the slowest check against 1 ms', () => {
  const answers = { cases: 10, repeats: 21, median_us: 12.24, p95_us: 40, max_us: 75.5, slowest: 'set-01' };
  const [time] = rows({ answers });
  // 12.24 → 12.2; 75.5 µs ≤ 1,000 µs.
  assert.equal(time[1], 'median 12.2 µs, p95 40.0 µs, slowest 75.5 µs (set-01) over 10 cases');
  assert.equal(time[3], 'met');
  assert.equal(rows({ answers: { ...answers, max_us: 1500 } })[0][3], 'not met');
});

test("the export's memory row splits the growth by process, and other paths get rows beside it", () => {
  const kinds = (renderer, browser) => ({
    renderer: { pss: renderer, anon: renderer, file: 0, shmem: 0 },
    browser: { pss: browser, anon: 0, file: browser, shmem: 0 },
    'gpu-process': { pss: 5e6, anon: 0, file: 0, shmem: 5e6 },
  });
  const exported = (path, grown) => ({
    path, seconds: 20, bytes: 100e6, lines: 100_000, heapBefore: 3e6, heapPeak: 30e6, wasmBefore: 3e6, wasmAfter: 7e6,
    pssBefore: 400e6, pssPeak: 400e6 + grown,
    memoryBefore: kinds(100e6, 50e6), memoryAtPeak: kinds(100e6 + grown, 50e6 + 0.5e6),
  });
  const storage = {
    runs: 10_000, steps: 100_000,
    runsPage: { samples: [{}], median: 200, rows: 100 },
    export: exported('picker', 80e6),
    exports: [exported('picker', 80e6), exported('blob', 300e6)],
    costsPage: { samples: [{}], median: 900 },
  };
  const table = rows({ storage });
  const pss = table.find((r) => r[0].startsWith("Export memory held by Chromium's processes"));
  // 80 MB ≤ 100 MB; the browser's +0.5 MB and the unchanged GPU process are under 1 MB: left out.
  assert.match(pss[0], /picker path/);
  assert.equal(pss[1], '+80.0 MB (peak 480.0 MB, before 400.0 MB); 0.80 × file size; at the peak: renderer +80.0 MB (anon +80.0 MB, file +0.0 MB, shmem +0.0 MB)');
  assert.equal(pss[3], 'met');
  const blob = table.find((r) => r[0].startsWith('Export along the blob path'));
  assert.match(blob[1], /^20\.0 s; \+300\.0 MB \(peak 700\.0 MB, before 400\.0 MB\); at the peak: renderer \+300\.0 MB/);
  assert.equal(blob[3], '—');
});
