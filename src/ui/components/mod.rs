//! Reusable pieces of the pages, one concept per module.

pub mod config_field;
pub mod config_import;
pub mod config_summary;
pub mod figures_table;
pub mod nav;
pub mod notice;
pub mod panic_banner;
pub mod preset_picker;
pub mod provider_card;
pub mod provider_probe;
pub mod reply_store_panel;
pub mod reuse_policy;
pub mod rich_text;
pub mod saved_config_list;
pub mod secret_input;
pub mod storage_panel;
pub mod stream_speed;
