//! Coopfolio's domain: codelists, money and identifiers. Nothing here touches a database or the network;
//! the one piece of I/O is reading a directory of codelist files (`Codelists::read_dir`), which the
//! `codelists update` command needs and which belongs with the codelist parser.

#![forbid(unsafe_code)]

pub mod codelists;
pub mod country;
pub mod modality;
pub mod partner_group;
pub mod partnership;
pub mod period;
pub mod policy_area;
pub mod rates;
pub mod reference;
pub mod rollup;
pub mod value;
