//! The Leptos application.

pub mod app;
