// The transcript's rich text end to end: replies from the mock provider drawn as Markdown and
// MathML, the "Raw text" toggle and its memory per page, the fallback past the formatter's
// limits, and hostile replies that must not become live HTML.
import { test, expect } from './fixtures.mjs';
import { MOCK, openApp, resetMock } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

// One round: the mock's verifier passes by default, then the judge scores.
const CONFIG = {
  config_version: 'e2e-richtext',
  mode: 'debate',
  max_iterations: 1,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\n{feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\n{problem}\n{solution}' },
  judge: { model: MODEL, prompt_template: 'Grade.\n{problem}\n{solution}\n{rubric}', scoring_rubric: 'Right or wrong.' },
};

/** Points the app's OpenAI provider at the mock and seeds CONFIG (as run.spec.mjs does). */
async function seed(page) {
  const providers = {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
  };
  await page.addInitScript(([p, k, c]) => {
    localStorage.setItem('trialogue.providers.v1', p);
    localStorage.setItem('trialogue.keys.v1', k);
    localStorage.setItem('trialogue.config.v1', c);
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'test-key' }), JSON.stringify(CONFIG)]);
}

async function script(request, rules) {
  const res = await request.post(`${MOCK}/__mock/script`, { data: { rules } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

/** Runs `problem` on the Run page until the run has finished. */
async function run(page, problem) {
  await page.getByTestId('problem-input').fill(problem);
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
}

const solver = (page) => page.locator('[data-testid="step"][data-agent="solver"]');

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seed(page);
});

test('a solution\'s LaTeX is drawn as MathML, and Raw text shows it as written, remembered per page', async ({ page, request }) => {
  const solution = 'Half and half: $\\frac{1}{2} + \\frac{1}{2} = 1$, so **the answer** is $\\boxed{42}$.';
  const reasoning = 'Steps:\n\n1. Add\n2. Check\n\n$$\n\\begin{aligned} a &= 1 \\\\ b &= 2 \\end{aligned}\n$$';
  await script(request, [{ agent: 'solver', reply: { solution, reasoning, confidence: 0.9 } }]);
  await openApp(page, '/run');
  await run(page, 'What is 40 + 2?');

  const card = solver(page);
  const fraction = card.locator('math mfrac').first();
  await expect(fraction).toBeVisible();
  expect(await fraction.evaluate((el) => el.namespaceURI)).toBe('http://www.w3.org/1998/Math/MathML');
  await expect(fraction.locator('mn')).toHaveText(['1', '2']);
  await expect(card.locator('menclose[notation="box"] > mn')).toHaveText('42');
  await expect(card.locator('.rich-text strong')).toHaveText('the answer');
  // The reasoning is folded; its list and aligned steps are drawn once opened.
  await card.locator('summary', { hasText: 'Reasoning' }).click();
  await expect(card.locator('ol > li')).toHaveText(['Add', 'Check']);
  await expect(card.locator('mtable.rt-aligned > mtr')).toHaveCount(2);
  // Drawn MathML has a real layout: the numerator sits above the denominator, not beside it.
  const [numerator, denominator] = await fraction.locator('mn').evaluateAll((els) =>
    els.map((el) => el.getBoundingClientRect().toJSON()));
  expect(numerator.bottom).toBeLessThanOrEqual(denominator.top);
  expect(numerator.left).toBeLessThan(denominator.right);
  expect(denominator.left).toBeLessThan(numerator.right);

  const toggle = page.getByTestId('text-view-toggle');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('[data-testid="step"] math:visible')).toHaveCount(0);
  await expect(card.getByTestId('raw-text').first()).toHaveText(solution);
  // Back and forth: the formatted view comes back as it was.
  await toggle.click();
  await expect(card.getByTestId('raw-text')).toHaveCount(0);
  await expect(card.locator('menclose[notation="box"] > mn')).toBeVisible();
  await toggle.click();

  // The run's own page keeps its own choice: formatted, until raw text is chosen there too …
  const runId = (await page.getByTestId('run-id').textContent()).trim();
  await page.goto(`/runs/${runId}`);
  await expect(solver(page).locator('menclose[notation="box"] > mn')).toHaveText('42');
  await expect(page.getByTestId('text-view-toggle')).toHaveAttribute('aria-pressed', 'false');
  await page.getByTestId('text-view-toggle').click();
  await page.reload();
  await expect(solver(page).getByTestId('raw-text').first()).toHaveText(solution);
  // … and the Run page, loaded anew, still shows its next run's replies as written.
  await page.goto('/run');
  await run(page, 'What is 40 + 2, once more?');
  await expect(page.getByTestId('text-view-toggle')).toHaveAttribute('aria-pressed', 'true');
  await expect(solver(page).getByTestId('raw-text').first()).toHaveText(solution);
  await expect(solver(page).locator('math:visible')).toHaveCount(0);
});

