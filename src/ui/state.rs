//! The app-wide state every page shares, provided once as context by the root component.

use leptos::prelude::*;

use super::config_form::ConfigForm;
use super::provider_state::ProviderState;

/// Loads the stored state and provides it as context: [`ProviderState`] and [`ConfigForm`].
pub fn provide_app_state() {
    let providers = ProviderState::load();
    provide_context(providers);
    provide_context(ConfigForm::load(providers));
}
