//! Backend dispatch and batched multi-row statements, the two things every store query needs.
//!
//! sqlx's SQLite driver runs each statement as a round trip to its worker thread, so one INSERT
//! per row is about fifty times slower than one INSERT of a hundred rows. The sqlx import path
//! (PostgreSQL, and SQLite databases in memory; a SQLite file is written through rusqlite by
//! `sqlite_import.rs` instead) therefore collects rows per table as [`Rows`], turns them into a
//! few statements with [`plan`] and runs those with [`run`]. Values are held as [`Param`]s so that the code that builds rows
//! is the same for both backends; only [`plan`] knows how each backend takes many rows at once
//! (padded VALUES lists for SQLite, column arrays for PostgreSQL, which also receives exact
//! decimals as text and casts them to NUMERIC).

use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{Database, PgConnection, Postgres, Sqlite, SqliteConnection};

use crate::{Backend, StoreError};

/// Runs the same body once per backend, with `$inner` bound to the backend's own value.
///
/// The body is type-checked twice, once with SQLite types and once with PostgreSQL types, which
/// is what lets one query text serve both drivers.
macro_rules! dispatch {
    ($value:expr, $enum:ident, $inner:ident => $body:expr) => {
        match $value {
            $enum::Sqlite($inner) => $body,
            $enum::Postgres($inner) => $body,
        }
    };
}
pub(crate) use dispatch;

/// A database transaction on either backend.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A borrowed connection on either backend, what statements execute on.
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(transaction) => Conn::Sqlite(transaction),
            Tx::Postgres(transaction) => Conn::Postgres(transaction),
        }
    }
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(connection: &'c mut SqliteConnection) -> Conn<'c> {
        Conn::Sqlite(connection)
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(connection: &'c mut PgConnection) -> Conn<'c> {
        Conn::Postgres(connection)
    }
}

impl Conn<'_> {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Reborrows the connection for one more statement.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(connection) => Conn::Sqlite(connection),
            Conn::Postgres(connection) => Conn::Postgres(connection),
        }
    }
}

/// One bound value. Every variant keeps its SQL type even when NULL, because PostgreSQL
/// rejects a NULL typed as text in a BIGINT column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(Option<String>),
    Integer(Option<i64>),
    Boolean(Option<bool>),
    Blob(Option<Vec<u8>>),
    /// An exact decimal as its canonical string: TEXT in SQLite, NUMERIC in PostgreSQL.
    Decimal(Option<String>),
    /// One column of many rows, as PostgreSQL's bulk INSERTs take them (see [`plan`]).
    Array(ParamArray),
}

/// The values of one column for many rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamArray {
    Text(Vec<Option<String>>),
    Integer(Vec<Option<i64>>),
    Boolean(Vec<Option<bool>>),
    Blob(Vec<Option<Vec<u8>>>),
    Decimal(Vec<Option<String>>),
}

impl ParamArray {
    /// An empty column for values like `param`.
    fn like(param: &Param, capacity: usize) -> ParamArray {
        match param {
            Param::Text(_) => ParamArray::Text(Vec::with_capacity(capacity)),
            Param::Integer(_) => ParamArray::Integer(Vec::with_capacity(capacity)),
            Param::Boolean(_) => ParamArray::Boolean(Vec::with_capacity(capacity)),
            Param::Blob(_) => ParamArray::Blob(Vec::with_capacity(capacity)),
            Param::Decimal(_) => ParamArray::Decimal(Vec::with_capacity(capacity)),
            Param::Array(_) => unreachable!("rows hold single values, never arrays"),
        }
    }

    fn push(&mut self, param: Param) {
        match (self, param) {
            (ParamArray::Text(values), Param::Text(value))
            | (ParamArray::Decimal(values), Param::Decimal(value)) => values.push(value),
            (ParamArray::Integer(values), Param::Integer(value)) => values.push(value),
            (ParamArray::Boolean(values), Param::Boolean(value)) => values.push(value),
            (ParamArray::Blob(values), Param::Blob(value)) => values.push(value),
            (array, param) => unreachable!("a column mixes {array:?} and {param:?}"),
        }
    }

