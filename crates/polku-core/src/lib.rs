//! Polku core: the domain model of outreach youth work (etsivä nuorisotyö),
//! national and organisation code lists, the mapping of the model to Automerge
//! documents, validation for reporting and the rights matrix.
//!
//! Pure: no database, no async runtime, no clock. Functions that need the
//! time take it as an argument.

pub mod anonymised;
pub mod codes;
pub mod doc;
pub mod heads;
pub mod ids;
pub mod limits;
pub mod model;
pub mod password;
pub mod rights;
pub mod validate;

pub use ids::*;

#[cfg(test)]
mod testing;
