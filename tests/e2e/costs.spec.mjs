// Costs end to end: the /costs page over imported trajectories with known usage and costs (its
// three charts, totals and an unknown price shown as unknown, never 0), Settings → Prices (an
// override changes the re-priced figures, a malformed LiteLLM file is refused with its line and
// column), a run's cost chart and re-ask tax on its page, and a run budget's 80 % warning.
//
// Every expected dollar figure is worked out by hand from LiteLLM 1.110.2's rates, which the
// shipped table holds: gpt-4o $2.50 in / $10.00 out per million tokens, gpt-4.1-mini $0.40 /
// $1.60. The arithmetic is beside each number.
import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures.mjs';
import { MOCK, openApp, resetMock } from './helpers.mjs';

// The shipped table as the page names it, from the header of public/pricing.json.
const SHIPPED = JSON.parse(readFileSync(new URL('../../public/pricing.json', import.meta.url), 'utf8')).header;
const SHIPPED_SOURCE = `LiteLLM ${SHIPPED.version}, ${SHIPPED.models.toLocaleString('en-US')} models`;

const RUN_A = 'run_20250101_100000_aaaa1111';
const RUN_B = 'run_20250102_100000_bbbb2222';
const RUN_C = 'run_20250103_100000_cccc3333';

const usage = (input, output) => ({ input_tokens: input, output_tokens: output, total_tokens: input + output });
const attempt = (n, kind, u) => ({ attempt: n, kind, usage: u, error: null, latency_ms: 5.0 });

function step(runId, n, agent, action, { iteration, model, provider, u, cost, output, attempts, end }) {
  const metadata = { model, provider, usage: u, tokens: { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens, total_tokens: u.total_tokens }, cost_usd: cost };
  if (iteration !== undefined) metadata.iteration = iteration;
  if (attempts) metadata.attempts = attempts;
  return {
    timestamp: `2025-01-${runId.slice(10, 12)}T10:00:0${n}.000000+00:00`, run_id: runId, step_id: n, agent, action,
    input: { problem: `Problem of ${runId}` }, output, metadata,
    reward: end ? (end.success ? 1.0 : 0.0) : null, terminal: Boolean(end), success: end ? end.success : null,
  };
}

const SOLVED = { solution: '4', reasoning: 'r', confidence: 0.9 };
const verdict = (passed) => ({ passed, critique: 'c', confidence: 0.9, scores: {} });
const SCORE = { score: 0.8, reasoning: 'r', strengths: [], weaknesses: [] };

