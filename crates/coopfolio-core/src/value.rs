//! IATI scalar values checked at the edge: amounts, percentages, dates and currency codes.

use rust_decimal::Decimal;

/// Why a value was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ValueError {
    #[error("'{0}' is not a number")]
    NotANumber(String),
}

/// Parse an IATI xsd:decimal amount exactly.
pub fn parse_amount(_text: &str) -> Result<Decimal, ValueError> {
    todo!()
}

/// Parse a percentage, 0..=100 inclusive.
pub fn parse_percentage(_text: &str) -> Result<Decimal, ValueError> {
    todo!()
}

/// Validate an xsd:date and return the normalised "YYYY-MM-DD".
pub fn parse_iso_date(_text: &str) -> Result<String, ValueError> {
    todo!()
}

/// A currency code: three ASCII letters, upper-cased on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(_text: &str) -> Result<Self, ValueError> {
        todo!()
    }

    pub fn as_str(&self) -> &str {
        todo!()
    }
}
