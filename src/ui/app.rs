//! The application shell: header, navigation and the routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use super::batch::startup::provide_batch_state;
use super::components::nav::SiteHeader;
use super::costs::prices::provide_pricing_state;
use super::pages::batch::BatchPage;
use super::pages::configure::ConfigurePage;
use super::pages::costs::CostsPage;
use super::pages::not_found::NotFoundPage;
use super::pages::run::RunPage;
use super::pages::run_detail::RunDetailPage;
use super::pages::runs::RunsPage;
use super::pages::settings::SettingsPage;
use super::run::startup::provide_run_state;
use super::state::provide_app_state;

/// The root component: app-wide state, the header and the routed page.
#[component]
pub fn App() -> impl IntoView {
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
                    <Route path=path!("/run") view=RunPage/>
                    <Route path=path!("/batch") view=BatchPage/>
                    <Route path=path!("/runs") view=RunsPage/>
                    <Route path=path!("/runs/:id") view=RunDetailPage/>
                    <Route path=path!("/costs") view=CostsPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                </Routes>
            </main>
        </Router>
    }
}
