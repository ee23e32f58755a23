//! The load harness: a load generator that keeps one cookie jar per connection, and the bookkeeping of
//! one run (latencies, errors, the server's peak memory).
#![forbid(unsafe_code)]

pub mod load;
pub mod report;
