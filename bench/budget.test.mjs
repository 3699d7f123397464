// Self-tests of the first-load budget: reading bench/budget.json and the comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compareToBudget, firstLoadGzip, readBudget } from './budget.mjs';

test('the committed budget is a whole number of bytes', async () => {
  const budget = await readBudget();
  assert.ok(Number.isInteger(budget.firstLoadGzip) && budget.firstLoadGzip > 0);
});

test('a first load at the budget fits; one byte more does not', () => {
  const budget = { firstLoadGzip: 325_700 };
  const at = compareToBudget(325_700, budget);
  assert.equal(at.within, true);
  assert.equal(at.delta, 0);
  // 325,700 B = 325.7 KB, 0 B under.
  assert.equal(at.text, '325.7 KB: 0 B under the budget of 325.7 KB (bench/budget.json)');
  const over = compareToBudget(325_701, budget);
  assert.equal(over.within, false);
  assert.equal(over.delta, 1);
  assert.match(over.text, /^325\.7 KB: 1 B over the budget of 325\.7 KB/);
  // 326,600 − 325,700 = 900 B over: the growth the quiet bench found at a86d75b.
  assert.match(compareToBudget(326_600, budget).text, /^326\.6 KB: 900 B over /);
  // 325,250 → 450 B under.
  assert.equal(compareToBudget(325_250, budget).delta, -450);
  assert.match(compareToBudget(325_250, budget).text, /^325\.3 KB: 450 B under /);
});

test('the first load counted is the wasm and the JS the page fetches first, gzip', () => {
  const sizes = { firstLoad: { wasm: { gzip: 312_400, raw: 9 }, js: { gzip: 14_200, raw: 9 } } };
  assert.equal(firstLoadGzip(sizes), 326_600);
});

test('a budget file that is missing or holds no byte count is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'budget-test-'));
  try {
    await assert.rejects(readBudget(pathToFileURL(join(dir, 'absent.json'))), /cannot be read/);
    for (const [name, text] of [['text.json', '{"firstLoadGzip": "325.7 KB"}'], ['zero.json', '{"firstLoadGzip": 0}'],
      ['fraction.json', '{"firstLoadGzip": 325.7}'], ['broken.json', '{firstLoadGzip: 1']]) {
      await writeFile(join(dir, name), text);
      await assert.rejects(readBudget(pathToFileURL(join(dir, name))), /budget/, name);
    }
    await writeFile(join(dir, 'ok.json'), '{"firstLoadGzip": 1000, "since": "abc1234"}');
    assert.deepEqual(await readBudget(pathToFileURL(join(dir, 'ok.json'))), { firstLoadGzip: 1000, since: 'abc1234' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
