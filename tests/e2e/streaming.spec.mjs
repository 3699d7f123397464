// Streamed replies end to end, one test per provider family: the mock streams each family's
// server-sent events (tests/mock/mock_streams.py) with thinking, the page shows the thinking and
// marks the steps streamed, and the run stores exactly what the same scripted replies store
// when they come whole. A stream cut halfway is retried like any network failure.
import { test, expect } from './fixtures.mjs';
import {
  MOCK, download, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const FAMILIES = {
  openai: { kind: 'openai_compatible', path: '/openai/v1', model: 'openai/o4-mini' },
  anthropic: { kind: 'anthropic', path: '/anthropic/v1', model: 'anthropic/claude-sonnet-4-5' },
  gemini: { kind: 'gemini', path: '/gemini/v1beta', model: 'gemini/gemini-2.5-flash' },
  cohere: { kind: 'cohere', path: '/cohere/v2', model: 'cohere/command-a-03-2025' },
};

/** The four built-in providers on their mock routes, each streaming or not as `streaming` says. */
function providers(streaming) {
  return Object.entries(FAMILIES).map(([id, f]) => ({
    id, label: id, kind: f.kind, base_url: `${MOCK}${f.path}`, structured_mode: null, builtin: true, streaming,
  }));
}

const KEYS = { openai: 'sk-e2e-s', anthropic: 'sk-ant-e2e-s', gemini: 'AIza-e2e-s', cohere: 'co-e2e-s' };

/** One solver → verifier → judge round, every agent thinking on `model`. */
function config(model, maxAttempts = 1) {
  const agent = (role, template) => ({ role, model, reasoning: 'low', max_tokens: 4096, prompt_template: template });
  return {
    config_version: 'e2e-streaming', mode: 'debate', max_iterations: 1, max_attempts: maxAttempts,
    solver: agent('solver', 'Solve this problem.\n{problem}\nCritique: {feedback}'),
    verifier: agent('verifier', 'Check the solution.\nProblem: {problem}\nSolution: {solution}'),
    judge: {
      ...agent('judge', 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}'),
      scoring_rubric: '1.0 when the final answer is right, else 0.0.',
    },
  };
}

// What each agent thinks and answers: the same for the streamed and the whole run.
const THINKING = {
  solver: 'Pair the terms: 1 + 100, 2 + 99 and so on give 50 pairs of 101.',
  verifier: 'Recompute 50 × 101 = 5050; the pairing argument holds.',
  judge: 'The final answer matches and the argument is complete.',
};
const REPLIES = {
  solver: { solution: 'Pairing gives 50 × 101, so the sum is \\boxed{5050}.', reasoning: 'Gauss pairing.', confidence: 0.9 },
  verifier: { passed: true, critique: 'The pairing and the product are right.', confidence: 0.9, scores: [] },
  judge: { score: 1.0, reasoning: 'Correct and complete.', strengths: ['Clear pairing'], weaknesses: [] },
};
const script = (family) => Object.keys(REPLIES).map((agent) => ({
  agent, provider: family, thinking: THINKING[agent], reply: REPLIES[agent],
}));

/** Runs the problem on /run to completion and returns the downloaded JSONL's steps. */
async function runToCompletion(page, problem) {
  await page.getByTestId('problem-input').fill(problem);
  await page.getByTestId('ground-truth-input').fill('5050');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).not.toHaveText(/^(running|starting)/, { timeout: 30_000 });
  // A failed run says why in its transcript; the assertion shows it.
  const status = (await page.getByTestId('run-status').textContent()).trim();
  expect(status, await page.locator('main').innerText()).toBe('completed');
  await expect(page.getByTestId('step')).toHaveCount(3);
  const { text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

// What differs between two runs of the same replies: when and under which id they ran, how long
// each call and the run took, and the stream's own timings, which a whole reply does not have.
const STREAM_ONLY = ['streamed', 'ttft_ms', 'ttfat_ms', 'output_tokens_per_s'];
function comparable(step) {
  const { timestamp, run_id, ...rest } = step;
  const metadata = { ...rest.metadata };
  for (const key of [...STREAM_ONLY, 'latency_ms', 'started_at']) delete metadata[key];
  // The request's address covers the body as sent, and a streamed body asks for a stream.
  delete metadata.request_hash;
  if (metadata.attempts) metadata.attempts = metadata.attempts.map(({ latency_ms, ...a }) => a);
  return { ...rest, metadata };
}

/** The thinking text a step stored, whether kept as text or as the provider's signed blocks. */
function thinkingText(thinking) {
  if (typeof thinking === 'string') return thinking;
  return JSON.stringify(thinking);
}

test.beforeEach(async ({ request }) => {
  await resetMock(request);
});

for (const family of Object.keys(FAMILIES)) {
  test(`${family}: a streamed debate with thinking shows it live and stores what the whole replies store`, async ({ page, request }) => {
    test.setTimeout(120_000);
    // Seeded once: the second half of the test turns streaming off in storage and reloads.
    await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES[family].model), once: true });
    await scriptMock(request, script(family));
    await openApp(page, '/run');
    const streamed = await runToCompletion(page, 'Add the integers from 1 to 100.');

    const steps = page.getByTestId('step');
    for (let i = 0; i < 3; i += 1) {
      await expect(steps.nth(i)).toHaveAttribute('data-streamed', 'true');
      await expect(steps.nth(i)).toHaveAttribute('data-ttft-ms', /^\d+$/);
    }
    const thinking = page.getByTestId('step-thinking');
    await expect(thinking).toHaveCount(3);
    for (const [i, agent] of ['solver', 'verifier', 'judge'].entries()) {
      await expect(thinking.nth(i)).toContainText(THINKING[agent]);
    }
    const calls = await mockRequests(request);
    expect(calls.map((c) => [c.provider, c.agent, c.status, c.streamed ?? false])).toEqual([
      [family, 'solver', 200, true], [family, 'verifier', 200, true], [family, 'judge', 200, true],
    ]);
    for (const [i, step] of streamed.entries()) {
      expect(step.metadata.streamed).toBe(true);
      expect(step.metadata.ttft_ms).toBeGreaterThanOrEqual(0);
      expect(thinkingText(step.metadata.thinking)).toContain(THINKING[step.agent]);
      expect(step.metadata.tokens.completion_tokens).toBe(calls[i].usage.completion_tokens);
      expect(step.metadata.cost_usd).toBeGreaterThan(0);
    }

    // The same replies, whole.
    await page.evaluate((p) => localStorage.setItem('trialogue.providers.v1', JSON.stringify({ providers: p })), providers(false));
    await page.reload();
    await expect(page.getByTestId('nav-configure')).toBeVisible();
    await resetMock(request);
    await scriptMock(request, script(family));
    const whole = await runToCompletion(page, 'Add the integers from 1 to 100.');
    for (let i = 0; i < 3; i += 1) {
      await expect(steps.nth(i)).toHaveAttribute('data-streamed', 'false');
    }
    expect((await mockRequests(request)).map((c) => c.streamed ?? false)).toEqual([false, false, false]);
    expect(whole.map((s) => s.metadata.streamed ?? false)).toEqual([false, false, false]);
    expect(streamed.map(comparable)).toEqual(whole.map(comparable));
  });
}

