//! Conversion to US dollars as the store does it: with the rates imported into the
//! `exchange_rate` table when one covers the amount's month or year, else with the rates bundled
//! in `coopfolio_core::rates`. A value neither can convert is flagged `no_rate`, never zero.

use coopfolio_core::rates::{Conversion, ExchangeRates};

use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// The rates a conversion may use: the stored ones first, then the bundled ones.
#[derive(Debug, Clone)]
pub struct Converter {
    stored: Option<ExchangeRates>,
}

impl Converter {
    /// A converter with the bundled rates only.
    pub fn bundled_only() -> Converter {
        Converter { stored: None }
    }

    /// Converts with the stored rates when they have one for the month or year, else with the
    /// bundled rates.
    pub fn to_usd(&self, amount: rust_decimal::Decimal, currency: &str, date: &str) -> Conversion {
        if let Some(stored) = &self.stored {
            let conversion = stored.to_usd(amount, currency, date);
            if matches!(conversion, Conversion::Converted { .. }) {
                return conversion;
            }
        }
        ExchangeRates::bundled().to_usd(amount, currency, date)
    }

    /// Where the rates come from, stored first, for a method note.
    pub fn sources(&self) -> Vec<String> {
        let mut sources = Vec::new();
        if let Some(stored) = &self.stored {
            sources.push(stored.source().to_owned());
        }
        sources.push(ExchangeRates::bundled().source().to_owned());
        sources
    }
}

/// One stored rate: units of `currency` per US dollar in `period` ("2022-03" or "2022").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRate {
    pub currency: String,
    pub period: String,
    pub units_per_usd: rust_decimal::Decimal,
    pub source: String,
}

impl Store {
    /// The converter over the rates stored in the database and the bundled ones.
    pub async fn converter(&self) -> Result<Converter, StoreError> {
        let operation = "reading the stored exchange rates";
        let rows: Vec<(String, String, String, String)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT currency, period, CAST(units_per_usd AS TEXT), source FROM exchange_rate \
                 ORDER BY period, currency",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        if rows.is_empty() {
            return Ok(Converter::bundled_only());
        }
        // The stored rows are laid out as the two tables `ExchangeRates::from_csv` reads, so
        // that stored and bundled rates are looked up by one and the same code.
        let mut currencies: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
        currencies.sort_unstable();
        currencies.dedup();
        let mut sources: Vec<&str> = rows.iter().map(|row| row.3.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let header = format!("DATE,{}\n", currencies.join(","));
        let (mut monthly, mut yearly) = (header.clone(), header);
        let mut periods: Vec<&str> = rows.iter().map(|row| row.1.as_str()).collect();
        periods.sort_unstable();
        periods.dedup();
        for period in periods {
            let table = if period.len() == 4 {
                &mut yearly
            } else {
                &mut monthly
            };
            table.push_str(period);
            for currency in &currencies {
                table.push(',');
                if let Some(row) = rows.iter().find(|r| r.1 == period && r.0 == *currency) {
                    table.push_str(&row.2);
                }
            }
            table.push('\n');
        }
        let source = format!("stored rates ({})", sources.join("; "));
        let stored =
            ExchangeRates::from_csv(&monthly, Some(&yearly), &source).map_err(|error| {
                StoreError::InvalidStoredValue {
                    operation,
                    detail: error.to_string(),
                }
            })?;
        Ok(Converter {
            stored: Some(stored),
        })
    }
}
