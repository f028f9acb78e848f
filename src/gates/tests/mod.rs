//! Tests gate (placeholder while being written).

pub mod locate;
pub mod model;
pub mod parse;