/** Three runs: A on gpt-4o, B on gpt-4.1-mini with a re-ask, C on a model no table prices. */
function trajectories() {
  const a = { model: 'openai/gpt-4o', provider: 'openai' };
  const b = { model: 'openai/gpt-4.1-mini', provider: 'openai' };
  const c = { model: 'mystery/model-x', provider: 'mystery' };
  return [
    // A: 1,000×2.5e-6 + 200×1e-5 = 0.0045; 500×2.5e-6 + 100×1e-5 = 0.00225;
    //    400×2.5e-6 + 50×1e-5 = 0.0015. Total 0.00825.
    step(RUN_A, 1, 'solver', 'generate', { ...a, iteration: 1, u: usage(1000, 200), cost: 0.0045, output: SOLVED }),
    step(RUN_A, 2, 'verifier', 'validate', { ...a, iteration: 1, u: usage(500, 100), cost: 0.00225, output: verdict(true) }),
    step(RUN_A, 3, 'judge', 'score', { ...a, u: usage(400, 50), cost: 0.0015, output: SCORE, end: { success: true } }),
    // B: solver round 1 is a first try and a re-ask of 1,000/250 each:
    //    2 × (1,000×4e-7 + 250×1.6e-6) = 2 × 0.0008 = 0.0016;
    //    verifier 1,000×4e-7 + 100×1.6e-6 = 0.00056 (twice); solver round 2 1,000/200 = 0.00072;
    //    judge 500/50 = 0.00028. Total 0.0016 + 0.00056 + 0.00072 + 0.00056 + 0.00028 = 0.00372.
    step(RUN_B, 1, 'solver', 'generate', {
      ...b, iteration: 1, u: usage(2000, 500), cost: 0.0016, output: SOLVED,
      attempts: [attempt(1, 'initial', usage(1000, 250)), attempt(2, 'reask', usage(1000, 250))],
    }),
    step(RUN_B, 2, 'verifier', 'validate', { ...b, iteration: 1, u: usage(1000, 100), cost: 0.00056, output: verdict(false) }),
    step(RUN_B, 3, 'solver', 'generate', { ...b, iteration: 2, u: usage(1000, 200), cost: 0.00072, output: SOLVED }),
    step(RUN_B, 4, 'verifier', 'validate', { ...b, iteration: 2, u: usage(1000, 100), cost: 0.00056, output: verdict(true) }),
    step(RUN_B, 5, 'judge', 'score', { ...b, u: usage(500, 50), cost: 0.00028, output: SCORE, end: { success: false } }),
    // C: no price known: cost null, 100/50 tokens per step.
    step(RUN_C, 1, 'solver', 'generate', { ...c, iteration: 1, u: usage(100, 50), cost: null, output: SOLVED }),
    step(RUN_C, 2, 'judge', 'score', { ...c, u: usage(100, 50), cost: null, output: SCORE, end: { success: true } }),
  ].map((s) => JSON.stringify(s)).join('\n') + '\n';
}

async function importRuns(page) {
  await page.goto('/runs');
  await page.getByTestId('trajectory-import').setInputFiles({
    name: 'costs.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(trajectories(), 'utf8'),
  });
  await expect(page.getByTestId('import-report')).toBeVisible();
  await expect(page.getByTestId('run-row')).toHaveCount(3);
}

/** A number read from an attribute or text, compared to a hand-computed one. */
function near(actual, expected) {
  const value = Number(actual);
  expect(Number.isFinite(value), `${actual} is a number`).toBe(true);
  expect(Math.abs(value - expected), `${actual} ≈ ${expected}`).toBeLessThan(1e-12);
}

async function barValues(page, testId) {
  return page.locator(`[data-testid="${testId}"] .chart-bar`).evaluateAll((bars) =>
    Object.fromEntries(bars.map((b) => [b.dataset.label, b.dataset.value])));
}

