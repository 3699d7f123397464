// Where the wasm's bytes go: code bytes per crate (from the name section), and the data section.
// For a wasm that still has its names, e.g. the linker's output before wasm-bindgen and wasm-opt:
//
//   node bench/wasm_sizes.mjs target/wasm32-unknown-unknown/release/trialogue.wasm [top] [crate]
//
// With a crate name, that crate's code is split by module (its first three path segments).
// What joined or left a module between two builds, function by function:
//
//   node bench/wasm_sizes.mjs --diff BEFORE.wasm AFTER.wasm [top]
//
// For the first load, compare the main modules wasm-split-cli cut, which keep their names
// (scripts/split-wasm keeps them in TRIALOGUE_KEEP_SPLIT when that names a folder).
// Shares carry over roughly to the optimized file; absolute numbers do not.
import { readFile } from 'node:fs/promises';

/** Reads an unsigned LEB128 at `pos`; returns [value, next position]. */
export function uleb(bytes, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos];
    if (b === undefined) throw new Error(`LEB128 runs past the end at byte ${pos}`);
    pos += 1;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/** The sections of a wasm module: { id, name (custom sections), start, end }. */
export function sections(bytes) {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module (no \\0asm header)');
  const out = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = uleb(bytes, pos + 1);
    const section = { id, start, end: start + size };
    if (id === 0) {
      const [len, at] = uleb(bytes, start);
      section.name = bytes.toString('utf8', at, at + len);
    }
    out.push(section);
    pos = start + size;
  }
  return out;
}

const ESCAPES = [
  ['$LT$', '<'], ['$GT$', '>'], ['$u20$', ' '], ['$RF$', '&'], ['$BP$', '*'], ['$LP$', '('],
  ['$RP$', ')'], ['$C$', ','], ['$u7b$', '{'], ['$u7d$', '}'], ['$u3b$', ';'], ['$u5b$', '['],
  ['$u5d$', ']'], ['$u27$', "'"], ['$SP$', '@'], ['..', '::'],
];

/**
 * Reads a Rust symbol as a path: legacy mangling (`_ZN4core3fmt5write17h…E`, and the
 * `$LT$`-style escapes linkers leave in half-demangled names) becomes `core::fmt::write`; for
 * v0 mangling (`_RNv…`) only the crate is recovered, as `crate::…`.
 */
