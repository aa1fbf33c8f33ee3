//! The portal's rules, shared by the browser and the server.
//!
//! Nothing here does I/O or depends on a framework: validated types (the IIN, dates), the
//! service-definition schema and the catalogue search compile for wasm32 and for the server, so
//! a rule is written once and both sides apply it the same way.

pub mod api;
pub mod catalogue;
pub mod date;
pub mod iin;
pub mod service;
pub mod text;

pub use portal_i18n::{Lang, Msg};
