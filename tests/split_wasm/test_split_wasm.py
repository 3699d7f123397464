"""scripts/split-wasm's merging of shared chunks: the plan, the merged module, the loader.

Needs binaryen's wasm-as and wasm-merge and node on PATH (`source scripts/env.sh`).
"""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
_loader = importlib.machinery.SourceFileLoader("split_wasm", os.path.join(ROOT, "scripts", "split-wasm"))
_spec = importlib.util.spec_from_loader("split_wasm", _loader)
split_wasm = importlib.util.module_from_spec(_spec)
_loader.exec_module(split_wasm)

KB = 1024


def chunk_wat(address: int, text: str, slot: int, value: int) -> str:
    """A chunk shaped as wasm-split-cli cuts them: imports only, data and a table entry at fixed
    offsets, a function that returns `value` plus the shared global."""
    return f"""(module
 (import "__wasm_split" "memory" (memory 1))
 (import "__wasm_split" "__indirect_function_table" (table 8 funcref))
 (import "__wasm_split" "__wasm_split_shared0" (global $g (mut i32)))
 (data (i32.const {address}) "{text}")
 (elem (i32.const {slot}) $f)
 (func $f (result i32) (i32.add (global.get $g) (i32.const {value}))))
"""


LOADER = """/* a, b */
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.wasm", import.meta.url));
}
, []);
/* a, b, c */
const __chunk_2 = makeLoad(() => {
    const src = fetch(new URL("./chunk_2.wasm", import.meta.url));
}
, []);
/* a */
const __chunk_3 = makeLoad(() => {
    const src = fetch(new URL("./chunk_3.wasm", import.meta.url));
}
, []);
export const __wasm_split_load_a = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_a.wasm", import.meta.url));
}
, [__chunk_1, __chunk_2, __chunk_3]));
export const __wasm_split_load_b = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_b.wasm", import.meta.url));
}
, [__chunk_1, __chunk_2]));
export const __wasm_split_load_c = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_c.wasm", import.meta.url));
}
, [__chunk_2]));
"""

# Instantiates a module against one memory, table and global, as the loader does, and reports
# what its data and table entries left there.
INSTANTIATE = """
const bytes = require('fs').readFileSync(process.argv[1]);
const memory = new WebAssembly.Memory({ initial: 1 });
const table = new WebAssembly.Table({ initial: 8, element: 'anyfunc' });
const shared = new WebAssembly.Global({ value: 'i32', mutable: true }, 100);
WebAssembly.instantiate(bytes, { __wasm_split: {
  memory, __indirect_function_table: table, __wasm_split_shared0: shared } }).then(() => {
  const text = (at, n) => Buffer.from(memory.buffer, at, n).toString();
  const slots = [];
  for (let i = 0; i < 8; i += 1) slots.push(table.get(i) ? table.get(i)() : null);
  console.log(JSON.stringify({ a: text(16, 5), b: text(64, 5), slots }));
});
"""


class MergePlan(unittest.TestCase):
    def test_small_chunks_loaded_by_the_same_pages_merge(self):
        groups = split_wasm.merge_plan({"x": 300, "y": 500}, {"x": {"a", "b"}, "y": {"a", "b"}})
        self.assertEqual([sorted(g) for g in groups], [["x", "y"]])

    def test_a_large_chunk_is_not_pushed_onto_pages_that_do_not_need_it(self):
        groups = split_wasm.merge_plan({"big": 200 * KB, "small": 300},
                                       {"big": {"a", "b"}, "small": {"a", "b", "c"}})
        self.assertEqual(sorted(sorted(g) for g in groups), [["big"], ["small"]])

    def test_a_small_chunk_joins_one_its_pages_load_when_the_fetch_saved_outweighs_it(self):
        # c loads 300 B it does not need; a and b each save a fetch.
        groups = split_wasm.merge_plan({"big": 200 * KB, "small": 300},
                                       {"big": {"a", "b", "c"}, "small": {"a", "b"}})
        self.assertEqual([sorted(g) for g in groups], [["big", "small"]])

    def test_every_chunk_is_in_exactly_one_group(self):
        sizes = {f"c{n}": (n * 7919) % 50_000 for n in range(30)}
        users = {f"c{n}": {p for p in "abcdefg" if (n >> "abcdefg".index(p)) & 1} | {"a"}
                 for n in range(30)}
        groups = split_wasm.merge_plan(sizes, users)
        self.assertEqual(sorted(c for g in groups for c in g), sorted(sizes))


class MergeSharedChunks(unittest.TestCase):
    def test_merged_chunks_share_one_memory_and_table_and_the_loader_fetches_the_merged_one(self):
        with tempfile.TemporaryDirectory() as work:
            chunks = {"chunk_1": chunk_wat(16, "first", 2, 1), "chunk_2": chunk_wat(64, "other", 5, 2),
                      "chunk_3": chunk_wat(128, "third", 6, 3)}
            for name, wat in chunks.items():
                source = os.path.join(work, name + ".wat")
                with open(source, "w") as f:
                    f.write(wat)
                subprocess.run(["wasm-as", source, "-o", os.path.join(work, name + ".wasm")],
                               check=True)
                os.remove(source)
            with open(os.path.join(work, "__wasm_split.js"), "w") as f:
                f.write(LOADER)

            split_wasm.merge_shared_chunks(work)

            # Three tiny chunks, each page but c needing more than one: all merge into the first.
            self.assertEqual(sorted(f for f in os.listdir(work) if f.endswith(".wasm")),
                             ["chunk_1.wasm"])
            with open(os.path.join(work, "__wasm_split.js")) as f:
                loader = f.read()
            self.assertNotIn("chunk_2", loader)
            self.assertNotIn("chunk_3", loader)
            self.assertIn("/* a, b, c */\nconst __chunk_1 = makeLoad", loader)
            self.assertEqual(loader.count(", [__chunk_1]));"), 3)

            with open(os.path.join(work, "chunk_1.wasm"), "rb") as f:
                parts = split_wasm.sections(f.read())
            imports = [e for i, p in parts if i == 2 for e in split_wasm.import_entries(p)]
            self.assertEqual(sorted((m, n) for m, n, _, _ in imports),
                             [("__wasm_split", "__indirect_function_table"),
                              ("__wasm_split", "__wasm_split_shared0"),
                              ("__wasm_split", "memory")])
            self.assertFalse([p for i, p in parts if i == 7])
            ran = subprocess.run(["node", "-e", INSTANTIATE, os.path.join(work, "chunk_1.wasm")],
                                 check=True, capture_output=True, text=True)
            self.assertEqual(json.loads(ran.stdout), {
                "a": "first", "b": "other",
                "slots": [None, None, 101, None, None, 102, 103, None]})


if __name__ == "__main__":
    unittest.main()
