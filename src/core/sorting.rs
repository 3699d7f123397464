//! Stable sorting through one shared instantiation of the standard library's sort.
//!
//! Every `sort_by` call with its own closure compiles a whole copy of the standard sort into
//! the wasm (`bench/wasm_sizes.mjs` measures what that costs over the app's call sites). These
//! helpers sort a permutation of positions with a comparator
//! behind `&dyn`, so the sort itself is compiled once; only the small reordering step is
//! generic.

use std::cmp::Ordering;

/// Sorts `items` stably by `compare`, as `slice::sort_by` does.
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = sorted_positions(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().map(|i| {
        slots[i]
            .take()
            .expect("a permutation names each position once")
    }));
}

/// Sorts `items` stably by the key `key` gives, as `slice::sort_by_key` does.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// The positions `0..len` in the stable order `compare` gives them.
fn sorted_positions(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        let mut seed = 0x2545_f491_u32;
        for len in [0usize, 1, 2, 3, 17, 64, 257] {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed % 7, i)
                })
                .collect();
            let mut ours = items.clone();
            let mut std_sorted = items.clone();
            sort_by(&mut ours, |a, b| b.0.cmp(&a.0));
            std_sorted.sort_by_key(|item| std::cmp::Reverse(item.0));
            // The second field records the original position, so equality checks stability too.
            assert_eq!(ours, std_sorted, "length {len}");
        }
    }

    #[test]
    fn sort_by_key_keeps_equal_keys_in_their_original_order() {
        let mut words = vec!["pear", "fig", "apple", "kiwi", "plum", "date"];
        sort_by_key(&mut words, |w| w.len());
        assert_eq!(words, ["fig", "pear", "kiwi", "plum", "date", "apple"]);
    }
}
