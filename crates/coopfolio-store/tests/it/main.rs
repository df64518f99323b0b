//! The store's integration tests, one binary (see STYLE.md): the story of a store's life on each
//! backend, and what an abandoned or killed import leaves behind.

mod api;
mod crash;
mod entities;
mod figures;
mod inquiry;
mod map;
mod records;
mod search;
mod session;
mod staff;
mod staff_ops;
mod staff_projects;
mod staff_settings;
mod story;
mod support;
