// A quiet way to drive Chromium for the benchmarks that count CPU: the browser is started with
// `--remote-debugging-pipe` and spoken to in raw CDP (messages of JSON, each ended by a NUL
// byte, on the browser's file descriptors 3 and 4), and only the calls a benchmark makes are
// sent.
//
// Why not Playwright here: a Playwright page always has CDP's `Network` domain enabled, so for
// every request the browser serializes its events and sends them down the pipe, and Playwright
// parses them. On 2 cores that is CPU the app does not get (bench/README.md has the figures
// measured both ways). A user's browser has no debugger attached.
//
// The objects returned mimic the few Playwright calls lib.mjs's helpers make (`evaluate`,
// `addInitScript`, `newCDPSession`, `url`, `goto`, `close`), so those helpers serve both.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

/** One CDP connection over the browser's pipe: commands by id, events to listeners. */
export class PipeConnection {
  constructor(toBrowser, fromBrowser) {
    this.toBrowser = toBrowser;
    this.nextId = 0;
    this.pending = new Map();
    this.listeners = new Set();
    this.closedWith = null;
    let buffered = '';
    fromBrowser.setEncoding('utf8');
    fromBrowser.on('data', (chunk) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\0')) >= 0) {
        this.dispatch(JSON.parse(buffered.slice(0, end)));
        buffered = buffered.slice(end + 1);
      }
    });
    fromBrowser.on('close', () => this.fail(new Error('the browser closed its CDP pipe')));
  }

  dispatch(message) {
    const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
    if (waiter) {
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  fail(error) {
    this.closedWith = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  /** Sends `method` (to the page session `sessionId`, or the browser) and waits for its result. */
  send(method, params = {}, sessionId = undefined) {
    if (this.closedWith) return Promise.reject(this.closedWith);
    this.nextId += 1;
    const message = { id: this.nextId, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, method });
      this.toBrowser.write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Calls `handler(params)` for every `method` event of `sessionId`; returns the unsubscribe. */
  on(method, handler, sessionId = undefined) {
    const listener = (m) => {
      if (m.method === method && m.sessionId === sessionId) handler(m.params);
    };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** `fn` called with `arg` as a JavaScript expression (as Playwright's evaluate does). */
export function callExpression(fn, arg) {
  if (typeof fn === 'string') return fn;
  return `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`;
}

/** A page attached through the pipe. */
class QuietPage {
  constructor(connection, sessionId) {
    this.connection = connection;
    this.sessionId = sessionId;
    this.currentUrl = 'about:blank';
  }

  send(method, params) {
    return this.connection.send(method, params, this.sessionId);
  }

  url() {
    return this.currentUrl;
  }

  /** Navigates and waits for the load event. */
  async goto(url) {
    // Page events only while navigating: the domain stays off while anything is measured.
    await this.send('Page.enable');
    let unsubscribe = () => {};
    try {
      const loaded = new Promise((resolve) => {
        unsubscribe = this.connection.on('Page.loadEventFired', resolve, this.sessionId);
      });
      const { errorText } = await this.send('Page.navigate', { url });
      if (errorText) throw new Error(`navigation to ${url} failed: ${errorText}`);
      await loaded;
      this.currentUrl = url;
    } finally {
      unsubscribe();
      await this.send('Page.disable');
    }
  }

  /** Runs `fn(arg)` in the page, awaits it if it is a promise, and returns its value. */
  async evaluate(fn, arg) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', {
      expression: callExpression(fn, arg), awaitPromise: true, returnByValue: true,
    });
    if (exceptionDetails) {
      throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    }
    return result.value;
  }
}

/**
 * Starts Chromium with `args` on a new, empty profile `dir` and attaches to its page. Returns
 * `{ context, page }` shaped as `freshBrowser` in lib.mjs returns them; `context.readProblems()`
 * gives the page's uncaught errors so far.
 */
export async function quietBrowser(dir, { executablePath, args }) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const browser = spawn(executablePath, [
    ...args, '--remote-debugging-pipe', `--user-data-dir=${resolve(dir)}`,
    '--window-size=1280,900', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  browser.stderr.on('data', (c) => { stderr = (stderr + c).slice(-2000); });
  const exited = new Promise((resolve) => browser.once('exit', resolve));
  const connection = new PipeConnection(browser.stdio[3], browser.stdio[4]);
  const started = (async () => {
    const { targetInfos } = await connection.send('Target.getTargets');
    const target = targetInfos.find((t) => t.type === 'page');
    if (!target) throw new Error('Chromium started without a page');
    const { sessionId } = await connection.send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
    return new QuietPage(connection, sessionId);
  })();
  const page = await Promise.race([
    started,
    exited.then((code) => { throw new Error(`Chromium exited (${code}) before it could be driven: ${stderr}`); }),
  ]);
  // The viewport and focus a Playwright page has (lib.mjs's freshBrowser: 1280 × 900), so the
  // two kinds of page draw the same area.
  await page.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  await page.send('Emulation.setFocusEmulationEnabled', { enabled: true });
  // Uncaught errors and rejections, kept by the page itself: no Runtime domain events needed.
  await page.send('Page.addScriptToEvaluateOnNewDocument', {
    source: callExpression(() => {
      window.__pageErrors = [];
      addEventListener('error', (e) => window.__pageErrors.push(`page error: ${e.message}`));
      addEventListener('unhandledrejection', (e) => window.__pageErrors.push(`page error: ${e.reason?.message ?? e.reason}`));
    }),
  });
  const readProblems = () => page.evaluate(() => window.__pageErrors ?? []);
  const context = {
    addInitScript: (fn, arg) => page.send('Page.addScriptToEvaluateOnNewDocument', { source: callExpression(fn, arg) }),
    /** A CDP session on the page: `send(method, params)` and `on(event, handler)`. */
    newCDPSession: async () => ({
      send: (method, params) => page.send(method, params),
      on: (method, handler) => connection.on(method, handler, page.sessionId),
    }),
    readProblems,
    close: async () => {
      await connection.send('Browser.close').catch(() => {});
      const timer = setTimeout(() => browser.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return { context, page };
}
