// Where the page's main thread spends its time, for finding the cause of a slower figure: the
// loop and batch benchmarks record a V8 CPU profile of their measured part when
// BENCH_CPU_PROFILE is set (a sampling profiler slows the page, so the figures of such a run are
// not the ones to report). Each profile goes to <scratch>/cpu/<name>.cpuprofile (Chromium's
// DevTools open it) and a summary beside it: the functions with the most samples, by self time
// and by time on the stack, and the DOM nodes the page added and removed while it was recorded
// (a view that is rebuilt instead of updated adds and removes many).
//
// Usage as a command: node bench/cpu_profile.mjs FILE.cpuprofile [TOP]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCRATCH } from './lib.mjs';

/** Whether profiles were asked for (BENCH_CPU_PROFILE set and not `0`). */
export const PROFILING = Boolean(process.env.BENCH_CPU_PROFILE) && process.env.BENCH_CPU_PROFILE !== '0';

/**
 * Starts recording the page's main thread (and counting its DOM changes); the returned `stop()`
 * writes the profile and its summary under `name` and returns the summary's text.
 */
export async function startCpuProfile(context, page, name) {
  const cdp = await context.newCDPSession(page);
  await page.evaluate(() => {
    const counts = { added: 0, removed: 0, attributes: 0, text: 0, where: {} };
    window.__benchDom = counts;
    // An element as `tag[data-testid].class`, a text node by its parent.
    const named = (node) => {
      if (node?.nodeType !== 1) return node?.parentNode ? `text in ${named(node.parentNode)}` : '?';
      const testid = node.dataset?.testid ? `[${node.dataset.testid}]` : '';
      const cls = String(node.className?.baseVal ?? node.className ?? '').split(' ')[0];
      return `${node.tagName.toLowerCase()}${testid}${cls ? `.${cls}` : ''}`;
    };
    const count = (key) => { counts.where[key] = (counts.where[key] ?? 0) + 1; };
    window.__benchDomObserver?.disconnect();
    window.__benchDomObserver = new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'childList') {
          counts.added += r.addedNodes.length;
          counts.removed += r.removedNodes.length;
          count(`children of ${named(r.target)}`);
        } else if (r.type === 'attributes') {
          counts.attributes += 1;
          count(`${r.attributeName} of ${named(r.target)}`);
        } else {
          counts.text += 1;
          count(named(r.target));
        }
      }
    });
    window.__benchDomObserver.observe(document, {
      subtree: true, childList: true, attributes: true, characterData: true,
    });
  });
  await cdp.send('Profiler.enable');
  // 200 µs: fine enough for a step of a few milliseconds.
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.send('Profiler.disable');
    const dom = await page.evaluate(() => {
      window.__benchDomObserver.disconnect();
      return window.__benchDom;
    });
    const dir = join(SCRATCH, 'cpu');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    const { where, ...totals } = dom;
    const changes = Object.entries(where).sort((a, b) => b[1] - a[1]).slice(0, 20)
      .map(([key, n]) => `${String(n).padStart(9)}  ${key}`).join('\n');
    const text = `${summarize(profile)}\nDOM changes: ${JSON.stringify(totals)}; most changed:\n${changes}\n`;
    await writeFile(join(dir, `${name}.txt`), text);
    return text;
  };
}

/** The profile's top functions by self and by total time, as text. */
export function summarize(profile, top = 40) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) => {
    const f = n.callFrame;
    const where = f.url ? ` ${f.url.split('/').pop()}` : '';
    return `${f.functionName || '(anonymous)'}${where}`;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      return;
    }
    all += ms;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + ms);
    // Each function once per sample, however deep it recurses.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at));
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + ms);
    }
  });
  const table = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, ms]) => `${ms.toFixed(1).padStart(9)} ms ${(100 * ms / all).toFixed(1).padStart(5)} %  ${name.slice(0, 160)}`)
    .join('\n');
  return `busy ${all.toFixed(1)} ms, idle ${idle.toFixed(1)} ms\n\nself:\n${table(self)}\n\ntotal:\n${table(total)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/cpu_profile.mjs FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(summarize(JSON.parse(await readFile(file, 'utf8')), Number(top ?? 40)));
}
