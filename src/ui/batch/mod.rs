//! Batches in the page: datasets (import, mapping, storage), choosing problems, running many of
//! them with core's scheduler over the run store, progress, results and exports. One concept
//! per module; the page itself is [`crate::ui::pages::batch`].

pub mod batch_forecast;
pub mod chart;
pub mod dataset_panel;
pub mod derive;
pub mod export;
pub mod list;
pub mod results_view;
pub mod rounds;
pub mod session;
pub mod start_panel;
pub mod startup;
pub mod throttle;
pub mod view;
