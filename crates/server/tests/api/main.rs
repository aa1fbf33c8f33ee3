//! API tests: the real router, in-process, with a fresh SQLite database per test.

mod accounts;
mod administration;
mod applications;
mod catalogue;
mod crash;
mod first_grade;
mod health;
mod helpers;
mod openapi;
mod signing;
mod static_files;
mod workflow;