    /// The PostgreSQL array type the column is sent as, with the cast to what it stores.
    fn sql_type(&self) -> &'static str {
        match self {
            ParamArray::Text(_) => "text[]",
            ParamArray::Integer(_) => "int8[]",
            ParamArray::Boolean(_) => "bool[]",
            ParamArray::Blob(_) => "bytea[]",
            ParamArray::Decimal(_) => "text[]::numeric[]",
        }
    }
}

impl Param {
    pub(crate) fn text(value: impl Into<String>) -> Param {
        Param::Text(Some(value.into()))
    }

    pub(crate) fn decimal(value: Option<rust_decimal::Decimal>) -> Param {
        Param::Decimal(value.map(|decimal| decimal.to_string()))
    }

    /// NULL of the same SQL type.
    fn null_like(&self) -> Param {
        match self {
            Param::Text(_) => Param::Text(None),
            Param::Integer(_) => Param::Integer(None),
            Param::Boolean(_) => Param::Boolean(None),
            Param::Blob(_) => Param::Blob(None),
            Param::Decimal(_) => Param::Decimal(None),
            Param::Array(_) => unreachable!("rows hold single values, never arrays"),
        }
    }
}

/// Rows for one table, flattened: `params.len()` is always a multiple of `columns.len()`.
pub(crate) struct Rows {
    pub(crate) table: &'static str,
    pub(crate) columns: &'static [&'static str],
    pub(crate) params: Vec<Param>,
}

impl Rows {
    pub(crate) fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns,
            params: Vec::new(),
        }
    }

    pub(crate) fn push_row<const N: usize>(&mut self, row: [Param; N]) {
        debug_assert_eq!(N, self.columns.len(), "row width of {}", self.table);
        self.params.extend(row);
    }

    pub(crate) fn len(&self) -> usize {
        self.params.len() / self.columns.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Replaces the value of the first column of every row.
    pub(crate) fn map_first_column(&mut self, mut replace: impl FnMut(Param) -> Param) {
        let width = self.columns.len();
        for param in self.params.iter_mut().step_by(width) {
            *param = replace(std::mem::replace(param, Param::Integer(None)));
        }
    }
}

/// SQL texts already built, by table, statement suffix and row count. Reusing the identical
/// text lets sqlx reuse its prepared statement instead of preparing a new one per batch.
#[derive(Default)]
pub(crate) struct StatementCache {
    texts: HashMap<(&'static str, &'static str, usize), String>,
}

/// The most bind parameters one SQLite statement may carry: SQLITE_MAX_VARIABLE_NUMBER of
/// the bundled SQLite. (PostgreSQL statements carry one array per column.)
const SQLITE_PARAMETER_LIMIT: usize = 32_766;

/// Inserts the rows, as few statements as the parameter limit allows, and returns how many
/// rows were written.
pub(crate) async fn insert(
    conn: Conn<'_>,
    cache: &mut StatementCache,
    rows: Rows,
    operation: &'static str,
) -> Result<u64, StoreError> {
    insert_with(conn, cache, rows, "", operation).await
}

/// Like [`insert`], with `suffix` (an ON CONFLICT clause, say) after the VALUES list.
pub(crate) async fn insert_with(
    conn: Conn<'_>,
    cache: &mut StatementCache,
    rows: Rows,
    suffix: &'static str,
    operation: &'static str,
) -> Result<u64, StoreError> {
    let statements = plan(conn.backend(), cache, rows, suffix);
    run(conn, cache, statements, operation).await
}

/// Inserts the rows with `suffix` (which must end in `RETURNING id, <a text column>`) and
/// returns the pairs the statement returned, in no particular order.
pub(crate) async fn insert_returning(
    conn: Conn<'_>,
    cache: &mut StatementCache,
    rows: Rows,
    suffix: &'static str,
    operation: &'static str,
) -> Result<Vec<(i64, String)>, StoreError> {
    let statements = plan(conn.backend(), cache, rows, suffix);
    run_returning(conn, cache, statements, operation).await
}

