//! The portal's backend: the JSON API under `/api` and the built citizen app, over SQLite by
//! default or PostgreSQL (several instances). Each feature owns its routes and types in its own
//! module; `app` assembles them.

pub mod accounts;
pub mod app;
pub mod applications;
pub mod attachments;
pub mod blobs;
pub mod cache;
pub mod calendar;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod first_grade;
pub mod health;
pub mod lang;
pub mod notifications;
pub mod openapi;
pub mod organisations;
pub mod pdf;
pub mod population;
pub mod security;
pub mod signing;
pub mod static_files;
pub mod workflow;

pub use app::{AppState, build_state, router, serve};
pub use config::Config;
