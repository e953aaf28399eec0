//! One module per command group; each holds its clap structs and their `run` methods,
//! which stay thin: parse into the library's types, call the library, hand the result to
//! the [`Shell`](crate::output::Shell).

pub(crate) mod devnet;