/// Runs planned statements in order and returns how many rows they wrote.
///
/// Each statement's parameters are bound while the one before runs: the driver executes on
/// its own thread (SQLite's worker, PostgreSQL's server), so binding overlaps with executing
/// instead of adding to it.
pub(crate) async fn run(
    conn: Conn<'_>,
    cache: &StatementCache,
    statements: Vec<Statement>,
    operation: &'static str,
) -> Result<u64, StoreError> {
    let mut written = 0;
    let mut statements = statements.into_iter();
    dispatch!(conn, Conn, connection => {
        let build = |(key, params): Statement| {
            let mut query = sqlx::query(&cache.texts[&key]);
            for param in params {
                query = bind(query, param);
            }
            query
        };
        let mut next = statements.next().map(build);
        while let Some(query) = next.take() {
            let (done, built) = tokio::join!(query.execute(&mut *connection), async {
                statements.next().map(build)
            });
            written += done.map_err(StoreError::query(operation))?.rows_affected();
            next = built;
        }
    });
    Ok(written)
}

/// Runs planned statements that end in `RETURNING id, <a text column>` and returns the pairs,
/// in no particular order.
pub(crate) async fn run_returning(
    conn: Conn<'_>,
    cache: &StatementCache,
    statements: Vec<Statement>,
    operation: &'static str,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut returned = Vec::new();
    let mut statements = statements.into_iter();
    dispatch!(conn, Conn, connection => {
        let build = |(key, params): Statement| {
            let mut query = sqlx::query_as::<_, (i64, String)>(&cache.texts[&key]);
            for param in params {
                query = query_as_bind(query, param);
            }
            query
        };
        let mut next = statements.next().map(build);
        while let Some(query) = next.take() {
            let (pairs, built) = tokio::join!(query.fetch_all(&mut *connection), async {
                statements.next().map(build)
            });
            returned.extend(pairs.map_err(StoreError::query(operation))?);
            next = built;
        }
    });
    Ok(returned)
}

type StatementKey = (&'static str, &'static str, usize);

/// One statement ready to run: the key of its SQL text in the cache, and its parameters.
pub(crate) type Statement = (StatementKey, Vec<Param>);

/// The most rows one statement carries. Larger statements save little once a round trip is
/// amortised over a few hundred rows, and each prepared one stays in the connection's cache.
const MAX_ROWS_PER_STATEMENT: usize = 256;
/// The fewest row slots a statement has: smaller chunks are padded up to it.
const MIN_ROWS_PER_STATEMENT: usize = 8;

/// Splits the rows into statements, making sure the cache holds the SQL text of each, and
/// returns each statement's key with its parameters.
///
/// Row counts differ from batch to batch, and a statement text for every count would be
/// prepared anew each time (compiling a 200-row INSERT costs about as much as running it).
/// PostgreSQL therefore receives each column as one array, `INSERT ... SELECT * FROM
/// UNNEST($1::int8[], $2::text[], ...)`: one short text per table whatever the row count. SQLite
/// has no arrays, so there a statement has a power-of-two number of row slots, and the slots a
/// chunk does not fill are padded with all-NULL rows that the statement's `WHERE column1 IS NOT
/// NULL` drops; a table thus needs at most six statement texts. This is why the first column
/// of every table written here must never be NULL.
pub(crate) fn plan(
    backend: Backend,
    cache: &mut StatementCache,
    rows: Rows,
    suffix: &'static str,
) -> Vec<Statement> {
    match backend {
        Backend::Sqlite => plan_values(cache, rows, suffix),
        Backend::Postgres => plan_arrays(cache, rows, suffix),
    }
}

/// Rows per PostgreSQL statement: the arrays have no limit, but memory should.
const ROWS_PER_ARRAY_STATEMENT: usize = 4096;

fn plan_arrays(cache: &mut StatementCache, rows: Rows, suffix: &'static str) -> Vec<Statement> {
    let width = rows.columns.len();
    let mut remaining = rows.len();
    let mut params = rows.params.into_iter();
    let mut statements = Vec::new();
    while remaining > 0 {
        let size = remaining.min(ROWS_PER_ARRAY_STATEMENT);
        remaining -= size;
        let mut columns: Vec<ParamArray> = Vec::with_capacity(width);
        for (index, param) in params.by_ref().take(size * width).enumerate() {
            if index < width {
                columns.push(ParamArray::like(&param, size));
            }
            columns[index % width].push(param);
        }
        // Slot count 0 marks the array form in the cache key; its text fits any row count.
        let key = (rows.table, suffix, 0);
        cache
            .texts
            .entry(key)
            .or_insert_with(|| unnest_sql(rows.table, rows.columns, &columns, suffix));
        statements.push((key, columns.into_iter().map(Param::Array).collect()));
    }
    statements
}

