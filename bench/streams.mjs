// 7. Streams: 16 replies streaming at once at about 200 tokens/s each (issue 21's figure).
//
// A batch of 16 problems at concurrency 16 in baseline mode (solver, then judge) against the
// mock over HTTP/2 + TLS (the front in h2_front.mjs: each reply starts 100 ms after its request,
// then streams as the mock sends it), so the 16 share one connection and stream at once, as
// from a hosted provider; every reply streamed with its events 5 ms apart (the mock streams
// about one token per event, so ~200 tokens/s per stream). Wall = batch-start click → batch-status shows
// the end. The main thread's busy share is CDP `TaskDuration` over that wall time (the target is
// under 30 %); time to first token and tokens/s are the stored steps' own (`ttft_ms`,
// `output_tokens_per_s`), read from the Costs page's speed table (`speed-row`).
import {
  APP, MOCK_FAST, MOCK_SLOW_H2, clickTestId, checkTestId, fillTestId, mainThread, minus, mockConfig, mockControl,
  mockProviders, quietFreshBrowser, seedStorage, setFileTestId, waitInPage, waitMark, watch,
} from './lib.mjs';
import { PROFILING, startCpuProfile } from './cpu_profile.mjs';

export const STREAMS = { problems: 16, concurrency: 16, chunkMs: 5, words: 300 };

const ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'paused'];

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `s${String(i).padStart(2, '0')}`, problem: `[S${i}] What is ${i} + ${i}?`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/** `n` words of filler text, so a reply streams for a while. */
function words(n) {
  return Array.from({ length: n }, (_, i) => `w${i % 97}`).join(' ');
}

/** The 16-stream benchmark. */
export async function streamsAtOnce() {
  const { context, page, readProblems } = await quietFreshBrowser('streams', { ignoreCertificateErrors: true });
  try {
    await mockControl(MOCK_FAST, 'reset');
    const text = words(STREAMS.words);
    await mockControl(MOCK_FAST, 'script', {
      rules: [
        { agent: 'solver', chunk_ms: STREAMS.chunkMs, reply: { solution: `${text} \\boxed{2}`, reasoning: text, confidence: 0.9 } },
        { agent: 'judge', chunk_ms: STREAMS.chunkMs, reply: { score: 1.0, reasoning: text, strengths: [], weaknesses: [] } },
      ],
    });
    await seedStorage(context, {
      providers: mockProviders(MOCK_SLOW_H2).map((p) => ({ ...p, streaming: true })),
      keys: { openai: 'bench-key' },
      config: { ...mockConfig('bench-streams', 1), mode: 'baseline' },
    });
    await page.goto(`${APP}/batch`);
    await setFileTestId(page, 'dataset-import', {
      name: 'bench-streams.jsonl', mimeType: 'application/x-ndjson', text: dataset(STREAMS.problems),
    });
    await clickTestId(page, 'dataset-save');
    await waitInPage(page, `${STREAMS.problems} problems selected`, (n) => document.querySelector(
      `[data-testid="batch-selected"][data-count="${n}"]`) !== null, STREAMS.problems);
    await checkTestId(page, 'batch-mode-baseline');
    await fillTestId(page, 'batch-concurrency', String(STREAMS.concurrency));
    await watch(page, { name: 'ended', selector: '[data-testid="batch-status"]', textIn: ENDED });
    const busy = await mainThread(context, page);
    const before = await busy();
    const stopProfile = PROFILING ? await startCpuProfile(context, page, 'streams') : null;
    await clickTestId(page, 'batch-start');
    const marks = await waitMark(page, 'ended', 300_000);
    if (stopProfile) process.stderr.write(await stopProfile());
    const mainThreadMs = minus(await busy(), before);
    const wall = marks.ended - marks['click:batch-start'];
    const status = await page.evaluate(() => document.querySelector('[data-testid="batch-status"]').textContent.trim());
    if (status !== 'completed') throw new Error(`batch ended ${status}`);
    const problems = await readProblems();
    if (problems.length) throw new Error(problems.join('; '));

    await page.goto(`${APP}/costs`);
    await waitInPage(page, 'the speed table', () => document.querySelector('[data-testid="speed-row"]') !== null);
    const speed = await page.evaluate(() => {
      const row = document.querySelector('[data-testid="speed-row"]');
      const n = (k) => Number(row.dataset[k]);
      return { steps: n('steps'), ttftP50: n('ttftP50'), ttftP90: n('ttftP90'), tpsP50: n('tpsP50'), tpsP90: n('tpsP90') };
    });
    return {
      ...STREAMS,
      wall,
      mainThreadMs,
      busyShare: mainThreadMs.task / wall,
      ...speed,
    };
  } finally {
    await context.close();
  }
}