for (const family of Object.keys(FAMILIES)) {
  test(`${family}: a stream cut halfway is retried, and the step stores the whole second reply`, async ({ page, request }) => {
    await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES[family].model, 2) });
    // The solver's first reply is cut once half its answer is out; the retry gets it whole.
    await scriptMock(request, [
      { agent: 'solver', times: 1, fault: 'cut', thinking: THINKING.solver, reply: REPLIES.solver },
      ...script(family),
    ]);
    // Every state of the running step's live view, as the page drew it.
    await page.addInitScript(() => {
      window.liveViews = [];
      new MutationObserver(() => {
        const running = document.querySelector('[data-testid="step"][data-status="running"]');
        if (!running) return;
        const text = (sel) => running.querySelector(sel)?.textContent ?? '';
        window.liveViews.push({
          thinking: text('[data-testid="step-thinking"]'),
          solution: text('[data-testid="step-live-field"][data-field="solution"] .step-text'),
        });
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    await openApp(page, '/run');
    const steps = await runToCompletion(page, 'Add the integers from 1 to 100.');
    const calls = await mockRequests(request);
    expect(calls.map((c) => [c.agent, c.status])).toEqual([
      ['solver', 'cut'], ['solver', 200], ['verifier', 200], ['judge', 200],
    ]);
    // The retry's stream replaces the cut one's text: the thinking is never there twice, and
    // the solution shown is always the start of the one solution, never half of it and more.
    const views = await page.evaluate(() => window.liveViews);
    expect(views.some((v) => v.thinking.includes(THINKING.solver)), 'the live view was seen').toBe(true);
    for (const view of views) {
      expect(view.thinking.split(THINKING.solver).length - 1).toBeLessThanOrEqual(1);
      expect(REPLIES.solver.solution.startsWith(view.solution), view.solution).toBe(true);
    }
    expect(steps[0].output.solution).toBe(REPLIES.solver.solution);
    expect(steps[0].metadata.streamed).toBe(true);
    expect(steps[0].metadata.tokens.completion_tokens).toBe(calls[1].usage.completion_tokens);
  });
}

for (const family of Object.keys(FAMILIES)) {
  test(`${family}: while the answer streams, the running step shows its solution growing, not raw JSON`, async ({ page, request }) => {
    await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES[family].model) });
    // The solver's stream stops after its thinking and half its answer until the test lets it go.
    await scriptMock(request, [
      { agent: 'solver', provider: family, pause: 'half-answer', thinking: THINKING.solver, reply: REPLIES.solver },
      ...script(family),
    ]);
    await openApp(page, '/run');
    await page.getByTestId('problem-input').fill('Add the integers from 1 to 100.');
    await page.getByTestId('run-start').click();

    const running = page.locator('[data-testid="step"][data-status="running"]');
    const solution = running.locator('[data-testid="step-live-field"][data-field="solution"]');
    await expect(solution).toBeVisible();
    await expect(running.getByTestId('step-thinking')).toContainText(THINKING.solver);
    const shown = (await solution.locator('.step-text').textContent());
    expect(shown.length).toBeGreaterThan(0);
    expect(REPLIES.solver.solution.startsWith(shown), `"${shown}" begins the solution`).toBe(true);
    expect(shown).not.toBe(REPLIES.solver.solution);
    await expect(running).not.toContainText('"solution"');
    await expect(running).not.toContainText('{"');

    await releaseMock(request, 'half-answer');
    await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
    await expect(page.getByTestId('step-live-field')).toHaveCount(0);
  });
}

