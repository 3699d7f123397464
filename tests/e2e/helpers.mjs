// Shared helpers for the end-to-end specs.
import { expect } from './fixtures.mjs';

/** The mock provider's origin, set by playwright.config.mjs for every worker. */
export const MOCK = process.env.TRIALOGUE_MOCK_URL;
if (!MOCK) throw new Error('TRIALOGUE_MOCK_URL is not set: run the specs through tests/e2e/playwright.config.mjs');

/** Opens a route and waits for the app shell. Page problems are checked by the `problems`
 *  fixture (fixtures.mjs) after every test. */
export async function openApp(page, route = '/') {
  await page.goto(route);
  await expect(page.getByTestId('nav-configure')).toBeVisible();
}

/** Resets the mock provider's scripts and request records. */
export async function resetMock(request) {
  const res = await request.post(`${MOCK}/__mock/reset`);
  expect(res.ok(), await res.text()).toBeTruthy();
}

/** Adds rules to the mock provider's script (see tests/mock/README.md). */
export async function scriptMock(request, rules) {
  const res = await request.post(`${MOCK}/__mock/script`, { data: { rules } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

/** The mock's log of provider requests (keys redacted), oldest first. */
export async function mockRequests(request) {
  const res = await request.get(`${MOCK}/__mock/requests`);
  expect(res.ok(), await res.text()).toBeTruthy();
  return (await res.json()).requests;
}

/** The same requests as they came, keys included: `{id, route, path, headers}`. */
export async function mockRawRequests(request) {
  const res = await request.get(`${MOCK}/__mock/raw-requests`);
  expect(res.ok(), await res.text()).toBeTruthy();
  return (await res.json()).requests;
}

/** The console error Chromium logs for a provider call the mock answered with `status`. */
export function failedCall(status) {
  return new RegExp(`^console error: Failed to load resource: the server responded with a status of ${status} .*\\(${escapeRegExp(MOCK)}/`);
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Settles a download started by `click` and returns its name and text. */
export async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const { readFile } = await import('node:fs/promises');
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

/** Opens the mock's gate `gate`: the replies a `hold:<gate>` rule holds are sent. */
export async function releaseMock(request, gate) {
  const res = await request.post(`${MOCK}/__mock/release`, { data: { gate } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

/**
 * Allows what Chromium and the split loader (scripts/split-wasm's __wasm_split.js) log for
 * page chunks a test refuses on purpose: the failed fetch of a chunk, the loader's report. Which
 * of them Chromium writes for one refusal varies (a fetch already under way for a preload is
 * reported once), so neither is required: the test checks what the page shows instead.
 */
export function allowRefusedChunks(problems) {
  const split = String.raw`http://127\.0\.0\.1:\d+/trialogue-[0-9a-f]+-split/`;
  problems.allow(new RegExp(String.raw`^console error: Failed to load resource: net::ERR_CONNECTION_REFUSED \(${split}[\w.]+\.wasm\)$`), { optional: true });
  problems.allow(new RegExp(String.raw`^console error: TypeError: Failed to fetch\s+at ${split}__wasm_split\.js:`), { optional: true });
}

/** The built-in OpenAI provider, pointed at the mock's OpenAI-compatible route. */
export const MOCK_OPENAI = {
  id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
  base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
};

/**
 * Stores providers, remembered keys and the config in localStorage the way the app keeps them,
 * before any script of the page runs; with `prices` (`{model: {input_per_million,
 * output_per_million}}`), the user's own prices too. With `once`, only into a browser that
 * holds no config yet: a reload then finds what the pages stored since.
 */
export async function seedApp(page, { providers = [MOCK_OPENAI], keys, config, prices, once = false }) {
  const priceSettings = prices === undefined ? null : JSON.stringify({ overrides: prices, local_providers: [] });
  await page.addInitScript(([p, k, c, pr, onlyOnce]) => {
    if (onlyOnce && localStorage.getItem('trialogue.config.v1') !== null) return;
    localStorage.setItem('trialogue.providers.v1', p);
    localStorage.setItem('trialogue.keys.v1', k);
    localStorage.setItem('trialogue.config.v1', c);
    if (pr !== null) localStorage.setItem('trialogue.prices.v1', pr);
  }, [JSON.stringify({ providers }), JSON.stringify(keys), JSON.stringify(config), priceSettings, once]);
}

/** Imports `rows` as a JSONL dataset on the Batch page and saves it. */
export async function importDataset(page, name, rows) {
  await page.getByTestId('dataset-import').setInputFiles({
    name, mimeType: 'application/x-ndjson', buffer: Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')),
  });
  await page.getByTestId('dataset-save').click();
}

// The header each provider family's key travels in, and how it is written there (OpenAI's,
// OpenRouter's and Cohere's bearer token, Anthropic's x-api-key, Gemini's x-goog-api-key).
const CREDENTIAL = {
  openai: ['authorization', (k) => `Bearer ${k}`],
  openrouter: ['authorization', (k) => `Bearer ${k}`],
  local: ['authorization', (k) => `Bearer ${k}`],
  cohere: ['authorization', (k) => `Bearer ${k}`],
  anthropic: ['x-api-key', (k) => k],
  gemini: ['x-goog-api-key', (k) => k],
};

/** Ids of the providers in `keys` (id → key) whose key occurs in `text`. */
export function keysIn(text, keys) {
  return Object.entries(keys).filter(([, key]) => text.includes(key)).map(([id]) => id);
}

/**
 * Checks the mock's raw record of every request so far (keys as sent): each provider in `keys`
 * (id → key) was called, each request carried its own provider's key in its family's header,
 * and no key, its own included, anywhere else: not in another header, the path or the body.
 */
export async function expectEachRequestCarriesItsOwnKeyOnly(request, keys) {
  const raw = await mockRawRequests(request);
  const bodies = new Map((await mockRequests(request)).map((e) => [e.id, JSON.stringify(e.body)]));
  expect([...new Set(raw.map((r) => r.route))].sort()).toEqual(Object.keys(keys).sort());
  for (const r of raw) {
    const [header, written] = CREDENTIAL[r.route];
    expect(r.headers[header], `request ${r.id} to ${r.path}`).toBe(written(keys[r.route]));
    const rest = { ...r.headers };
    delete rest[header];
    const elsewhere = keysIn(JSON.stringify([r.path, rest, bodies.get(r.id)]), keys);
    expect(elsewhere, `keys elsewhere in request ${r.id} to ${r.path}`).toEqual([]);
  }
}

/** McNemar's exact two-sided p for `b` and `c` discordant pairs, summed as exact fractions
 *  (BigInt), independently of the app's log-space sum. */
export function mcnemar(b, c) {
  const n = b + c;
  if (n === 0) return 1;
  let sum = 0n;
  let term = 1n;
  for (let i = 0; i <= Math.min(b, c); i += 1) {
    if (i > 0) term = (term * BigInt(n - i + 1)) / BigInt(i);
    sum += term;
  }
  return Math.min(1, (2 * Number(sum)) / 2 ** n);
}

/** The model every agent of the specs' debate configs calls (priced in LiteLLM's table). */
export const DEBATE_MODEL = 'openai/gpt-4.1-mini';

/**
 * Prompt templates and rubrics of the specs' debate configs. The mock counts tokens from the
 * prompt text, so each spec keeps the wording its figures were worked out with: `short` for
 * the comparison specs, `labelled` for the fork and reply-store specs.
 */
export const DEBATE_PROMPTS = {
  short: {
    solver: 'Solve: {problem}\nCritique: {feedback}',
    verifier: 'Verify: {problem}\nSolution: {solution}',
    judge: 'Grade: {problem}\nSolution: {solution}\nRubric: {rubric}',
    rubric: '1.0 when right.',
  },
  labelled: {
    solver: 'Solve this problem.\n{problem}\nCritique: {feedback}',
    verifier: 'Check.\nProblem: {problem}\nSolution: {solution}',
    judge: 'Grade.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    rubric: '1.0 when right, else 0.0.',
  },
};

/**
 * A debate config named `version` whose three agents call `model` with `prompts`; with
 * `temperature`, each agent samples at it (the default reuse policy reuses only temperature-0
 * replies), with `maxTokens`, each caps its output there.
 */
export function debateConfig(version, {
  prompts = DEBATE_PROMPTS.short, maxIterations = 2, maxAttempts = 1, temperature, maxTokens, model = DEBATE_MODEL,
} = {}) {
  const agent = (template) => ({
    model,
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    prompt_template: template,
  });
  return {
    config_version: version,
    mode: 'debate',
    max_iterations: maxIterations,
    max_attempts: maxAttempts,
    solver: { role: 'solver', ...agent(prompts.solver) },
    verifier: { role: 'verifier', ...agent(prompts.verifier) },
    judge: { ...agent(prompts.judge), scoring_rubric: prompts.rubric },
  };
}

/** Resets the mock and seeds the app with `config` and `key` for the mock's OpenAI route. */
export async function freshMockApp(page, request, { key, config }) {
  await resetMock(request);
  await seedApp(page, { keys: { openai: key }, config });
}

/**
 * Problems whose debate and baseline outcomes are planned, for the comparison specs: problem
 * `i` (from 1) is tagged `[<letter>ii]`, asks for `i × factor` and has that as its answer.
 * Baseline is one solver call: right when the problem's ANSWER token is right. Debate: the
 * verifier passes round 1 by default; a "fix" problem's verifier fails round 1 and the solver
 * answers right in round 2 (its prompt carries the critique), a "break" problem's solver
 * answers wrong in round 2. `plan` holds one of `both`, `fix`, `break`, `neither` per problem.
 */
export function plannedProblems({ letter, factor, plan }) {
  const tag = (i) => `[${letter}${String(i).padStart(2, '0')}]`;
  const truth = (i) => String(i * factor);
  const wrong = (i) => String(i * factor + 1);
  const solved = (answer) => ({ solution: `The answer is \\boxed{${answer}}.`, reasoning: 'r', confidence: 0.9 });
  /** The dataset's rows, ids `<letter in lower case>ii`. */
  const dataset = () => plan.map((kind, k) => {
    const i = k + 1;
    const answer = kind === 'both' || kind === 'break' ? truth(i) : wrong(i);
    const id = `${letter.toLowerCase()}${String(i).padStart(2, '0')}`;
    return { id, problem: `${tag(i)} What is ${i} times ${factor}? ANSWER=${answer}`, answer: truth(i) };
  });
  /** The mock's rules that make "fix" and "break" problems come out as planned. */
  const rules = () => plan.flatMap((kind, k) => {
    const i = k + 1;
    if (kind !== 'fix' && kind !== 'break') return [];
    const critique = `${kind === 'fix' ? 'Recheck' : 'Rework'} ${tag(i)} from the start.`;
    return [
      { match: tag(i), agent: 'verifier', times: 1, reply: { passed: false, critique, confidence: 0.8, scores: [] } },
      { match: critique, agent: 'solver', reply: solved(kind === 'fix' ? truth(i) : wrong(i)) },
    ];
  });
  return { tag, truth, wrong, dataset, rules };
}

/**
 * Tokens the app's worst-case estimate adds to a prompt's byte bound for chat-template framing
 * (src/core/budget.rs, `CallEstimate::overhead_tokens`).
 */
export const OVERHEAD_TOKENS = 256;

/**
 * The worst case, in USD at `price` (`{input_per_million, output_per_million}`), of one
 * OpenAI-compatible request as the mock logged it (`entry`): its prompt bounded by one token
 * per byte of the messages sent plus the framing, and `max_tokens` of output. In prompt-only
 * structured mode the schema instructions travel in the user message, so this is the bound
 * the app reserved for the request.
 */
export function requestWorstCase(entry, price) {
  const bytes = entry.body.messages.reduce((n, m) => n + Buffer.byteLength(m.content, 'utf8'), 0);
  const maxTokens = entry.body.max_completion_tokens ?? entry.body.max_tokens;
  expect(maxTokens, `request ${entry.id} caps its output`).toBeGreaterThan(0);
  return ((bytes + OVERHEAD_TOKENS) * price.input_per_million + maxTokens * price.output_per_million) / 1e6;
}

/** The cost at `price` of a reply's usage as the mock logged it (`{prompt_tokens, completion_tokens}`). */
export function costOf(usage, price) {
  return (usage.prompt_tokens * price.input_per_million + usage.completion_tokens * price.output_per_million) / 1e6;
}

/** Checks a dollar figure against the one worked out here, up to float rounding (or `relative`). */
export function expectUsd(actual, expected, relative = 1e-9) {
  expect(typeof actual, `a number, not ${actual}`).toBe('number');
  expect(Math.abs(actual - expected), `${actual} against ${expected}`).toBeLessThanOrEqual(Math.abs(expected) * relative + 1e-15);
}
