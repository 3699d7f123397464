//! Spending in the UI: the price settings ([`pricing_settings`]), the cost facts of stored
//! steps read lazily ([`facts`]), a run's costs on its page ([`run_panel`]) and its budget
//! ([`budget`]), and what may have been billed beyond it ([`unaccounted`]). The Costs page itself is `ui::pages::costs`; the prices every page and run
//! uses are [`crate::ui::prices`]; what these show is computed in [`crate::app::costs`].

pub mod budget;
pub mod facts;
pub mod pricing_settings;
pub mod rollups;
pub mod run_panel;
pub mod unaccounted;
