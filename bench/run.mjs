// Runs the benchmarks against servers scripts/bench started, prints one markdown table and
// writes it to bench/RESULTS.md (raw figures to <scratch>/results.json).
//
// Usage: node bench/run.mjs --dist DIR [--only bundle,load,loop,batch,streams,batch10k,provider-batch,storage,model,answers,experiment] [--out FILE]
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleSizes, firstLoad } from './bundle.mjs';
import { readBudget } from './budget.mjs';
import { answerChecking } from './answers.mjs';
import { batch10k } from './batch10k.mjs';
import { TRANSPORTS, batchSaturation, medianBatchSaturation } from './batch.mjs';
import { batchFromStoredReplies, experimentSharing, replyStoreOverhead } from './experiment.mjs';
import { SCRATCH, chromiumVersion } from './lib.mjs';
import { loopOverhead } from './loop.mjs';
import { realModel } from './model.mjs';
import { providerBatchAtScale } from './provider_batch.mjs';
import { markdown } from './report.mjs';
import { storageAtScale } from './storage.mjs';
import { streamsAtOnce } from './streams.mjs';

const ALL = ['bundle', 'load', 'loop', 'batch', 'streams', 'batch10k', 'provider-batch', 'storage', 'model', 'answers', 'experiment'];

function parseArgs(argv) {
  const args = { dist: 'dist', only: ALL, out: null };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--dist') args.dist = value;
    else if (flag === '--out') args.out = value;
    else if (flag === '--only') {
      args.only = value.split(',').filter(Boolean);
      const unknown = args.only.filter((b) => !ALL.includes(b));
      if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
    } else throw new Error(`unknown argument ${flag}`);
    i += 1;
  }
  // A partial run does not replace the committed table.
  args.out ??= args.only.length === ALL.length ? 'bench/RESULTS.md' : join(SCRATCH, 'RESULTS.md');
  return args;
}

/** Runs `fn`, logging its time; a failure becomes `{ error }` so the other benchmarks still run. */
async function step(name, fn) {
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…\n`);
  try {
    const result = await fn();
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return result;
  } catch (e) {
    const message = (e?.message ?? String(e)).split('\n')[0];
    process.stderr.write(`bench: ${name} not measured: ${e?.stack ?? e}\n`);
    return { error: message };
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  await mkdir(SCRATCH, { recursive: true });
  const results = {};
  const started = new Date();
  const loadBefore = loadavg()[0];
  const wants = (b) => args.only.includes(b);
  if (wants('bundle')) {
    results.bundle = await step('bundle sizes', async () => ({ ...(await bundleSizes(args.dist)), budget: await readBudget() }));
  }
  if (wants('load')) results.firstLoad = await step('first load', () => firstLoad(args.dist, 5));
  if (wants('loop')) {
    results.loop = await step('loop overhead', () => loopOverhead(10));
    results.loopWhole = await step('loop overhead, whole replies', () => loopOverhead(10, { streaming: false }));
  }
  if (wants('batch')) {
    results.batch = await step('batch saturation over HTTP/2 (3 runs)', () => medianBatchSaturation(TRANSPORTS.h2, 3));
    results.batchHttp1 = await step('batch saturation over HTTP/1.1', () => batchSaturation(TRANSPORTS.http1));
  }
  if (wants('streams')) results.streams = await step('16 streams at once', () => streamsAtOnce());
  if (wants('batch10k')) results.batch10k = await step('live batch of 10,000 problems', () => batch10k());
  if (wants('provider-batch')) results.providerBatch = await step('provider batch mode at scale', () => providerBatchAtScale());
  if (wants('storage')) results.storage = await step('storage at scale and charts', () => storageAtScale());
  if (wants('model')) results.model = await step('real model', () => realModel());
  if (wants('answers')) results.answers = await step('answer checking', () => answerChecking());
  if (wants('experiment')) {
    results.experiment = await step('experiment sharing (3 configs × 200 problems)', () => experimentSharing());
    results.storedReplies = await step('a 1,000-run batch again from stored replies', () => batchFromStoredReplies(1000));
    results.replyOverhead = await step('reply store overhead per call (never vs default, interleaved)', () => replyStoreOverhead(8));
  }

  const load = `load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end (1-minute)`;
  const notes = [
    `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, headless Chromium ${await chromiumVersion().catch(() => '?')}, release build in ${args.dist}, served uncompressed from loopback by scripts/static_server.py. The cores are shared with other work (${load}), so times move with it.`,
    'Times are taken in the page (performance.now(), zero = navigation start; event timestamps for clicks) when the DOM first shows the state, and "drawn" means the frame after it. KB = 1000 bytes, MB = 10^6 bytes.',
    'Loop overhead per step = (run wall time − the summed Resource Timing durations of its calls to the mock) / steps; "between calls" is the gap from one reply\'s last byte to the next request.',
  ];
  const table = markdown(results, notes);
  process.stdout.write(`\n${table}`);
  // Sections from "## Differential tests" on are written by hand (figures of the tests against
  // reference implementations) and kept across runs.
  const kept = (await readFile(args.out, 'utf8').catch(() => '')).split(/^(?=## Differential tests)/m)[1];
  await writeFile(args.out, `# Benchmark results\n\nWritten by \`scripts/bench\`; see bench/README.md for what each row measures.\n\n${table}${kept ? `\n${kept}` : ''}`);
  await writeFile(join(SCRATCH, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
}

// Stopped from outside: no table, so a cut-off run never replaces RESULTS.md. Playwright kills
// the browsers it launched as the process exits.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    process.stderr.write(`bench: stopped by ${signal}\n`);
    process.exit(130);
  });
}

main().catch((e) => {
  process.stderr.write(`bench: ${e?.stack ?? e}\n`);
  process.exit(1);
});
