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
/**
 * How an export's memory growth splits over Chromium's processes at its peak: each kind of
 * process whose PSS moved by 1 MB or more, with its anonymous, file-backed and shared parts.
 */
function memorySplit(e) {
  if (!e.memoryAtPeak || !e.memoryBefore) return '';
  const signed = (bytes) => `${bytes < 0 ? '−' : '+'}${mb(Math.abs(bytes))}`;
  const parts = Object.entries(e.memoryAtPeak)
    .map(([kind, m]) => {
      const was = e.memoryBefore[kind] ?? { pss: 0, anon: 0, file: 0, shmem: 0 };
      return { kind, pss: m.pss - was.pss, anon: m.anon - was.anon, file: m.file - was.file, shmem: m.shmem - was.shmem };
    })
    .filter((d) => Math.abs(d.pss) >= 1e6)
    .sort((a, b) => b.pss - a.pss)
    .map((d) => `${d.kind} ${signed(d.pss)} (anon ${signed(d.anon)}, file ${signed(d.file)}, shmem ${signed(d.shmem)})`);
  return parts.length ? `; at the peak: ${parts.join(', ')}` : '';
}

/** The page's main-thread busy time during an export, where the run measured it. */
function mainThreadWork(e) {
  if (!Number.isFinite(e.taskSeconds)) return '';
  return `; page main thread busy ${e.taskSeconds.toFixed(1)} s (script ${e.scriptSeconds.toFixed(1)} s)`;
}

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
  const loopRow = (l, label) => [
    `Loop overhead per step (${l.runs.length} debate runs of ${l.stepsPerRun} steps, mock at 0 ms, ${label})`,
    `median ${ms(l.median, 1)}, p95 ${ms(l.p95, 1)} (between calls: median ${ms(l.gapMedian, 1)}, p95 ${ms(l.gapP95, 1)}; click → first call ${ms(l.firstGapMedian, 1)}; last reply → end shown ${ms(l.lastGapMedian, 1)}; main thread busy ${ms(l.mainThreadMedianPerStep, 1)} per step, calls in flight included; mock round trip ${ms(l.serviceMedianPerStep, 1)} per call${l.cpuMedianPerStep === undefined ? '' : `; machine CPU ${ms(l.cpuMedianPerStep, 1)} per step on ${l.cores} cores`})`,
    '≤ 5 ms median', verdict(l.median, 5),
  ];
  if (r.loop?.error) missing('Loop overhead per step', '≤ 5 ms median', r.loop.error);
  else if (r.loop) out.push(loopRow(r.loop, 'streamed replies, the default'));
  if (r.loopWhole?.error) missing('Loop overhead per step, whole replies', '≤ 5 ms median', r.loopWhole.error);
  else if (r.loopWhole) out.push(loopRow(r.loopWhole, 'whole replies: streaming off'));
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
  if (r.batch10k?.error) missing('Live batch of 10,000 problems (debate, concurrency 64, HTTP/2 + TLS, 100 ms)', '≤ 1.10 × ideal; ≤ 25 % main thread busy; memory flat', r.batch10k.error);
  else if (r.batch10k) {
    const b = r.batch10k;
    const perK = (g) => `${g.slopePerItem >= 0 ? '+' : ''}${(1000 * g.slopePerItem / 1e6).toFixed(2)} MB per 1,000 items done`;
    out.push([
      `Live batch of ${grouped(b.problems)} problems (debate, concurrency ${b.concurrency}, HTTP/2 + TLS, ${b.latencyMs} ms per reply)`,
      `${(b.wall / 1000).toFixed(1)} s = ${b.ratio.toFixed(2)} × ideal ${(b.ideal / 1000).toFixed(1)} s; main thread busy ${Math.round(100 * b.busyShare)} % (${(b.mainThreadMs.task / 1000).toFixed(1)} s, script ${(b.mainThreadMs.script / 1000).toFixed(1)} s)${cpuText(b)}; JS heap ${mb(b.heap.firstQuarter)} in the first quarter of the samples, ${mb(b.heap.lastQuarter)} in the last (${perK(b.heap)}, max ${mb(b.heapMax)}); wasm memory ${mb(b.wasm.firstQuarter)} → ${mb(b.wasm.lastQuarter)} (${perK(b.wasm)}, max ${mb(b.wasmMax)})`,
      '≤ 1.10 × ideal; ≤ 25 % main thread busy; memory flat',
      b.ratio <= 1.1 && b.busyShare <= 0.25 ? 'met (time, main thread)' : 'not met',
    ]);
  }
  if (r.providerBatch?.error) {
    missing('Provider batch mode, 2,000 problems per family', 'all completed, 3 rounds, cost = ½ live, 0 applied twice', r.providerBatch.error);
  } else if (r.providerBatch) {
    for (const f of r.providerBatch.families) {
      const met = f.completed === f.problems && f.rounds === f.roundsExpected && f.appliedTwice === 0
        && f.uploadedTwice === 0 && Math.abs(f.costRatio - 0.5) < 1e-9;
      out.push([
        `Provider batch mode through ${f.family}'s batch API (${grouped(f.problems)} problems, debate, ${f.model}, the mock ending each provider batch ${f.turnaroundMs} ms after it is made; the tab closed and reopened ${f.closings.length} times while a round was at the provider)`,
        `${grouped(f.completed)} of ${grouped(f.problems)} completed (${f.status}); ${f.rounds} rounds, expected ${f.roundsExpected} (requests per round: ${f.roundSizes.map(grouped).join(', ')}); cost $${f.batchCostUsd.toFixed(6)} against $${f.liveCostUsd.toFixed(6)} for the same run live = ${f.costRatio.toFixed(12)} × live (the steps' usage at the table's batch rates: $${f.restoredAtBatchRatesUsd.toFixed(6)}); ${grouped(f.stepsViaBatch)} of ${grouped(f.steps)} steps answered by a provider batch; results applied twice: ${f.appliedTwice} (from the stored steps), requests uploaded twice: ${f.uploadedTwice}; wall ${(f.wallMs / 1000).toFixed(1)} s from Start to the end, the closed spells included`,
        'all completed, 3 rounds, cost = ½ live, 0 applied twice', met ? 'met' : 'not met',
      ]);
    }
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
      `${e.seconds.toFixed(1)} s, ${mb(e.bytes)} (${grouped(e.lines)} lines)${mainThreadWork(e)}`,
      '≤ 10 s', verdict(e.seconds, 10),
    ]);
    const peak = e.heapPeak + (e.wasmAfter ?? 0);
    out.push([
      'Export peak memory (JS heap, CDP every 50 ms, + wasm linear memory)',
      `${mb(peak)} = JS heap ${mb(e.heapPeak)} (before ${mb(e.heapBefore)}) + wasm ${mb(e.wasmAfter ?? 0)} (before ${mb(e.wasmBefore ?? 0)}); ${(peak / e.bytes).toFixed(2)} × file size`,
      '≤ 2 × file size', verdict(peak, 2 * e.bytes),
    ]);
    if (e.pssPeak != null && e.pssBefore != null) {
      out.push([
        `Export memory held by Chromium's processes (PSS of the profile's process tree, every 50 ms; ${e.path ?? 'streamed'} path)`,
        `+${mb(e.pssPeak - e.pssBefore)} (peak ${mb(e.pssPeak)}, before ${mb(e.pssBefore)}); ${((e.pssPeak - e.pssBefore) / e.bytes).toFixed(2)} × file size${memorySplit(e)}`,
        '≤ 100 MB', verdict(e.pssPeak - e.pssBefore, 100e6),
      ]);
    }
    // Other paths measured in the same store (BENCH_EXPORT_PATHS), beside the user's.
    for (const other of (s.exports ?? []).slice(1)) {
      if (other.pssPeak == null || other.pssBefore == null) continue;
      out.push([
        `Export along the ${other.path} path, for comparison (${n}; PSS as above)`,
        `${other.seconds.toFixed(1)} s${mainThreadWork(other)}; +${mb(other.pssPeak - other.pssBefore)} (peak ${mb(other.pssPeak)}, before ${mb(other.pssBefore)})${memorySplit(other)}`,
        'none set', '—',
      ]);
    }
    out.push([
      `Costs page, navigation → three charts drawn (${n}; median of ${s.costsPage.samples.length})`,
      ms(s.costsPage.median),
      '≤ 1 s', verdict(s.costsPage.median, 1000),
    ]);
    if (s.disk) {
      out.push([
        `Bytes per stored step (navigator.storage.estimate before and after seeding ${grouped(s.steps)} steps)`,
        `${grouped(Math.round(s.disk.bytesPerStep))} B per step (${mb(s.disk.usedAfter - s.disk.usedBefore)} for the seeded steps and runs)`,
        'none set', '—',
      ]);
    }
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
  if (r.experiment?.error) missing('Experiment, 3 configs × 200 problems sharing the solver: paid calls', '= distinct requests', r.experiment.error);
  else if (r.experiment) {
    const e = r.experiment;
    out.push([
      `Experiment, ${e.configs} configs × ${e.problems} problems sharing the solver and verifier (judge rubric varied; concurrency ${e.concurrency}, ${e.latencyMs} ms per reply): paid calls counted by the mock`,
      `${grouped(e.mockCalls)} model calls served by the mock (${grouped(e.mockServed)} requests by its own counter), ${grouped(e.distinctRequests)} distinct request bodies among them (expected ${grouped(e.expectedDistinct)}; ${grouped(e.withoutSharing)} without sharing); steps ${grouped(e.paidSteps)} paid + ${grouped(e.reusedSteps)} reused over ${grouped(e.runs)} runs; wall ${(e.wall / 1000).toFixed(1)} s`,
      '= distinct requests', e.mockCalls === e.distinctRequests && e.distinctRequests === e.expectedDistinct ? 'met' : 'not met',
    ]);
  }
  if (r.storedReplies?.error) missing('A 1,000-run batch again from stored replies', '< 10 s, no task over 50 ms', r.storedReplies.error);
  else if (r.storedReplies) {
    const s = r.storedReplies;
    out.push([
      `A ${grouped(s.problems)}-run batch again from stored replies (/batch, debate, concurrency 16; first paid at ${grouped(s.paidCalls)} requests served by the mock, then started again)`,
      `wall ${(s.wall / 1000).toFixed(1)} s; main thread busy ${(s.mainThreadMs.task / 1000).toFixed(1)} s (script ${(s.mainThreadMs.script / 1000).toFixed(1)} s); longest task ${ms(s.longestTaskMs)}, ${s.longTasks} tasks over 50 ms (${ms(s.longTaskMs)} in all); ${grouped(s.callsWhileAgain)} requests to the mock meanwhile`,
      '< 10 s, no task over 50 ms', s.wall < 10_000 && s.longestTaskMs <= 50 && s.callsWhileAgain === 0 ? 'met' : 'not met',
    ]);
  }
  if (r.replyOverhead?.error) missing('Reply store overhead per call (loop runs, default policy vs never)', '≤ +0.5 ms median', r.replyOverhead.error);
  else if (r.replyOverhead) {
    const o = r.replyOverhead;
    out.push([
      `Reply store overhead per call (loop runs of 7 steps at 0 ms, ${o.pairs} runs per policy, taking turns)`,
      `${o.difference >= 0 ? '+' : '−'}${ms(Math.abs(o.difference), 2)} per step: app time per step median ${ms(o.reuse, 2)} looking each request up (default policy) against ${ms(o.never, 2)} under \`never\` (replies stored either way)`,
      '≤ +0.5 ms median', verdict(o.difference, 0.5),
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