/// `INSERT INTO table (columns) SELECT * FROM UNNEST($1::int8[], $2::text[]) AS v suffix`.
fn unnest_sql(table: &str, columns: &[&str], arrays: &[ParamArray], suffix: &str) -> String {
    let mut sql = format!(
        "INSERT INTO {table} ({}) SELECT * FROM UNNEST(",
        columns.join(", ")
    );
    for (index, array) in arrays.iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}::{}", index + 1, array.sql_type());
    }
    sql.push_str(") AS v");
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

/// SQLite's form: multi-row VALUES under the parameter limit, padded to power-of-two slots.
fn plan_values(cache: &mut StatementCache, rows: Rows, suffix: &'static str) -> Vec<Statement> {
    let width = rows.columns.len();
    let rows_per_statement = (SQLITE_PARAMETER_LIMIT / width).min(MAX_ROWS_PER_STATEMENT);
    // The padding row: NULLs typed like the first row's values.
    let padding: Vec<Param> = rows
        .params
        .iter()
        .take(width)
        .map(Param::null_like)
        .collect();
    let mut remaining = rows.len();
    let mut params = rows.params.into_iter();
    let mut statements = Vec::new();
    while remaining > 0 {
        let size = remaining.min(rows_per_statement);
        remaining -= size;
        let slots = size
            .next_power_of_two()
            .max(MIN_ROWS_PER_STATEMENT)
            .min(rows_per_statement);
        let key = (rows.table, suffix, slots);
        cache
            .texts
            .entry(key)
            .or_insert_with(|| insert_sql(rows.table, rows.columns, slots, suffix));
        let mut chunk: Vec<Param> = Vec::with_capacity(slots * width);
        chunk.extend(params.by_ref().take(size * width));
        for _ in size..slots {
            chunk.extend(padding.iter().cloned());
        }
        statements.push((key, chunk));
    }
    statements
}

