// Self-tests of the bundle benchmark's file sets: what counts as the first load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterFirstDraw, bundleSizes, firstLoadFiles } from './bundle.mjs';

const INDEX = `<html><head>
<link rel="stylesheet" href="/main-1.css">
<link rel="modulepreload" href="/app-1.js" crossorigin="anonymous" integrity="sha384-x">
<link rel="preload" href="/app-1_bg.wasm" crossorigin="anonymous" as="fetch" type="application/wasm">
<link rel="icon" href="/public/favicon.svg">
<link rel="modulepreload" href="/app-1-split/__wasm_split.js"></head><body></body></html>`;

test('the first load is the code index.html preloads, without its leading slash', () => {
  assert.deepEqual(firstLoadFiles(INDEX), ['app-1-split/__wasm_split.js', 'app-1.js', 'app-1_bg.wasm']);
});

test('bundle sizes split the first load from the page chunks under subfolders', async () => {
  const dist = await mkdtemp(join(tmpdir(), 'bundle-test-'));
  try {
    await mkdir(join(dist, 'app-1-split'));
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'app-1.js'), 'x'.repeat(100));
    await writeFile(join(dist, 'app-1_bg.wasm'), Buffer.alloc(1000, 1));
    await writeFile(join(dist, 'app-1-split', '__wasm_split.js'), 'y'.repeat(10));
    await writeFile(join(dist, 'app-1-split', 'chunk_1.wasm'), Buffer.alloc(300, 2));
    await writeFile(join(dist, 'app-1-split', 'page.wasm'), Buffer.alloc(200, 3));
    await writeFile(join(dist, 'main-1.css'), 'body{}');
    const sizes = await bundleSizes(dist);
    assert.equal(sizes.firstLoad.wasm.raw, 1000);
    assert.equal(sizes.firstLoad.js.raw, 110);
    assert.equal(sizes.firstLoad.js.files, 2);
    assert.equal(sizes.onDemand.wasm.raw, 500);
    assert.equal(sizes.onDemand.wasm.files, 2);
    assert.equal(sizes.all.wasm.raw, 1500);
    assert.ok(sizes.firstLoad.wasm.gzip > 0 && sizes.firstLoad.wasm.gzip < 1000);
  } finally {
    await rm(dist, { recursive: true, force: true });
  }
});

test('a preloaded file dist lacks is an error, not a smaller bundle', async () => {
  const dist = await mkdtemp(join(tmpdir(), 'bundle-test-'));
  try {
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'app-1_bg.wasm'), Buffer.alloc(10));
    await assert.rejects(bundleSizes(dist), /index.html preloads files dist lacks: app-1-split\/__wasm_split.js, app-1.js/);
  } finally {
    await rm(dist, { recursive: true, force: true });
  }
});

test('after the first draw come the start-up checks\' chunk and shared chunks, never a page\'s chunk', () => {
  assert.equal(afterFirstDraw('app-1-split/split_startup_checks.wasm'), true);
  assert.equal(afterFirstDraw('app-1-split/chunk_14.wasm'), true);
  assert.equal(afterFirstDraw('app-1-split/split_costs_chunk.wasm'), false);
  assert.equal(afterFirstDraw('app-1-split/__wasm_split.js'), false);
  assert.equal(afterFirstDraw('app-1_bg.wasm'), false);
});
