// The Batch page's accuracy intervals and its debate-against-baseline table, as shown: a batch
// that runs every problem in both modes against the mock, whose page figures are checked
// against figures worked out here from the exported JSONL alone: which runs are debates, what
// each answered, whether that matches the dataset's answer, then Wilson's interval for each
// accuracy and Newcombe's paired interval for the difference, written out below from the
// papers (not from the app's code).
import { test, expect } from './fixtures.mjs';
import {
  debateConfig, download, importDataset, openApp, plannedProblems, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const CONFIG = debateConfig('e2e-compare');

// How each problem is made to come out (see `plannedProblems`).
// The counts make the modes' answers correlated (ad − bc > n/2), so Newcombe's correction for
// it is part of what is checked.
const PLAN = [
  ...Array(5).fill('both'), // right in both modes
  ...Array(3).fill('fix'), // wrong alone, right after the debate
  ...Array(1).fill('break'), // right alone, wrong after the debate
  ...Array(3).fill('neither'), // wrong in both (the verifier lets it pass)
];
const { truth, dataset, rules } = plannedProblems({ letter: 'C', factor: 11, plan: PLAN });

// ---- the statistics, from their sources -------------------------------------------------------

// Φ⁻¹(0.975), the two-sided 95 % normal quantile.
const Z = 1.959963984540054;

/** Wilson's score interval (Wilson, JASA 22 (1927) 209–212) for k successes in n trials. */
function wilson(k, n) {
  const p = k / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return [k === 0 ? 0 : centre - half, k === n ? 1 : centre + half];
}

/**
 * Newcombe's interval for the difference of paired proportions (Statistics in Medicine 17
 * (1998) 2635–2650, method 10) from the 2×2 table: a both right, b only the first, c only the
 * second, d neither.
 */
function newcombe(a, b, c, d) {
  const n = a + b + c + d;
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const [l1, u1] = wilson(a + b, n);
  const [l2, u2] = wilson(a + c, n);
  const product = (a + b) * (c + d) * (a + c) * (b + d);
  const ad = a * d - b * c;
  const corrected = ad > n / 2 ? ad - n / 2 : ad < 0 ? ad : 0;
  const phi = product === 0 ? 0 : corrected / Math.sqrt(product);
  const dl = Math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2);
  const du = Math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2);
  return [p1 - p2, Math.max(-1, p1 - p2 - dl), Math.min(1, p1 - p2 + du)];
}

const rate = (x) => x.toFixed(4);
const signed = (x) => (rate(Math.abs(x)) === rate(0) ? rate(0) : `${x > 0 ? '+' : '\u2212'}${rate(Math.abs(x))}`);

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, { keys: { openai: 'sk-e2e-compare' }, config: CONFIG });
});

test('a batch in both modes shows accuracies with Wilson intervals and the paired table the exported runs give', async ({ page, request }) => {
  test.setTimeout(120_000);
  await scriptMock(request, rules());
  await openApp(page, '/batch');
  await importDataset(page, 'compare.jsonl', dataset());
  await page.getByTestId('batch-mode-both').check();
  await page.getByTestId('batch-concurrency').fill('4');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 90_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', String(2 * PLAN.length));

  // From the JSONL alone: a run with a verifier step is a debate; its answer is the one the
  // judge was shown; right when it is the dataset's answer.
  const { text } = await download(page, () => page.getByTestId('batch-export-jsonl').click());
  const runs = new Map();
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const step = JSON.parse(line);
    const run = runs.get(step.run_id) ?? { debate: false, problem: null, answer: null };
    run.problem ??= Number(/\[C(\d\d)\]/.exec(step.input.problem)[1]);
    if (step.agent === 'verifier') run.debate = true;
    if (step.agent === 'judge') run.answer = /\\boxed\{([^}]*)\}/.exec(step.input.solution)?.[1] ?? null;
    runs.set(step.run_id, run);
  }
  expect(runs.size).toBe(2 * PLAN.length);
  const right = { debate: new Map(), baseline: new Map() };
  for (const run of runs.values()) {
    right[run.debate ? 'debate' : 'baseline'].set(run.problem, run.answer === truth(run.problem));
  }
  expect([right.debate.size, right.baseline.size]).toEqual([PLAN.length, PLAN.length]);
  const cells = { a: 0, b: 0, c: 0, d: 0 };
  for (const [problem, debate] of right.debate) {
    const baseline = right.baseline.get(problem);
    cells[debate ? (baseline ? 'a' : 'b') : baseline ? 'c' : 'd'] += 1;
  }
  // The mock's scripting did what the plan says (else the figures below would prove little).
  expect(cells).toEqual({ a: 5, b: 3, c: 1, d: 3 });

  const n = PLAN.length;
  const modes = [
    ['batch-accuracy', cells.a + cells.b],
    ['batch-accuracy-baseline', cells.a + cells.c],
  ];
  for (const [id, k] of modes) {
    await expect(page.getByTestId(id)).toHaveText(rate(k / n));
    const [low, high] = wilson(k, n);
    await expect(page.getByTestId(`${id}-interval`))
      .toHaveText(` 95 % interval [${rate(low)}, ${rate(high)}] · ${k} of ${n} correct`);
  }

  const [difference, low, high] = newcombe(cells.a, cells.b, cells.c, cells.d);
  await expect(page.getByTestId('batch-paired-difference')).toHaveText(signed(difference));
  await expect(page.getByTestId('batch-paired-interval'))
    .toHaveText(` 95 % interval [${rate(low)}, ${rate(high)}] over ${n} problems (Newcombe's paired score interval)`);
  await expect(page.getByTestId('batch-paired-both')).toHaveText(String(cells.a));
  await expect(page.getByTestId('batch-paired-debate-only')).toHaveText(String(cells.b));
  await expect(page.getByTestId('batch-paired-baseline-only')).toHaveText(String(cells.c));
  await expect(page.getByTestId('batch-paired-neither')).toHaveText(String(cells.d));
});