/// `INSERT INTO table (columns) SELECT * FROM (VALUES (?, ?), (?, ?)) AS v WHERE column1 IS
/// NOT NULL suffix`. SQLite looks up each `$n` placeholder among the names seen so far, which
/// makes preparing a statement of thousands of them quadratic; a bare `?` is just the next one.
fn insert_sql(table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut sql = String::with_capacity(96 + rows * (row.len() + 2));
    let _ = write!(
        sql,
        "INSERT INTO {table} ({}) SELECT * FROM (VALUES {row}",
        columns.join(", ")
    );
    for _ in 1..rows {
        sql.push_str(", ");
        sql.push_str(&row);
    }
    sql.push_str(") AS v WHERE column1 IS NOT NULL");
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

type QueryOf<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;
type QueryAsOf<'q, DB, O> = sqlx::query::QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>;

/// Binds a [`Param`] as each backend takes it: single values for both, column arrays for
/// PostgreSQL alone (SQLite statements are never planned with them).
pub(crate) trait BindParam: Database {
    fn bind_param(query: QueryOf<'_, Self>, param: Param) -> QueryOf<'_, Self>;
    fn bind_param_as<O>(query: QueryAsOf<'_, Self, O>, param: Param) -> QueryAsOf<'_, Self, O>;
}

/// The match shared by both methods of both implementations; `$arrays` handles the arrays.
macro_rules! bind_match {
    ($query:expr, $param:expr, $array:ident => $arrays:expr) => {
        match $param {
            Param::Text(value) | Param::Decimal(value) => $query.bind(value),
            Param::Integer(value) => $query.bind(value),
            Param::Boolean(value) => $query.bind(value),
            Param::Blob(value) => $query.bind(value),
            Param::Array($array) => $arrays,
        }
    };
}

impl BindParam for Sqlite {
    fn bind_param(query: QueryOf<'_, Self>, param: Param) -> QueryOf<'_, Self> {
        bind_match!(query, param, _array => unreachable!("SQLite statements bind no arrays"))
    }

    fn bind_param_as<O>(query: QueryAsOf<'_, Self, O>, param: Param) -> QueryAsOf<'_, Self, O> {
        bind_match!(query, param, _array => unreachable!("SQLite statements bind no arrays"))
    }
}

impl BindParam for Postgres {
    fn bind_param(query: QueryOf<'_, Self>, param: Param) -> QueryOf<'_, Self> {
        bind_match!(query, param, array => match array {
            ParamArray::Text(values) | ParamArray::Decimal(values) => query.bind(values),
            ParamArray::Integer(values) => query.bind(values),
            ParamArray::Boolean(values) => query.bind(values),
            ParamArray::Blob(values) => query.bind(values),
        })
    }

    fn bind_param_as<O>(query: QueryAsOf<'_, Self, O>, param: Param) -> QueryAsOf<'_, Self, O> {
        bind_match!(query, param, array => match array {
            ParamArray::Text(values) | ParamArray::Decimal(values) => query.bind(values),
            ParamArray::Integer(values) => query.bind(values),
            ParamArray::Boolean(values) => query.bind(values),
            ParamArray::Blob(values) => query.bind(values),
        })
    }
}

fn bind<'q, DB: BindParam>(query: QueryOf<'q, DB>, param: Param) -> QueryOf<'q, DB> {
    DB::bind_param(query, param)
}

fn query_as_bind<'q, DB: BindParam, O>(
    query: QueryAsOf<'q, DB, O>,
    param: Param,
) -> QueryAsOf<'q, DB, O> {
    DB::bind_param_as(query, param)
}

/// Placeholders for an IN list of `count` values that are a statement's only parameters:
/// `$1, $2, ...` on PostgreSQL, `?, ?, ...` on SQLite (see [`insert_sql`] for why).
pub(crate) fn placeholders(backend: Backend, count: usize) -> String {
    let mut list = String::with_capacity(count * 5);
    for index in 1..=count {
        if index > 1 {
            list.push_str(", ");
        }
        match backend {
            Backend::Sqlite => list.push('?'),
            Backend::Postgres => {
                let _ = write!(list, "${index}");
            }
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statements_pad_values_and_postgres_ones_unnest_arrays() {
        let mut cache = StatementCache::default();
        let mut rows = Rows::new("budget", &["activity_id", "value"]);
        rows.push_row([Param::Integer(Some(7)), Param::decimal(Some(1.into()))]);
        let statements = plan(Backend::Sqlite, &mut cache, rows, "");
        assert_eq!(
            cache.texts[&statements[0].0],
            "INSERT INTO budget (activity_id, value) SELECT * FROM (VALUES (?, ?), (?, ?), \
             (?, ?), (?, ?), (?, ?), (?, ?), (?, ?), (?, ?)) AS v WHERE column1 IS NOT NULL"
        );

        let mut rows = Rows::new("budget", &["activity_id", "value"]);
        rows.push_row([Param::Integer(Some(7)), Param::decimal(Some(1.into()))]);
        rows.push_row([Param::Integer(Some(8)), Param::Decimal(None)]);
        let statements = plan(Backend::Postgres, &mut cache, rows, "RETURNING id");
        assert_eq!(
            cache.texts[&statements[0].0],
            "INSERT INTO budget (activity_id, value) SELECT * FROM \
             UNNEST($1::int8[], $2::text[]::numeric[]) AS v RETURNING id"
        );
        assert_eq!(
            statements[0].1,
            [
                Param::Array(ParamArray::Integer(vec![Some(7), Some(8)])),
                Param::Array(ParamArray::Decimal(vec![Some("1".to_owned()), None])),
            ]
        );
    }

    #[test]
    fn chunks_are_padded_to_a_few_statement_shapes() {
        let mut cache = StatementCache::default();
        let mut rows = Rows::new("sector", &["activity_id", "code"]);
        for number in 0..300 {
            rows.push_row([Param::Integer(Some(number)), Param::text("16020")]);
        }
        let statements = plan(Backend::Sqlite, &mut cache, rows, "");
        let shapes: Vec<(usize, usize)> = statements
            .iter()
            .map(|((_, _, slots), params)| (*slots, params.len()))
            .collect();
        // 256 rows, then the other 44 in 64 slots, the last 20 of them NULL padding.
        assert_eq!(shapes, [(256, 512), (64, 128)]);
        let padding: Vec<Param> = (0..20)
            .flat_map(|_| [Param::Integer(None), Param::Text(None)])
            .collect();
        assert_eq!(statements[1].1[88..], padding[..]);
    }
}
