//! Tests of close-sim's fake GCS against the real object_store 0.14 GCS client (and, for what object_store
//! cannot show, raw HTTP): one test binary, one module per behaviour.

mod common;
mod conformance;
mod http;
mod list;
mod multipart;
mod objects;
mod writes;
