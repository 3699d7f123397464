// Checks of the quiet CDP driver (bench/cdp_pipe.mjs) in the real headless Chromium the
// benchmarks use.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { callExpression, quietBrowser } from './cdp_pipe.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

test('callExpression calls a function with its JSON argument, and passes a string through', () => {
  assert.equal(callExpression((x) => x.a + 1, { a: 1 }), '((x) => x.a + 1)({"a":1})');
  assert.equal(callExpression(() => 2), '(() => 2)()');
  assert.equal(callExpression('1 + 1'), '1 + 1');
});

test('a quiet page evaluates, runs init scripts on navigation, and reports the page\'s errors', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'cdp-pipe-'));
  const { context, page } = await quietBrowser(join(scratch, 'profile'), {
    executablePath: process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium', args: ARGS,
  });
  try {
    assert.equal(await page.evaluate(([a, b]) => a * b, [6, 7]), 42);
    assert.equal(await page.evaluate(() => new Promise((r) => setTimeout(() => r('later'), 10))), 'later');
    await assert.rejects(page.evaluate(() => { throw new Error('boom in page'); }), /boom in page/);

    await context.addInitScript((word) => { window.seeded = word; }, 'before-any-script');
    await page.goto('data:text/html,<p id="p">hi</p><script>setTimeout(() => { throw new Error("late failure"); })</script>');
    assert.equal(page.url().startsWith('data:text/html'), true);
    assert.equal(await page.evaluate(() => window.seeded), 'before-any-script');
    assert.equal(await page.evaluate(() => document.getElementById('p').textContent), 'hi');
    // The viewport a Playwright page of the benchmarks has.
    assert.deepEqual(await page.evaluate(() => [innerWidth, innerHeight]), [1280, 900]);

    const session = await context.newCDPSession(page);
    const { metrics } = await (await session.send('Performance.enable'), session.send('Performance.getMetrics'));
    assert.ok(metrics.some((m) => m.name === 'TaskDuration'));

    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await context.readProblems(), ['page error: Uncaught Error: late failure']);
  } finally {
    await context.close();
    await rm(scratch, { recursive: true, force: true });
  }
  // After close, the connection refuses further calls instead of hanging.
  await assert.rejects(page.evaluate(() => 1), /closed its CDP pipe/);
});
