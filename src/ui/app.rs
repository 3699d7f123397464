//! The application shell: header, navigation and the routes.
//!
//! Only the Configure page, where the app opens, is in the wasm the page loads first. Every
//! other page's code is split off by `scripts/split-wasm` and fetched the first time the page
//! is opened (or a link to it is pointed at, see `preload_page`): the first load is what every
//! visit pays for, and a researcher who only configures and runs never loads the batch or
//! costs code.

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, LazyRoute};

use super::batch::startup::provide_batch_state;
use super::components::nav::SiteHeader;
use super::pages::batch::BatchPage;
use super::pages::configure::ConfigurePage;
use super::pages::costs::CostsPage;
use super::pages::experiments::ExperimentsPage;
use super::pages::not_found::NotFoundPage;
use super::pages::run::RunPage;
use super::pages::run_detail::RunDetailPage;
use super::pages::runs::RunsPage;
use super::pages::settings::SettingsPage;
use super::pages::training::TrainingPage;
use super::prices::provide_pricing_state;
use super::run::startup::provide_run_state;
use super::state::provide_app_state;
use super::store::provide_store;

/// The root component: app-wide state, the header and the routed page.
///
/// Run and batch state live here, above the routes, so a run or a batch goes on while the
/// researcher looks at other pages.
#[component]
pub fn App() -> impl IntoView {
    provide_store();
    provide_app_state();
    provide_run_state();
    provide_batch_state();
    provide_pricing_state();
    view! {
        <Router>
            <a class="skip-link" href="#content">"Skip to content"</a>
            <SiteHeader/>
            <main id="content" class="page" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=ConfigurePage/>
                    <Route path=path!("/configure") view=ConfigurePage/>
                    <Route path=path!("/run") view={Lazy::<RunRoute>::new()}/>
                    <Route path=path!("/batch") view={Lazy::<BatchRoute>::new()}/>
                    <Route path=path!("/batch/:id") view={Lazy::<BatchRoute>::new()}/>
                    <Route path=path!("/runs") view={Lazy::<RunsRoute>::new()}/>
                    <Route path=path!("/runs/:id") view={Lazy::<RunDetailRoute>::new()}/>
                    <Route path=path!("/costs") view={Lazy::<CostsRoute>::new()}/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("/training") view={Lazy::<TrainingRoute>::new()}/>
                    <Route path=path!("/experiments") view={Lazy::<ExperimentsRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}

/// Starts fetching the code of the page at `href` (a path of this app), if it is split off
/// and not loaded yet; a failure is left for the navigation itself to report.
pub fn preload_page(href: &str) {
    let href = href.to_owned();
    leptos::task::spawn_local(async move {
        match href.as_str() {
            "/run" => RunRoute::preload().await,
            "/batch" => BatchRoute::preload().await,
            "/runs" => RunsRoute::preload().await,
            "/costs" => CostsRoute::preload().await,
            "/settings" => SettingsRoute::preload().await,
            "/training" => TrainingRoute::preload().await,
            "/experiments" => ExperimentsRoute::preload().await,
            _ => {}
        }
    });
}

/// A page whose code is split off into `$chunk`: `$load` fetches the chunk (once) and builds
/// the page.
///
/// The split is `fallible`: when the chunk cannot be fetched (the server went away, the
/// connection dropped), the page says so instead of the wasm aborting, which would end every
/// run and batch in progress. The loader keeps no failure, so opening the page again retries.
macro_rules! split_page {
    ($chunk:ident, $route:ident, $load:ident, $preload:ident, $page:ident, $name:literal) => {
        struct $route;

        #[wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, preload($preload), fallible)]
        fn $load() -> Result<AnyView, SplitLoaderError> {
            Ok(view! { <$page/> }.into_any())
        }

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                match $load().await {
                    Ok(page) => page,
                    Err(_) => view! { <PageLoadFailed page=$name/> }.into_any(),
                }
            }

            async fn preload() {
                // A failed preload costs nothing: the navigation loads again and reports.
                let _ = $preload().await;
            }
        }
    };
}

// Pages opened together share a chunk: a page split into many small chunks waits on each
// fetch in turn before it can draw (bench/RESULTS.md has the split's measured cost).
split_page! { runs_chunk, RunRoute, run_page, preload_run, RunPage, "Run" }
split_page! { runs_chunk, RunsRoute, runs_page, preload_runs, RunsPage, "Runs" }
split_page! { runs_chunk, RunDetailRoute, run_detail_page, preload_run_detail, RunDetailPage, "Run" }
split_page! { batch_chunk, BatchRoute, batch_page, preload_batch, BatchPage, "Batch" }
split_page! { costs_chunk, CostsRoute, costs_page, preload_costs, CostsPage, "Costs" }
split_page! { costs_chunk, SettingsRoute, settings_page, preload_settings, SettingsPage, "Settings" }
split_page! { experiments_chunk, ExperimentsRoute, experiments_page, preload_experiments, ExperimentsPage, "Experiments" }
split_page! { training_chunk, TrainingRoute, training_page, preload_training, TrainingPage, "Training data" }

/// Shown in place of a page whose code could not be fetched.
#[component]
fn PageLoadFailed(page: &'static str) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>{page}</h1>
        </div>
        <p class="msg msg-error" role="alert" data-testid="page-load-error">
            "The code of the " {page} " page could not be loaded: the server Trialogue is served "
            "from did not answer. Runs and batches in progress go on. Check the connection, then "
            "open the page again."
        </p>
    }
}
