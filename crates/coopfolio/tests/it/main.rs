//! End-to-end tests of the `coopfolio` program: the real binary, run as a user runs it, against
//! a fresh SQLite database always and a fresh PostgreSQL database when
//! `COOPFOLIO_TEST_POSTGRES_URL` is set.

mod bad_input;
mod codelists;
mod export;
mod figures;
mod interrupted;
mod real_files;
mod rollups;
mod rules_suite;
mod schema_suite;
mod serve;
mod support;
mod tokens;
mod user_links;
mod workspace_projects;
