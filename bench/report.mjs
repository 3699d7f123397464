// The results as one markdown table: a row per figure, with its target and whether it was met.
// Figures are reported, never asserted: a missed target is a row, not a failure.

/** `1234567` → `"1,234,567"`. */
export function grouped(n) {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes in KB (1 KB = 1000 bytes) with one decimal. */
export function kb(bytes) {
  return `${(bytes / 1000).toFixed(1)} KB`;
}

/** Bytes in MB (1 MB = 10^6 bytes) with one decimal. */
export function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Milliseconds with `digits` decimals. */
export function ms(value, digits = 0) {
  return `${value.toFixed(digits)} ms`;
}

/** "met" / "not met" for a figure against an upper bound. */
export function verdict(value, limit) {
  return value <= limit ? 'met' : 'not met';
}

/** Escapes the characters that would break a markdown table cell. */
function cell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The figures both batch rows share. */
function batchFigure(b) {
  return `${medianOf(b)}${(b.wall / 1000).toFixed(2)} s = ${b.ratio.toFixed(2)} × ideal ${(b.ideal / 1000).toFixed(1)} s (ideal = ⌈${b.problems}/${b.concurrency}⌉ × ${b.stepsPerProblem} steps × ${b.latencyMs} ms; ${(b.idealAtMedianCall / 1000).toFixed(1)} s with the measured median call of ${ms(b.medianRequestMs)}); calls in flight: at most ${b.maxInFlight}, ${b.meanInFlight.toFixed(1)} on average; main thread busy ${(b.mainThreadMs.task / 1000).toFixed(1)} s (script ${(b.mainThreadMs.script / 1000).toFixed(1)} s), of it ${(b.longTaskMs / 1000).toFixed(1)} s in tasks over 50 ms${cpuText(b)}`;
}

/** Which run of several the figures are, when there were several. */
function medianOf(b) {
  if (!b.walls || b.walls.length < 2) return '';
  const sorted = [...b.walls].sort((x, y) => x - y);
  const s = (t) => (t / 1000).toFixed(2);
  return `the median of ${b.walls.length} batches (${s(sorted[0])}–${s(sorted.at(-1))} s): `;
}

/** The machine's CPU over a batch: with few cores, the batch waits for it. */
function cpuText(b) {
  if (!b.cpu) return '';
  const calls = b.problems * b.stepsPerProblem;
  return `; machine CPU ${(b.cpu.busyMs / 1000).toFixed(1)} s busy on ${b.cpu.cores} cores, ${Math.round(100 * b.cpu.share)} % of them (${ms(b.cpu.busyMs / calls, 1)} per call: browser, mock and front)`;
}

/** How the calls went out: protocols, connections, and the wait before each was sent. */
function wireText(b) {
  if (!b.connections) return 'no CDP network figures';
  const protocols = Object.entries(b.protocols ?? {}).map(([p, n]) => `${p} × ${grouped(n)}`).join(', ');
  const on = `${protocols} on ${b.connections} connection${b.connections === 1 ? '' : 's'}`;
  if (b.waitMedianMs === undefined) return `${on} (counted by the HTTP/2 front)`;
  return `${on}, wait before sending: median ${ms(b.waitMedianMs, 1)}, p95 ${ms(b.waitP95Ms, 1)}`;
}

/**
 * The table's rows from the results of each benchmark; a benchmark that threw is
 * `{ error: "message" }` and becomes a "not measured" row.
 */
export function rows(r) {
  const out = [];
  const missing = (label, target, e) => out.push([label, `not measured: ${e}`, target, '—']);

  if (r.bundle?.error) missing('Bundle size, first load (wasm + JS, gzip)', '≤ 400 KB', r.bundle.error);
  else if (r.bundle) {
    const { firstLoad: f, onDemand: d, all: a, budget } = r.bundle;
    const gz = f.wasm.gzip + f.js.gzip;
    // The stored budget (bench/budget.json) is the standing target: the first load must not grow.
    const target = budget ? `≤ ${kb(budget.firstLoadGzip)} (bench/budget.json)` : '≤ 400 KB';
    const against = budget ? `; ${Math.abs(gz - budget.firstLoadGzip)} B ${gz <= budget.firstLoadGzip ? 'under' : 'over'} the budget` : '';
    out.push([
      'Bundle size, first load (wasm + JS, gzip -6)',
      `${kb(gz)}${against} (wasm ${kb(f.wasm.gzip)} + JS ${kb(f.js.gzip)}: the main module, its glue and the split loader); raw ${kb(f.wasm.raw + f.js.raw)}; brotli -11 ${kb(f.wasm.brotli + f.js.brotli)}. The other pages' code, fetched when a page first opens: ${d.wasm.files} chunks, ${kb(d.wasm.gzip + d.js.gzip)} gzip; all code ${kb(a.wasm.gzip + a.js.gzip)} gzip, ${kb(a.wasm.raw + a.js.raw)} raw`,
      target, verdict(gz, budget ? budget.firstLoadGzip : 400_000),
    ]);
  }
  if (r.firstLoad?.error) missing('First load to interactive', 'none set', r.firstLoad.error);
  else if (r.firstLoad) {
    const f = r.firstLoad;
    out.push([
      `First load to interactive (median of ${f.samples.length} cold loads)`,
      `${ms(f.median)} (wasm started at ${ms(f.medianWasmStarted)}; range ${ms(Math.min(...f.samples.map((s) => s.interactive)))}–${ms(Math.max(...f.samples.map((s) => s.interactive)))})`,
      'none set', '—',
    ]);
  }
  if (r.loop?.error) missing('Loop overhead per step', '≤ 5 ms median', r.loop.error);
  else if (r.loop) {
    const l = r.loop;
    out.push([
      `Loop overhead per step (${l.runs.length} debate runs of ${l.stepsPerRun} steps, mock at 0 ms)`,
      `median ${ms(l.median, 1)}, p95 ${ms(l.p95, 1)} (between calls: median ${ms(l.gapMedian, 1)}, p95 ${ms(l.gapP95, 1)}; click → first call ${ms(l.firstGapMedian, 1)}; last reply → end shown ${ms(l.lastGapMedian, 1)}; main thread busy ${ms(l.mainThreadMedianPerStep, 1)} per step, calls in flight included; mock round trip ${ms(l.serviceMedianPerStep, 1)} per call${l.cpuMedianPerStep === undefined ? '' : `; machine CPU ${ms(l.cpuMedianPerStep, 1)} per step on ${l.cores} cores`})`,
      '≤ 5 ms median', verdict(l.median, 5),
    ]);
  }
  const batchLabel = (b, over) => `Batch saturation over ${over} (${b.problems} problems, concurrency ${b.concurrency}, ${b.latencyMs} ms per reply)`;
  if (r.batch?.error) missing('Batch saturation over HTTP/2 + TLS (200 problems, concurrency 16, 100 ms)', '≤ 1.15 × ideal', r.batch.error);
  else if (r.batch) {
    const b = r.batch;
    out.push([
      batchLabel(b, 'HTTP/2 + TLS, as hosted providers'),
      `${batchFigure(b)}; ${wireText(b)}`,
      '≤ 1.15 × ideal', verdict(b.ratio, 1.15),
    ]);
  }
  if (r.batchHttp1?.error) missing('Batch saturation over plain HTTP/1.1 (200 problems, concurrency 16, 100 ms)', 'none set', r.batchHttp1.error);
  else if (r.batchHttp1) {
    const b = r.batchHttp1;
    const calls = b.problems * b.stepsPerProblem;
    out.push([
      batchLabel(b, 'plain HTTP/1.1, as local servers'),
      `${batchFigure(b)}; ${wireText(b)}; the floor with Chromium's 6 connections per host is ⌈${calls}/6⌉ × ${b.latencyMs} ms = ${(b.http1FloorMs / 1000).toFixed(1)} s (wall = ${(b.wall / b.http1FloorMs).toFixed(2)} × floor)`,
      'none set (bound by the browser)', '—',
    ]);
  }
  if (r.streams?.error) missing('16 streams at once (~200 tokens/s each)', '< 30 % main thread busy', r.streams.error);
  else if (r.streams) {
    const s = r.streams;
    out.push([
      `${s.concurrency} streams at once (${s.problems} problems, baseline, concurrency ${s.concurrency}, events ${s.chunkMs} ms apart ≈ ${Math.round(1000 / s.chunkMs)} tokens/s per stream)`,
      `main thread busy ${Math.round(100 * s.busyShare)} % of ${(s.wall / 1000).toFixed(2)} s (${(s.mainThreadMs.task / 1000).toFixed(2)} s, script ${(s.mainThreadMs.script / 1000).toFixed(2)} s); over ${s.steps} streamed calls: time to first token p50 ${ms(s.ttftP50)}, p90 ${ms(s.ttftP90)}; ${s.tpsP50.toFixed(1)} tokens/s p50, ${s.tpsP90.toFixed(1)} p90`,
      '< 30 % main thread busy', s.busyShare < 0.3 ? 'met' : 'not met',
    ]);
  }
  if (r.storage?.error) {
    missing('Runs page first row at 10,000 runs', '≤ 300 ms', r.storage.error);
  } else if (r.storage) {
    const s = r.storage;
    const n = `${grouped(s.runs)} runs / ${grouped(s.steps)} steps`;
    out.push([
      `Runs page, navigation → first run row (${n}; median of ${s.runsPage.samples.length})`,
      `${ms(s.runsPage.median)} (${grouped(s.runsPage.rows)} rows drawn)`,
      '≤ 300 ms', verdict(s.runsPage.median, 300),
    ]);
    const e = s.export;
    out.push([
      `Export all runs to JSONL (${n})`,
      `${e.seconds.toFixed(1)} s, ${mb(e.bytes)} (${grouped(e.lines)} lines)`,
      '≤ 10 s', verdict(e.seconds, 10),
    ]);
    const peak = e.heapPeak + (e.wasmAfter ?? 0);
    out.push([
      'Export peak memory (JS heap, CDP every 50 ms, + wasm linear memory)',
      `${mb(peak)} = JS heap ${mb(e.heapPeak)} (before ${mb(e.heapBefore)}) + wasm ${mb(e.wasmAfter ?? 0)} (before ${mb(e.wasmBefore ?? 0)}); ${(peak / e.bytes).toFixed(2)} × file size`,
      '≤ 2 × file size', verdict(peak, 2 * e.bytes),
    ]);
    out.push([
      `Costs page, navigation → three charts drawn (${n}; median of ${s.costsPage.samples.length})`,
      ms(s.costsPage.median),
      'none set', '—',
    ]);
  }
  if (r.model?.error) missing('Real model (SmolLM2-135M, local)', 'none set', r.model.error);
  else if (r.model) {
    const m = r.model;
    out.push([
      `Real model: ${m.model} via scripts/local-llm, one debate (${m.steps} steps, ${m.status})`,
      `${m.tokensPerSecond.toFixed(1)} completion tokens/s; ${m.medianStepSeconds.toFixed(2)} s per step (median call), ${m.wallSecondsPerStep.toFixed(2)} s per step (wall); ${grouped(m.promptTokens)} prompt + ${grouped(m.completionTokens)} completion tokens. Direct to the server: ${m.plainTokensPerSecond.toFixed(1)} tokens/s without a schema, ${m.schemaTokensPerSecond.toFixed(1)} with the app's json_object schema`,
      'none set', '—',
    ]);
  }
  if (r.answers?.error) missing('Answer check time', '≤ 1 ms slowest', r.answers.error);
  else if (r.answers) {
    const t = r.answers;
    const us = (v) => `${v.toFixed(1)} µs`;
    out.push([
      `Answer check time (check_solution per differential case, native release build, median of ${t.repeats} per case)`,
      `median ${us(t.median_us)}, p95 ${us(t.p95_us)}, slowest ${us(t.max_us)} (${t.slowest}) over ${t.cases} cases`,
      '≤ 1 ms slowest', verdict(t.max_us, 1000),
    ]);
  }
  return out;
}

/** The markdown document: a heading line, the table, and notes. */
export function markdown(results, notes = []) {
  const lines = [
    '| benchmark | figure | target | result |',
    '|---|---|---|---|',
    ...rows(results).map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n${notes.length ? `\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
}
