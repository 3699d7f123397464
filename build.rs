//! Keeps the linker's relocations in the app's wasm, for `scripts/split-wasm`.
//!
//! The app's pages load lazily (`#[wasm_split]` points in `ui::app`): after the build, the hook
//! `scripts/split-wasm` cuts the wasm into the first page's module and chunks of pages. To
//! know which function calls which, the splitter reads the relocations `wasm-ld` recorded, and
//! the linker keeps them only when asked. Only the app binary asks: tests and the native build
//! are not split.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
    }
}
