//! The GitHub Actions runner contract and nothing else: inputs, outputs, job summary,
//! workflow commands and the triggering event. Only this module reads `std::env`
//! (through [`env::RunnerEnv`]); everything else receives values.

pub mod commands;
pub mod env;
pub mod event;
pub mod inputs;
pub mod outputs;
pub mod summary;
