//! The store's integration tests, one binary (see STYLE.md): the story of a store's life on each
//! backend, and what an abandoned import leaves behind.

mod session;
mod story;
mod support;
