//! The Experiments page's parts: the session that drives an experiment in this tab
//! ([`session`]) and the results it shows ([`results`]).

pub mod compare;
pub mod forecast;
pub mod results;
pub mod rounds;
pub mod run_compare;
pub mod session;