export function demangle(name) {
  let text = name;
  if (text.startsWith('_ZN')) {
    const parts = [];
    let pos = 3;
    while (pos < text.length && text[pos] !== 'E') {
      const m = /^\d+/.exec(text.slice(pos));
      if (!m) break;
      const len = Number(m[0]);
      pos += m[0].length;
      parts.push(text.slice(pos, pos + len));
      pos += len;
    }
    if (parts.length && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
    text = parts.join('::');
  } else if (text.startsWith('_R')) {
    const m = /C(?:s[0-9A-Za-z]*_)?(\d+)/.exec(text);
    if (m) {
      const at = m.index + m[0].length;
      return `${text.slice(at, at + Number(m[1]))}::…`;
    }
  }
  text = text.replace(/^_\$/, '$');
  for (const [from, to] of ESCAPES) text = text.split(from).join(to);
  return text.replace(/::h[0-9a-f]{16}$/, '');
}

/** The first `depth` segments of a function's path (`trialogue::ui::batch`), or null. */
export function moduleOf(name, depth = 3) {
  const bare = demangle(name).replace(/^(?:[<&(\[]|mut |dyn |impl )+/, '');
  const m = /^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*/.exec(bare);
  return m ? m[0].split('::').slice(0, depth).join('::') : null;
}

/**
 * The crate a function belongs to: the first path segment, past `<`, `&`, `mut `, `dyn ` and
 * tuples; for `<T as Trait>` with a bare type parameter, the trait's crate.
 */
export function crateOf(name) {
  let bare = demangle(name);
  for (let i = 0; i < 4; i += 1) {
    bare = bare.replace(/^(?:[<&(\[]|mut |dyn |impl |\*const |\*mut )+/, '');
    const m = /^[A-Za-z_][A-Za-z0-9_]*(?=::)/.exec(bare);
    if (m) return m[0];
    const as = bare.indexOf(' as ');
    if (as === -1) break;
    bare = bare.slice(as + 4);
  }
  return '(other)';
}

/** Code bytes per crate, the data section's bytes, and the file size. */
export function breakdown(bytes, splitCrate = null) {
  const all = sections(bytes);
  let imported = 0;
  const imports = all.find((s) => s.id === 2);
  if (imports) {
    let [count, pos] = uleb(bytes, imports.start);
    for (let i = 0; i < count; i += 1) {
      for (let k = 0; k < 2; k += 1) { const [len, at] = uleb(bytes, pos); pos = at + len; } // module, field
      const kind = bytes[pos];
      pos += 1;
      if (kind === 0) { imported += 1; [, pos] = uleb(bytes, pos); }
      else if (kind === 1) { pos += 1; const flags = bytes[pos]; [, pos] = uleb(bytes, pos + 1); if (flags & 1) [, pos] = uleb(bytes, pos); }
      else if (kind === 2) { const flags = bytes[pos]; [, pos] = uleb(bytes, pos + 1); if (flags & 1) [, pos] = uleb(bytes, pos); }
      else if (kind === 3) pos += 2;
      else if (kind === 4) { pos += 1; [, pos] = uleb(bytes, pos); }
      else throw new Error(`unknown import kind ${kind}`);
    }
  }
  const names = new Map();
  const nameSection = all.find((s) => s.id === 0 && s.name === 'name');
  if (nameSection) {
    let [len, pos] = uleb(bytes, nameSection.start);
    pos += len;
    while (pos < nameSection.end) {
      const sub = bytes[pos];
      const [size, start] = uleb(bytes, pos + 1);
      if (sub === 1) {
        let [count, p] = uleb(bytes, start);
        for (let i = 0; i < count; i += 1) {
          const [idx, a] = uleb(bytes, p);
          const [n, b] = uleb(bytes, a);
          names.set(idx, bytes.toString('utf8', b, b + n));
          p = b + n;
        }
      }
      pos = start + size;
    }
  }
  const perCrate = new Map();
  const functions = [];
  let code = 0;
  const codeSection = all.find((s) => s.id === 10);
  if (codeSection) {
    let [count, pos] = uleb(bytes, codeSection.start);
    for (let i = 0; i < count; i += 1) {
      const [size, body] = uleb(bytes, pos);
      const total = body + size - pos;
      const name = names.get(imported + i);
      functions.push([name ? demangle(name) : `(function ${imported + i})`, total]);
      let crate = name ? crateOf(name) : '(unnamed)';
      if (splitCrate && crate === splitCrate) crate = moduleOf(name) ?? crate;
      perCrate.set(crate, (perCrate.get(crate) ?? 0) + total);
      code += total;
      pos = body + size;
    }
  }
  const data = all.filter((s) => s.id === 11).reduce((n, s) => n + (s.end - s.start), 0);
  const custom = all.filter((s) => s.id === 0).reduce((n, s) => n + (s.end - s.start), 0);
  return { file: bytes.length, code, data, custom, named: names.size, names, functions, perCrate: [...perCrate].sort((a, b) => b[1] - a[1]) };
}

/**
 * What changed in code between two builds' function lists (`breakdown(...).functions`), by
 * demangled name with the hash dropped: functions only in `after`, only in `before`, and in both
 * with another size, each as [name, bytes before, bytes after], largest change first. Names a
 * build repeats (generic copies) are summed.
 */
export function functionDiff(before, after) {
  const sum = (list) => list.reduce((m, [name, n]) => m.set(name, (m.get(name) ?? 0) + n), new Map());
  const [b, a] = [sum(before), sum(after)];
  const out = [];
  for (const name of new Set([...b.keys(), ...a.keys()])) {
    const [was, now] = [b.get(name) ?? 0, a.get(name) ?? 0];
    if (was !== now) out.push([name, was, now]);
  }
  return out.sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]) || x[0].localeCompare(y[0]));
}

async function diffMain(beforePath, afterPath, top) {
  const [before, after] = [breakdown(await readFile(beforePath)), breakdown(await readFile(afterPath))];
  const changes = functionDiff(before.functions, after.functions);
  const net = changes.reduce((n, [, was, now]) => n + now - was, 0);
  console.log(`code ${before.code} → ${after.code} bytes (${net >= 0 ? '+' : ''}${net} over ${changes.length} functions); data ${before.data} → ${after.data}`);
  console.log('| function | before | after | change |\n|---|---|---|---|');
  for (const [name, was, now] of changes.slice(0, top)) console.log(`| ${name.replace(/\|/g, '\\|')} | ${was} | ${now} | ${now - was >= 0 ? '+' : ''}${now - was} |`);
}

async function main() {
  if (process.argv[2] === '--diff') {
    const [, before, after, top = '40'] = process.argv.slice(2);
    if (!after) throw new Error('usage: node bench/wasm_sizes.mjs --diff BEFORE.wasm AFTER.wasm [top]');
    return diffMain(before, after, Number(top));
  }
  const [path, top = '25', crate = null] = process.argv.slice(2);
  if (!path) throw new Error('usage: node bench/wasm_sizes.mjs FILE.wasm [top] [crate]');
  const b = breakdown(await readFile(path), crate);
  const pct = (n) => `${((100 * n) / b.code).toFixed(1)} %`;
  console.log(`${path}: ${b.file} bytes; code ${b.code}, data ${b.data}, custom sections ${b.custom}; ${b.named} function names`);
  console.log(`| ${crate ? 'crate or module' : 'crate'} | code bytes | share of code |\n|---|---|---|`);
  for (const [crate, n] of b.perCrate.slice(0, Number(top))) console.log(`| ${crate} | ${n} | ${pct(n)} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(`wasm_sizes: ${e.message}`); process.exit(1); });
}
