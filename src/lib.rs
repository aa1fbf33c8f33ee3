//! The citizen app: a client-side Leptos app. `main.rs` mounts [`App`]; tests mount components.

pub mod accounts;
pub mod api;
pub mod app;
pub mod apply;
pub mod cabinet;
pub mod catalogue;
pub mod components;
pub mod format;
pub mod forms;
pub mod home;
pub mod i18n;
pub mod live;
pub mod ncalayer;
pub mod not_found;
pub mod session;

pub use app::App;
