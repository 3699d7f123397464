// 6. The real model: one debate through the app against SmolLM2-135M (scripts/local-llm) on the
// app's `local` provider and default config, with at most 2 rounds.
//
// Per step the app records the call's latency (metadata.latency_ms: request sent → reply parsed)
// and the server's usage; tokens per second = completion tokens / latency, over all steps.
import { readFile } from 'node:fs/promises';
import { APP, MODEL_URL, RUN_ENDED, freshBrowser, median, waitMark, watch } from './lib.mjs';

/**
 * Direct calls to the model server, in the request shape the app sends its `local` provider
 * (llama.cpp's `json_object` with a `schema`) and without a schema, for the model's own speed.
 * The first call warms the server up and is not counted.
 */
async function directCalls(model, calls = 3) {
  const messages = [
    { role: 'system', content: 'You are a careful mathematician. Answer in JSON.' },
    { role: 'user', content: 'Solve this problem.\nWhat is 17 + 25? Show the steps.' },
  ];
  const schema = {
    type: 'object',
    properties: { solution: { type: 'string' }, reasoning: { type: 'string' }, confidence: { type: 'number' } },
    required: ['solution', 'reasoning', 'confidence'],
  };
  const once = async (extra) => {
    const t0 = performance.now();
    const res = await fetch(`${MODEL_URL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: model.replace(/^local\//, ''), messages, max_tokens: 128, temperature: 0, ...extra }),
    });
    if (!res.ok) throw new Error(`the model server answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = await res.json();
    return { seconds: (performance.now() - t0) / 1000, completion: body.usage?.completion_tokens ?? NaN };
  };
  const rate = async (extra) => {
    const runs = [];
    for (let i = 0; i < calls; i += 1) runs.push(await once(extra));
    return runs.reduce((n, r) => n + r.completion, 0) / runs.reduce((n, r) => n + r.seconds, 0);
  };
  await once({});
  return {
    plainTokensPerSecond: await rate({}),
    schemaTokensPerSecond: await rate({ response_format: { type: 'json_object', schema } }),
  };
}

export async function realModel() {
  const direct = await directCalls('local/smollm2-135m');
  const { context, page, problems } = await freshBrowser('model');
  try {
    await page.goto(`${APP}/settings`);
    await page.locator('[name="providers.local.base_url"]').fill(MODEL_URL);
    await page.getByTestId('nav-configure').click();
    const model = await page.locator('[name="solver.model"]').inputValue();
    await page.locator('[name="max_iterations"]').fill('2');
    await page.getByTestId('nav-run').click();
    await page.getByTestId('problem-input').fill('What is 2 + 3?');
    await page.getByTestId('ground-truth-input').fill('5');
    await watch(page, { name: 'ended', selector: '[data-testid="run-status"]', textIn: RUN_ENDED });
    await page.getByTestId('run-start').click();
    const marks = await waitMark(page, 'ended', 600_000);
    const status = (await page.getByTestId('run-status').textContent()).trim();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('run-download-jsonl').click(),
    ]);
    const steps = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    const timed = steps.filter((s) => s.metadata?.tokens && Number.isFinite(s.metadata?.latency_ms));
    if (timed.length === 0) throw new Error(`the run (${status}) has no step with usage and latency`);
    const completion = timed.reduce((n, s) => n + s.metadata.tokens.completion_tokens, 0);
    const prompt = timed.reduce((n, s) => n + s.metadata.tokens.prompt_tokens, 0);
    const callSeconds = timed.reduce((n, s) => n + s.metadata.latency_ms, 0) / 1000;
    if (problems.length) throw new Error(problems.join('; '));
    return {
      ...direct,
      model,
      status,
      steps: steps.length,
      perStep: steps.map((s) => ({
        agent: s.agent,
        latencyMs: s.metadata?.latency_ms,
        attempts: s.metadata?.attempts?.length,
        tokens: s.metadata?.tokens,
      })),
      promptTokens: prompt,
      completionTokens: completion,
      tokensPerSecond: completion / callSeconds,
      medianStepSeconds: median(timed.map((s) => s.metadata.latency_ms / 1000)),
      wallSecondsPerStep: (marks.ended - marks['click:run-start']) / 1000 / steps.length,
    };
  } finally {
    await context.close();
  }
}
