#[cfg(target_arch = "wasm32")]
fn main() {
    use trialogue::ui::components::panic_banner;
    panic_banner::install();
    leptos::mount::mount_to_body(trialogue::ui::app::App);
    panic_banner::panic_if_asked();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Trialogue is a browser app: build it with trunk (see README.md).");
}