test('Cancel in the middle of a stream aborts it at once and the run ends cancelled', async ({ page, request }) => {
  await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES.openai.model) });
  // The solver's stream stops after its thinking and half its answer, and is never let go.
  await scriptMock(request, [
    { agent: 'solver', provider: 'openai', pause: 'never-released', thinking: THINKING.solver, reply: REPLIES.solver },
  ]);
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('Add the integers from 1 to 100.');
  await page.getByTestId('run-start').click();
  const running = page.locator('[data-testid="step"][data-status="running"]');
  await expect(running.locator('[data-testid="step-live-field"][data-field="solution"]')).toBeVisible();
  await expect.poll(async () => (await mockRequests(request)).map((r) => r.paused)).toEqual(['never-released']);

  await page.getByTestId('run-cancel').click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled', { timeout: 5_000 });
  // The body was being read when the run stopped: the mock saw the connection closed under
  // its held stream, and nothing was tried again.
  await expect.poll(async () => (await mockRequests(request)).map((r) => [r.agent, r.status]))
    .toEqual([['solver', 'aborted']]);
  await expect(page.getByTestId('step')).toHaveCount(1);
  await expect(page.getByTestId('step')).toHaveAttribute('data-status', 'stopped');
});

/** The median and nearest-rank 90th percentile of `values`, worked out here from the JSONL. */
function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const p50 = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { p50, p90: sorted[Math.ceil(0.9 * n) - 1] };
}

/** Checks a `speed-row` against the stream figures the steps recorded. */
async function expectSpeedRow(row, steps) {
  const ttft = spread(steps.map((s) => s.metadata.ttft_ms));
  const rate = spread(steps.map((s) => s.metadata.output_tokens_per_s));
  await expect(row).toHaveAttribute('data-steps', String(steps.length));
  expect(Number(await row.getAttribute('data-ttft-p50'))).toBeCloseTo(ttft.p50, 0);
  expect(Number(await row.getAttribute('data-ttft-p90'))).toBeCloseTo(ttft.p90, 0);
  expect(Number(await row.getAttribute('data-tps-p50'))).toBeCloseTo(rate.p50, 1);
  expect(Number(await row.getAttribute('data-tps-p90'))).toBeCloseTo(rate.p90, 1);
}

test('the Costs page shows each model\'s time to first token and tokens per second over its streamed steps', async ({ page, request }) => {
  // Paced streams, so each step has time between its first token and its end.
  await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES.openai.model), once: true });
  await scriptMock(request, script('openai').map((r) => ({ ...r, chunk_ms: 5 })));
  await openApp(page, '/run');
  const steps = await runToCompletion(page, 'Add the integers from 1 to 100.');
  for (const s of steps) expect(s.metadata.output_tokens_per_s).toBeGreaterThan(0);

  await page.getByTestId('nav-costs').click();
  const rows = page.getByTestId('speed-row');
  await expect(rows).toHaveCount(1);
  await expect(rows).toHaveAttribute('data-model', FAMILIES.openai.model);
  await expectSpeedRow(rows, steps);
});

test('the Batch page shows the streamed steps\' speed by model once the batch is done', async ({ page, request }) => {
  await seedApp(page, { providers: providers(true), keys: KEYS, config: config(FAMILIES.gemini.model) });
  await scriptMock(request, script('gemini').map((r) => ({ ...r, chunk_ms: 5 })));
  await openApp(page, '/batch');
  const rows = ['q1', 'q2'].map((id) => JSON.stringify({ id, problem: `Add 1 to 100 (${id}).`, answer: '5050' }));
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'two.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(rows.join('\n')),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '2', { timeout: 60_000 });
  const row = page.getByTestId('speed-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-model', FAMILIES.gemini.model);
  await expect(row).toHaveAttribute('data-steps', '6');
  const { text } = await download(page, () => page.getByTestId('batch-export-jsonl').click());
  const steps = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  expect(steps).toHaveLength(6);
  await expectSpeedRow(row, steps);
});
