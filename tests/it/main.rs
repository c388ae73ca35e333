//! Integration tests: the real binary against fake `podman`/`skopeo`
//! scripts on PATH, for exact argv, messages and error paths. No root, no
//! network, no real podman.

#![allow(clippy::disallowed_methods)]

mod common;

mod cli_errors;
mod completion;
mod create;
mod faults;
mod list_rm;
mod man_pages;
mod run;
