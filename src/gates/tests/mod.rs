//! Tests gate (placeholder while being written).

pub mod model;
pub mod parse;
