//! HTTP-level tests of close-sim: one test binary, one module per behaviour.

mod auth;
mod binary;
mod common;
mod events;
mod generate;
mod leads;
mod lists;
mod mutate;
mod throttle;
