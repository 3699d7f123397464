//! What the Costs page and a run's costs show: chart rows from cost views ([`overview`]), a
//! run's costs by round ([`run_costs`]), and the price form of Settings ([`price_form`]).

pub mod overview;
pub mod price_form;
pub mod run_costs;