test('the Costs page charts imported runs with exact totals and an unknown price as unknown', async ({ page }) => {
  await openApp(page, '/runs');
  await importRuns(page);

  // The run of unknown price says so on its page, never 0.
  await page.goto(`/runs/${RUN_C}`);
  await expect(page.getByTestId('run-cost')).toHaveText('unknown');

  await page.getByTestId('nav-costs').click();
  await expect(page).toHaveURL(/\/costs$/);
  // Known spend 0.00825 + 0.00372 = 0.01197; run C is unknown and not in it.
  await expect(page.getByTestId('costs-total')).toHaveText('0.011970');
  near(await page.getByTestId('costs-total').getAttribute('data-value'), 0.01197);
  await expect(page.getByTestId('costs-runs')).toHaveText('3');
  await expect(page.getByTestId('costs-unknown-runs')).toHaveText('1');
  // Graded runs A (correct), B (wrong), C (correct): 0.01197 / 2 = 0.005985.
  await expect(page.getByTestId('costs-per-correct')).toHaveText('0.005985');
  // 1,200+600+450 (A) + 2,500+1,100+1,200+1,100+550 (B) + 150+150 (C) tokens.
  await expect(page.getByTestId('costs-tokens')).toHaveText('9,000');

  // Spend over time: one point per run in time order, ending at the total.
  const line = page.getByTestId('chart-cost-over-time');
  await expect(line).toBeVisible();
  await expect(line).toHaveAttribute('role', 'img');
  await expect(line).toHaveAttribute('aria-label', /Spend over time/);
  const points = await line.locator('circle').evaluateAll((cs) => cs.map((c) => [c.dataset.label, Number(c.dataset.value)]));
  expect(points.map((p) => p[0])).toEqual([RUN_A, RUN_B, RUN_C]);
  near(points[0][1], 0.00825);
  near(points[1][1], 0.01197);
  near(points[2][1], 0.01197);
  near(await line.getAttribute('data-value'), 0.01197);

  // By agent: solver 0.0045 + 0.0016 + 0.00072 = 0.00682 (and C's unpriced call),
  // verifier 0.00225 + 0.00056 × 2 = 0.00337, judge 0.0015 + 0.00028 = 0.00178 (and C's).
  const byAgent = page.getByTestId('chart-cost-by-agent');
  await expect(byAgent.locator('.chart-bar')).toHaveCount(3);
  const agents = await barValues(page, 'chart-cost-by-agent');
  expect(Object.keys(agents)).toEqual(['solver', 'verifier', 'judge']);
  near(agents.solver, 0.00682);
  near(agents.verifier, 0.00337);
  near(agents.judge, 0.00178);
  await expect(byAgent.locator('[data-label="solver"] title')).toHaveText(/at least 0\.006820 \(1 call at an unknown price\)/);

  // By model: the unknown model is a bar marked unknown, not a bar of 0.
  const models = await barValues(page, 'chart-cost-by-model');
  expect(Object.keys(models)).toEqual(['openai/gpt-4o', 'openai/gpt-4.1-mini', 'mystery/model-x']);
  near(models['openai/gpt-4o'], 0.00825);
  near(models['openai/gpt-4.1-mini'], 0.00372);
  expect(models['mystery/model-x']).toBe('unknown');
  const byModel = page.getByTestId('chart-cost-by-model');
  await expect(byModel.locator('[data-label="mystery/model-x"] .chart-value')).toHaveText('unknown');

  // Hovering a bar writes its exact value; the table view lists the same numbers.
  const figure = page.locator('figure').filter({ has: byModel });
  await byModel.locator('[data-label="openai/gpt-4o"] rect').hover();
  await expect(figure.locator('.chart-readout')).toHaveText('openai/gpt-4o: 0.008250');
  await figure.getByTestId('chart-table-toggle').click();
  await expect(byModel).toBeHidden();
  const table = figure.locator('table.chart-table');
  await expect(table.locator('tr[data-label="openai/gpt-4.1-mini"] td').first()).toHaveText('0.003720');
  await expect(table.locator('tr[data-label="mystery/model-x"] td').first()).toHaveText('unknown');
  await figure.getByTestId('chart-table-toggle').click();
  await expect(byModel).toBeVisible();

  // The unknown model links to Settings with the model filled in.
  const unknown = page.locator('[data-testid="costs-unknown-model"][data-model="mystery/model-x"]');
  await expect(unknown).toContainText('2 calls');
  await unknown.getByRole('link').click();
  await expect(page).toHaveURL(/\/settings\?price_model=mystery%2Fmodel-x#pricing$/);
  await expect(page.getByTestId('price-override-model')).toHaveValue('mystery/model-x');
  await expect(page.getByTestId('price-override-current')).toContainText('no price known');
});

test('an override is checked as typed and changes the re-priced figures, not the stored ones', async ({ page }) => {
  await openApp(page, '/runs');
  await importRuns(page);
  await page.goto('/settings');
  await expect(page.getByTestId('pricing-source')).toHaveText(SHIPPED_SOURCE);

  // Typed errors show as they are typed; the save button waits for a valid price.
  await page.getByTestId('price-override-model').fill('mystery/model-x');
  await page.getByTestId('price-override-input').fill('1,5');
  const pricing = page.locator('#pricing');
  await expect(pricing.getByTestId('error')).toContainText(['"1,5" is not a number', 'enter the output price']);
  await expect(page.getByTestId('price-override-save')).toBeDisabled();
  await page.getByTestId('price-override-input').fill('-1');
  await page.getByTestId('price-override-output').fill('2');
  await expect(pricing.getByTestId('error')).toHaveText([/input price for `mystery\/model-x` must be a number ≥ 0/]);
  // $1 per million in, $2 per million out.
  await page.getByTestId('price-override-input').fill('1');
  await expect(pricing.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('price-override-save').click();
  await expect(page.locator('[data-testid="price-override-row"][data-model="mystery/model-x"]')).toBeVisible();

  // Kept across a reload.
  await page.reload();
  await expect(page.locator('[data-testid="price-override-row"][data-model="mystery/model-x"]')).toBeVisible();
  await page.getByTestId('price-override-model').fill('mystery/model-x');
  await expect(page.getByTestId('price-override-current')).toContainText('your price for `mystery/model-x`: $1.00 input / $2.00 output');

  // Re-price everything: C's steps now cost 100×1e-6 + 50×2e-6 = 0.0002 each, 0.0004 in all;
  // A and B keep their table prices. Stored: 0.01197; today: 0.01237.
  await page.getByTestId('nav-costs').click();
  await page.getByTestId('reprice-all').click();
  const row = page.locator('[data-testid="reprice-model-row"][data-model="mystery/model-x"]');
  await expect(row).toBeVisible();
  expect(await row.getAttribute('data-stored')).toBe('0');
  near(await row.getAttribute('data-new'), 0.0004);
  await expect(row).toContainText('your price for `mystery/model-x`');
  near(await page.getByTestId('reprice-stored-total').getAttribute('data-value'), 0.01197);
  await expect(page.getByTestId('reprice-stored-total')).toContainText('0.011970 (2 unpriced)');
  near(await page.getByTestId('reprice-new-total').getAttribute('data-value'), 0.01237);
  await expect(page.getByTestId('reprice-new-total')).toHaveText('0.012370');
  await expect(page.getByTestId('reprice-changed')).toHaveText('2');
  // Stored costs are not changed: the totals still leave C out.
  await expect(page.getByTestId('costs-total')).toHaveText('0.011970');
  await expect(page.getByTestId('costs-unknown-runs')).toHaveText('1');

  // The run page re-prices the run the same way, stored and today's side by side.
  await page.goto(`/runs/${RUN_C}`);
  await expect(page.getByTestId('run-cost')).toHaveText('unknown');
  await page.getByTestId('reprice-run').click();
  await expect(page.getByTestId('reprice-stored-total')).toHaveText('unknown (2 steps unpriced)');
  near(await page.getByTestId('reprice-new-total').getAttribute('data-value'), 0.0004);

  // Removing the override brings the unknown back.
  await page.goto('/settings');
  await page.locator('[data-testid="price-override-row"][data-model="mystery/model-x"]').getByTestId('price-override-remove').click();
  await expect(page.getByTestId('price-override-row')).toHaveCount(0);
});

test('a run page charts cost and tokens by round and agent, with the re-ask tax apart', async ({ page }) => {
  await openApp(page, '/runs');
  await importRuns(page);
  await page.goto(`/runs/${RUN_B}`);
  const chart = page.getByTestId('chart-run-cost');
  await expect(chart).toBeVisible();
  const stacks = await chart.locator('.chart-stack').evaluateAll((gs) => gs.map((g) => [g.dataset.label, Number(g.dataset.total)]));
  expect(stacks.map((s) => s[0])).toEqual(['Round 1', 'Round 2', 'Judge']);
  near(stacks[0][1], 0.00216); // 0.0016 + 0.00056
  near(stacks[1][1], 0.00128); // 0.00072 + 0.00056
  near(stacks[2][1], 0.00028);
  const seg = (round, agent) => chart.locator(`rect[data-label="${round}"][data-series="${agent}"]`);
  near(await seg('Round 1', 'solver').getAttribute('data-value'), 0.0016);
  near(await seg('Round 1', 'verifier').getAttribute('data-value'), 0.00056);
  // Tokens: round 1 is 2,500 + 1,100.
  const tokens = page.getByTestId('chart-run-tokens');
  expect(await tokens.locator('.chart-stack[data-label="Round 1"]').getAttribute('data-total')).toBe('3600');

  // The re-ask cost 1,000×4e-7 + 250×1.6e-6 = 0.0008, as much as the first try it repeated.
  const tax = page.getByTestId('run-reask-tax');
  near(await tax.getAttribute('data-first'), 0.0008);
  near(await tax.getAttribute('data-tax'), 0.0008);
  await expect(tax).toContainText('1 re-ask: 0.000800');
  await expect(tax).toContainText('100.0 % on top of the first tries');
  await page.getByText(/Every request/).click();
  await expect(page.getByTestId('run-ledger').locator('tbody tr[data-kind="re-ask"]')).toHaveCount(1);
});

test('a malformed LiteLLM price file is refused with its line and column, and the table is kept', async ({ page }) => {
  await openApp(page, '/settings');
  await expect(page.getByTestId('pricing-source')).toHaveText(SHIPPED_SOURCE);
  // Line 2, column 29: the `}` after a trailing comma.
  const broken = '{\n  "gpt-4o": {"mode": "chat",}\n}';
  await page.getByTestId('pricing-import').setInputFiles({
    name: 'litellm_model_prices_9.9.9.json', mimeType: 'application/json', buffer: Buffer.from(broken, 'utf8'),
  });
  const pricing = page.locator('#pricing');
  await expect(pricing.getByTestId('error')).toContainText('line 2, column 29');
  await expect(pricing.getByTestId('error')).toContainText('the current price table is kept');
  await expect(page.getByTestId('pricing-source')).toHaveText(SHIPPED_SOURCE);

  // A small good file replaces the table (version from its name), and reset brings LiteLLM's back.
  const good = JSON.stringify({
    'tiny-model': { mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: 'openai' },
    'an-embedding': { mode: 'embedding', input_cost_per_token: 1e-7 },
  });
  await page.getByTestId('pricing-import').setInputFiles({
    name: 'litellm_model_prices_9.9.9.json', mimeType: 'application/json', buffer: Buffer.from(good, 'utf8'),
  });
  await expect(page.getByTestId('pricing-source')).toHaveText('LiteLLM 9.9.9, 1 models');
  await page.reload();
  await expect(page.getByTestId('pricing-source')).toHaveText('LiteLLM 9.9.9, 1 models');
  await page.getByTestId('pricing-reset').click();
  await expect(page.getByTestId('pricing-source')).toHaveText(SHIPPED_SOURCE);
});

test('a run with a budget shows its spend against it and warns from 80 %', async ({ page, request }) => {
  await resetMock(request);
  // Every reply reports 4,500 prompt tokens and 1 completion token; at your price of $100 per
  // million input tokens (output free) each call costs 4,500 × 1e-4 = $0.45.
  await request.post(`${MOCK}/__mock/script`, { data: { rules: [{ usage: { prompt_tokens: 4500, completion_tokens: 1 } }] } });
  const model = 'openai/gpt-4.1-mini';
  const config = {
    config_version: 'e2e-costs', mode: 'baseline', max_iterations: 1, max_attempts: 1, max_reasks: 0,
    run_budget_usd: 1.0,
    solver: { role: 'solver', model, max_tokens: 16, prompt_template: 'Solve: {problem}\nCritique: {feedback}' },
    verifier: { role: 'verifier', model, max_tokens: 16, prompt_template: 'Verify: {problem}\nSolution: {solution}' },
    judge: { model, max_tokens: 16, prompt_template: 'Grade: {problem}\nSolution: {solution}\nRubric: {rubric}', scoring_rubric: '1.0 when right.' },
  };
  const providers = { providers: [{ id: 'openai', label: 'OpenAI', kind: 'openai_compatible', base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true }] };
  const prices = { overrides: { [model]: { input_per_million: 100, output_per_million: 0 } }, local_providers: [] };
  await page.addInitScript(([p, k, c, pr]) => {
    localStorage.setItem('trialogue.providers.v1', p);
    localStorage.setItem('trialogue.keys.v1', k);
    localStorage.setItem('trialogue.config.v1', c);
    localStorage.setItem('trialogue.prices.v1', pr);
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'sk-e2e-costs' }), JSON.stringify(config), JSON.stringify(prices)]);
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('Budget problem ANSWER=3');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  // Solver and judge: 2 × $0.45 = $0.90 of the $1.00 budget.
  await expect(page.getByTestId('run-cost')).toHaveText('0.900000');
  const id = (await page.getByTestId('run-id').textContent()).trim();
  await page.goto(`/runs/${id}`);
  const budget = page.getByTestId('run-budget');
  await expect(budget).toHaveAttribute('data-level', 'warning');
  await expect(budget).toContainText('$0.900000 of the $1.000000 run budget spent (90.0 %)');
  await expect(budget.getByTestId('error')).toContainText('90 % of its budget');
});