test('a hostile reply creates no script, image, frame or non-web link', async ({ page, request }) => {
  const hostile = [
    '<script>window.__pwned = "script"</script>',
    '<img src=x onerror="window.__pwned = \'img\'">',
    '<iframe srcdoc="<script>parent.__pwned = 1</script>"></iframe>',
    '<a href="javascript:window.__pwned = \'a\'">html link</a>',
    '[md link](javascript:window.__pwned=1)',
    '[data link](data:text/html,<script>alert(1)</script>)',
    '<javascript:alert(1)>',
    '$\\href{javascript:alert(1)}{x} + \\url{javascript:alert(1)} + \\htmlId{a}{b} + \\class{c}{d}$',
    '[a web link](https://example.org/page)',
  ].join('\n\n');
  await script(request, [
    { agent: 'solver', reply: { solution: hostile, reasoning: hostile, confidence: 0.5 } },
    { agent: 'verifier', reply: { passed: true, critique: hostile, confidence: 0.5, scores: {} } },
    { agent: 'judge', reply: { score: 0.5, reasoning: hostile, strengths: [hostile], weaknesses: [hostile] } },
  ]);
  await openApp(page, '/run');
  await run(page, 'Say something.');
  for (const summary of await page.locator('[data-testid="step"] summary').all()) await summary.click();

  const found = await page.locator('[data-testid="step"] .rich-text').evaluateAll((containers) => {
    const html = new Set(['P', 'EM', 'STRONG', 'CODE', 'PRE', 'UL', 'OL', 'LI', 'H5', 'H6', 'BLOCKQUOTE',
      'HR', 'BR', 'A', 'SPAN', 'DIV']);
    const mathml = new Set(['math', 'mrow', 'mi', 'mn', 'mo', 'mtext', 'mspace', 'mfrac', 'msqrt', 'mroot',
      'msub', 'msup', 'msubsup', 'munder', 'mover', 'munderover', 'mtable', 'mtr', 'mtd', 'menclose',
      'mstyle', 'merror']);
    const attributes = new Set(['class', 'title', 'href', 'rel', 'referrerpolicy', 'target', 'start',
      'display', 'mathvariant', 'stretchy', 'minsize', 'maxsize', 'movablelimits', 'width',
      'linethickness', 'displaystyle', 'accent', 'notation']);
    const out = { elements: 0, foreign: [], attributes: [], hrefs: [], unknown: [] };
    for (const container of containers) {
      for (const el of container.querySelectorAll('*')) {
        out.elements += 1;
        const allowed = el.namespaceURI === 'http://www.w3.org/1998/Math/MathML'
          ? mathml.has(el.localName) : html.has(el.tagName);
        if (!allowed) out.foreign.push(`${el.namespaceURI} ${el.tagName}`);
        for (const a of el.attributes) if (!attributes.has(a.name)) out.attributes.push(`${el.tagName} ${a.name}`);
        if (el.hasAttribute('href')) out.hrefs.push(el.getAttribute('href'));
        if (el.localName === 'merror') out.unknown.push(el.textContent);
      }
    }
    return out;
  });
  expect(found.elements).toBeGreaterThan(0);
  expect(found.foreign).toEqual([]);
  expect(found.attributes).toEqual([]);
  // Five formatted texts carry the one web link each (solution, critique, two judge texts … and
  // the reasoning, folded, too): every href is that https address.
  expect(found.hrefs.length).toBeGreaterThan(0);
  expect(new Set(found.hrefs)).toEqual(new Set(['https://example.org/page']));
  expect(new Set(found.unknown)).toEqual(new Set(['\\href', '\\url', '\\htmlId', '\\class']));
  await expect(page.locator('[data-testid="step"] :is(script, img, iframe, object, embed)')).toHaveCount(0);
  await expect(page.locator('a[href^="javascript:" i], a[href^="data:" i]')).toHaveCount(0);
  // The markup is there to read, as text.
  await expect(solver(page).locator('.rich-text').first()).toContainText('<script>window.__pwned = "script"</script>');
  await expect(solver(page).locator('.rich-text').first()).toContainText('[md link](javascript:window.__pwned=1)');
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
});

test('a reply past the formatter\'s limits is shown as written, with the reason', async ({ page, request }) => {
  const nested = `$${'{'.repeat(10_000)}x$`;
  await script(request, [{ agent: 'solver', reply: { solution: nested, reasoning: 'r', confidence: 0.5 } }]);
  await openApp(page, '/run');
  await run(page, 'Nest.');
  const card = solver(page);
  await expect(card.getByTestId('rich-text-note')).toContainText('Shown as written');
  await expect(card.getByTestId('rich-text-note')).toContainText('levels deep');
  await expect(card.getByTestId('raw-text').first()).toHaveText(nested);
  await expect(card.locator('math')).toHaveCount(0);
});
