//! Counts of what is stored and exact sums of transaction values by type and currency.
//!
//! PostgreSQL sums NUMERIC exactly. SQLite would turn the TEXT amounts into floats to SUM them,
//! so on SQLite the amounts are streamed out in pages and summed with `rust_decimal` here.
//! Either way the result is normalised (no trailing zeros) so that both backends produce
//! byte-identical JSON.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::runs::unsigned;
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// What the database holds, in numbers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub activities: u64,
    pub transactions: u64,
    pub budgets: u64,
    pub organisations: u64,
    /// By transaction type, then currency; see [`TransactionSum`].
    pub transaction_sums: Vec<TransactionSum>,
}

/// The transactions of one type in one currency: how many, and the exact sum of those that
/// have a value (a transaction without one counts but adds nothing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionSum {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub currency: Option<String>,
    pub count: u64,
    #[serde(with = "decimal_string")]
    pub sum: Decimal,
}

/// Rows per page when SQLite amounts are streamed out to be summed.
const SUM_PAGE: i64 = 50_000;

impl Store {
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let counts: (i64, i64, i64, i64) = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM activity), (SELECT COUNT(*) FROM \"transaction\"), \
                 (SELECT COUNT(*) FROM budget), (SELECT COUNT(*) FROM organisation)",
            )
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::query("counting stored records"))?;
        let mut transaction_sums = match &self.pool {
            Pool::Sqlite(pool) => sqlite_transaction_sums(pool).await?,
            Pool::Postgres(pool) => postgres_transaction_sums(pool).await?,
        };
        // Sorted here, not by ORDER BY, because the backends order NULLs and text differently.
        // Types sort as numbers ("2" before "10"), unknown types first.
        transaction_sums.sort_by(|a, b| {
            let key = |sum: &TransactionSum| {
                (
                    sum.kind
                        .as_deref()
                        .and_then(|kind| kind.parse::<u32>().ok()),
                    sum.kind.clone(),
                    sum.currency.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(Stats {
            activities: unsigned(counts.0),
            transactions: unsigned(counts.1),
            budgets: unsigned(counts.2),
            organisations: unsigned(counts.3),
            transaction_sums,
        })
    }
}

type SumKey = (Option<String>, Option<String>);
/// id, type, currency and value of one transaction.
type AmountRow = (i64, Option<String>, Option<String>, Option<String>);
/// type, currency, count and sum (as text) of one group.
type SumRow = (Option<String>, Option<String>, i64, Option<String>);

async fn sqlite_transaction_sums(
    pool: &sqlx::SqlitePool,
) -> Result<Vec<TransactionSum>, StoreError> {
    let operation = "summing transaction values";
    let mut groups: BTreeMap<SumKey, (u64, Decimal)> = BTreeMap::new();
    let mut after_id = 0_i64;
    // Keyset pages keep memory flat however many transactions there are.
    loop {
        let page: Vec<AmountRow> = sqlx::query_as(
            "SELECT id, type, currency, value FROM \"transaction\" WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(SUM_PAGE)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query(operation))?;
        let Some(last) = page.last() else { break };
        after_id = last.0;
        let full_page = page.len() as i64 == SUM_PAGE;
        for (_, kind, currency, value) in page {
            let group = groups.entry((kind, currency)).or_default();
            group.0 += 1;
            if let Some(value) = value {
                let amount = parse_decimal(&value, operation)?;
                group.1 =
                    group
                        .1
                        .checked_add(amount)
                        .ok_or_else(|| StoreError::InvalidStoredValue {
                            operation,
                            detail: "a sum of transaction values exceeds 28 significant digits"
                                .to_owned(),
                        })?;
            }
        }
        if !full_page {
            break;
        }
    }
    Ok(groups
        .into_iter()
        .map(|((kind, currency), (count, sum))| TransactionSum {
            kind,
            currency,
            count,
            sum: sum.normalize(),
        })
        .collect())
}

async fn postgres_transaction_sums(pool: &sqlx::PgPool) -> Result<Vec<TransactionSum>, StoreError> {
    let operation = "summing transaction values";
    // NUMERIC comes back as text: the store decodes it with rust_decimal rather than through a
    // sqlx feature, exactly as on SQLite.
    let rows: Vec<SumRow> = sqlx::query_as(
        "SELECT type, currency, COUNT(*), SUM(value)::text FROM \"transaction\" \
         GROUP BY type, currency",
    )
    .fetch_all(pool)
    .await
    .map_err(StoreError::query(operation))?;
    rows.into_iter()
        .map(|(kind, currency, count, sum)| {
            let sum = match sum {
                Some(sum) => parse_decimal(&sum, operation)?,
                None => Decimal::ZERO,
            };
            Ok(TransactionSum {
                kind,
                currency,
                count: unsigned(count),
                sum: sum.normalize(),
            })
        })
        .collect()
}

pub(crate) fn parse_decimal(text: &str, operation: &'static str) -> Result<Decimal, StoreError> {
    text.parse::<Decimal>()
        .map_err(|error| StoreError::InvalidStoredValue {
            operation,
            detail: format!("{text:?} is not an exact decimal: {error}"),
        })
}

/// Serialises a decimal as its exact string, such as `"123.45"`, never as a JSON number that a
/// reader might take for a float.
mod decimal_string {
    use rust_decimal::Decimal;

    pub fn serialize<S: serde::Serializer>(
        value: &Decimal,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.normalize())
    }
}
