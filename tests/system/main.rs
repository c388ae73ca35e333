//! System tests: the real binary, real podman (rootful and rootless as the
//! test user), the local test images. Every test is ignored by default so a
//! plain `cargo test` needs no podman; CI runs them with `--ignored` after
//! tests/env has set the machine up, and there a missing podman fails.

#![allow(clippy::disallowed_methods)]

mod acceptance;
mod cross_arch;
mod harness;
mod native;
mod reliability;