test('past 400 runs the spend line is drawn by day from the roll-ups, and the totals still count every run', async ({ page }) => {
  // 401 one-step runs over three days: 200 on 1 January at $0.001 each, 200 on 2 January at
  // $0.002 each, and one on 3 January on a model no table prices.
  const lines = [];
  const priced = { model: 'openai/gpt-4o', provider: 'openai' };
  for (let i = 0; i < 401; i += 1) {
    const day = i < 200 ? 1 : i < 400 ? 2 : 3;
    const runId = `run_2025010${day}_10${String(Math.floor(i / 60) % 60).padStart(2, '0')}${String(i % 60).padStart(2, '0')}_${String(i).padStart(8, '0')}`;
    const model = day === 3 ? { model: 'mystery/model-x', provider: 'mystery' } : priced;
    const s = step(runId, 1, 'solver', 'generate', {
      ...model, iteration: 1, u: usage(100, 10), cost: day === 3 ? null : day * 0.001, output: SOLVED, end: { success: true },
    });
    s.timestamp = `2025-01-0${day}T10:00:00.000000+00:00`;
    lines.push(JSON.stringify(s));
  }
  await openApp(page, '/runs');
  await page.getByTestId('trajectory-import').setInputFiles({
    name: 'many.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(lines.join('\n') + '\n', 'utf8'),
  });
  await expect(page.getByTestId('import-report')).toBeVisible();

  await page.getByTestId('nav-costs').click();
  const line = page.getByTestId('chart-cost-over-time');
  await expect(line.locator('circle')).toHaveCount(3);
  const points = await line.locator('circle').evaluateAll((cs) => cs.map((c) => [c.dataset.label, Number(c.dataset.value)]));
  expect(points.map((p) => p[0])).toEqual(['2025-01-01', '2025-01-02', '2025-01-03']);
  // 200 × 0.001 = 0.2; + 200 × 0.002 = 0.6; the unpriced day adds nothing known.
  expect(Math.abs(points[0][1] - 0.2)).toBeLessThan(1e-9);
  expect(Math.abs(points[1][1] - 0.6)).toBeLessThan(1e-9);
  expect(Math.abs(points[2][1] - 0.6)).toBeLessThan(1e-9);
  // The roll-ups count steps, and say so.
  await expect(line.locator('circle').last().locator('title')).toContainText('1 step at an unknown price so far');
  // The totals, read from every run after the charts, count all of them.
  await expect(page.getByTestId('costs-runs')).toHaveText('401');
  await expect(page.getByTestId('costs-unknown-runs')).toHaveText('1');
  near(await page.getByTestId('costs-total').getAttribute('data-value'), 0.6);
});
