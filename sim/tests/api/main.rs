//! HTTP-level tests of close-sim: one test binary, one module per behaviour.

mod auth;
mod binary;
mod common;
mod events;
mod faults;
mod generate;
mod lead_index;
mod leads;
mod lists;
mod more_of_close;
mod mutate;
mod opportunities;
mod params;
mod replay;
mod schedule;
mod tasks;
mod threads;
mod throttle;
mod users;
