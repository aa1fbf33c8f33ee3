//! API tests: the real router, in-process, with a fresh database per test: SQLite, or
//! PostgreSQL when `PORTAL_TEST_POSTGRES_URL` names a server (`scripts/with-postgres`).

mod accounts;
mod administration;
mod applications;
mod catalogue;
mod crash;
mod first_grade;
mod health;
mod helpers;
mod instances;
mod openapi;
mod signing;
mod static_files;
mod workflow;
