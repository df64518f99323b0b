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

/// A cell of a rates file that cannot be read: where and why. Nothing of the file is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RatesFileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads a rates file laid out as `data/rates/usd_to_xxx_by_month.csv`: a header `DATE,AED,...`
/// and one row per month (`2022-03`) or year (`2022`), each cell the units of the currency per
/// US dollar, or empty. Every rate is said to come from `source`.
pub fn parse_rates_csv(text: &str, source: &str) -> Result<Vec<StoredRate>, RatesFileError> {
    let error = |line: usize, column: usize, message: String| RatesFileError {
        line,
        column,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end()));
    let Some((header_line, header)) = lines.find(|(_, line)| !line.trim().is_empty()) else {
        return Err(error(
            1,
            1,
            "the file is empty; expected the header DATE,AED,AFN,...".to_owned(),
        ));
    };
    let mut cells = header.split(',').map(str::trim);
    if cells.next() != Some("DATE") {
        return Err(error(
            header_line,
            1,
            "the header must start with DATE".to_owned(),
        ));
    }
    let mut currencies = Vec::new();
    for (index, cell) in cells.enumerate() {
        let code = coopfolio_core::value::CurrencyCode::parse(cell).map_err(|e| {
            error(
                header_line,
                index + 2,
                format!("'{cell}' is not a currency code: {e}"),
            )
        })?;
        currencies.push(code.as_str().to_owned());
    }
    let mut rates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let mut cells = text.split(',').map(str::trim);
        let period = cells.next().unwrap_or("");
        let is_year = period.len() == 4 && period.bytes().all(|b| b.is_ascii_digit());
        let is_month = period.len() == 7
            && period.as_bytes()[4] == b'-'
            && period[..4].bytes().all(|b| b.is_ascii_digit())
            && matches!(period[5..].parse::<u8>(), Ok(1..=12));
        if !is_year && !is_month {
            return Err(error(
                line,
                1,
                format!("'{period}' is not a month (YYYY-MM) or a year (YYYY)"),
            ));
        }
        if !seen.insert(period.to_owned()) {
            return Err(error(line, 1, format!("{period} is listed twice")));
        }
        for (index, cell) in cells.enumerate() {
            let Some(currency) = currencies.get(index) else {
                return Err(error(
                    line,
                    index + 2,
                    "more cells than currencies in the header".to_owned(),
                ));
            };
            if cell.is_empty() {
                continue;
            }
            let rate = coopfolio_core::value::parse_amount(cell)
                .ok()
                .filter(|rate| *rate > rust_decimal::Decimal::ZERO)
                .ok_or_else(|| {
                    error(
                        line,
                        index + 2,
                        format!("{currency}: '{cell}' is not a positive number"),
                    )
                })?;
            rates.push(StoredRate {
                currency: currency.clone(),
                period: period.to_owned(),
                units_per_usd: rate,
                source: source.to_owned(),
            });
        }
    }
    Ok(rates)
}

impl Store {
    /// Stores rates in one transaction, replacing those of the same currency and period, then
    /// converts the ledger entries that had no rate; returns how many entries were converted.
    pub async fn import_rates(&self, rates: &[StoredRate]) -> Result<u64, StoreError> {
        let operation = "storing exchange rates";
        let sql = crate::partnership::for_backend(
            self.backend(),
            "INSERT INTO exchange_rate (currency, period, units_per_usd, source) \
             VALUES ($1, $2, $3::numeric, $4) ON CONFLICT (currency, period) DO UPDATE \
             SET units_per_usd = excluded.units_per_usd, source = excluded.source",
        );
        dispatch!(&self.pool, Pool, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(operation))?;
            for rate in rates {
                sqlx::query(&sql)
                    .bind(&rate.currency)
                    .bind(&rate.period)
                    .bind(rate.units_per_usd.to_string())
                    .bind(&rate.source)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            }
            tx.commit().await.map_err(StoreError::query(operation))
        })?;
        self.reconvert_ledger().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_cell_is_named_by_line_and_column() {
        let text = "DATE,EUR,XQZ\n2022-01,0.9,2\n2022-02,0.91,abc\n";
        let error = parse_rates_csv(text, "test").unwrap_err();
        assert_eq!((error.line, error.column), (3, 3));
        assert!(error.message.contains("XQZ"), "{error}");
        let rates = parse_rates_csv("DATE,XQZ\n2022,4\n2022-05,,\n", "test");
        assert!(rates.is_err(), "a row longer than the header is refused");
        let rates = parse_rates_csv("DATE,XQZ\n2022,4\n2022-05,\n", "test").unwrap();
        assert_eq!(rates.len(), 1);
        assert_eq!(rates[0].period, "2022");
    }
}
