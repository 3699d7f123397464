//! Spending in the UI: the prices in use ([`prices`]) and their settings
//! ([`pricing_settings`]), the cost facts of stored steps read lazily ([`facts`]), a run's
//! costs on its page ([`run_panel`]) and its budget ([`budget`]). The Costs page itself is
//! `ui::pages::costs`; what they show is computed in [`crate::app::costs`].

pub mod budget;
pub mod facts;
pub mod prices;
pub mod pricing_settings;
pub mod run_panel;
