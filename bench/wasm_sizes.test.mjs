// Checks of the wasm size breakdown on a module written here byte by byte.
// Run with: node --test bench/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdown, crateOf, demangle, functionDiff, uleb } from './wasm_sizes.mjs';

test('LEB128', () => {
  // 0xE5 0x8E 0x26: 0x65 + 0x0E·2^7 + 0x26·2^14 = 101 + 1,792 + 622,592 = 624,485.
  assert.deepEqual(uleb(Buffer.from([0xe5, 0x8e, 0x26]), 0), [624485, 3]);
  assert.deepEqual(uleb(Buffer.from([0x7f]), 0), [127, 1]);
  assert.throws(() => uleb(Buffer.from([0x80]), 0), /past the end/);
});

test('symbols read as paths and crates', () => {
  assert.equal(demangle('_ZN4core3fmt5write17h0123456789abcdefE'), 'core::fmt::write');
  assert.equal(crateOf('_$LT$tachys..html..Attr$LT$K$GT$$u20$as$u20$core..Foo$GT$::build'), 'tachys');
  // A bare type parameter: the trait's crate.
  assert.equal(crateOf('<T as alloc::string::ToString>::to_string'), 'alloc');
  assert.equal(crateOf('_RNvNtNtCsebHcaeoSrxy_3std6thread7current7current'), 'std');
  assert.equal(crateOf('main'), '(other)');
});

test('code bytes are counted per crate from the name section', () => {
  const name = (idx, text) => [idx, text.length, ...Buffer.from(text)];
  const names = [2, ...name(0, 'core::a'), ...name(1, 'trialogue::ui::x')];
  const nameContent = [4, ...Buffer.from('name'), 1, names.length, ...names];
  const module = Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    1, 4, 1, 0x60, 0, 0, // one type: () -> ()
    3, 3, 2, 0, 0, // two functions of that type
    // Bodies: [size 2: no locals, end] and [size 4: no locals, nop, nop, end]: 3 and 5 bytes
    // with their size bytes; the section is the count byte + 3 + 5 = 9 bytes.
    10, 9, 2, 2, 0, 0x0b, 4, 0, 0x01, 0x01, 0x0b,
    0, nameContent.length, ...nameContent,
  ]);
  const b = breakdown(module);
  assert.equal(b.code, 8);
  assert.equal(b.named, 2);
  assert.deepEqual(b.perCrate, [['trialogue', 5], ['core', 3]]);
  assert.deepEqual(breakdown(module, 'trialogue').perCrate, [['trialogue::ui::x', 5], ['core', 3]]);
  assert.throws(() => breakdown(Buffer.from('not wasm')), /not a wasm module/);
});

test('a function diff lists what joined, left and changed size, largest change first', () => {
  const before = [['a::kept', 10], ['a::grew', 5], ['a::gone', 7], ['g::copy', 3], ['g::copy', 3]];
  const after = [['a::kept', 10], ['a::grew', 9], ['b::new', 20], ['g::copy', 6]];
  // new +20, gone −7, grew +4; kept and the two copies summed (3 + 3 = 6) are unchanged.
  assert.deepEqual(functionDiff(before, after), [['b::new', 0, 20], ['a::gone', 7, 0], ['a::grew', 5, 9]]);
});
