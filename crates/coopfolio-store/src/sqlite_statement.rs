//! Prepared INSERT statements for the SQLite import writer that bind text and blobs without
//! copying them, and the one connection setting rusqlite has no call for: with `writeback.rs`,
//! the store's only unsafe code.
//!
//! rusqlite binds every non-empty text and blob with `SQLITE_TRANSIENT`, which makes SQLite
//! allocate a buffer, copy the value into it and free it at the next binding. The import writer
//! binds about a million texts for the 49 MB benchmark file, and those copies were a fifth of
//! the writer thread's instructions, on the thread that bounds the import's speed. A
//! [`BorrowingStatement`] binds with `SQLITE_STATIC` instead, which SQLite reads in place.
//!
//! That is sound because the borrowed values cannot outlive their binding: `execute` takes them
//! for the length of the call, steps the statement to its end, then resets it and clears every
//! binding before it returns, on success and on error alike, so SQLite holds no pointer into
//! them once the borrow ends. The statement is finalized when dropped, and it borrows the
//! rusqlite [`Connection`] it was prepared on, so it cannot outlive that connection either.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::NonNull;

use rusqlite::{ffi, Connection};

/// One value to bind, borrowed from the record being written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bind<'a> {
    Null,
    Integer(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Values that bind as one of [`Bind`]'s kinds, so that `binds![...]` reads like rusqlite's
/// `params![...]`.
pub(crate) trait Bindable {
    fn bind(&self) -> Bind<'_>;
}

impl Bindable for str {
    fn bind(&self) -> Bind<'_> {
        Bind::Text(self)
    }
}

impl Bindable for String {
    fn bind(&self) -> Bind<'_> {
        Bind::Text(self)
    }
}

impl Bindable for [u8] {
    fn bind(&self) -> Bind<'_> {
        Bind::Blob(self)
    }
}

impl Bindable for Vec<u8> {
    fn bind(&self) -> Bind<'_> {
        Bind::Blob(self)
    }
}

impl Bindable for i64 {
    fn bind(&self) -> Bind<'_> {
        Bind::Integer(*self)
    }
}

impl Bindable for bool {
    fn bind(&self) -> Bind<'_> {
        Bind::Integer(i64::from(*self))
    }
}

impl<T: Bindable + ?Sized> Bindable for &T {
    fn bind(&self) -> Bind<'_> {
        (**self).bind()
    }
}

impl<T: Bindable> Bindable for Option<T> {
    fn bind(&self) -> Bind<'_> {
        match self {
            Some(value) => value.bind(),
            None => Bind::Null,
        }
    }
}

/// `[Bind; N]` of the values given, in order, for [`BorrowingStatement::execute`].
macro_rules! binds {
    ($($value:expr),* $(,)?) => {
        [$($crate::sqlite_statement::Bindable::bind(&$value)),*]
    };
}
pub(crate) use binds;

/// A prepared statement of one connection that binds borrowed values in place.
#[derive(Debug)]
pub(crate) struct BorrowingStatement<'c> {
    statement: NonNull<ffi::sqlite3_stmt>,
    connection: &'c Connection,
}

impl<'c> BorrowingStatement<'c> {
    /// Prepares `sql`, one statement, as long-lived (`SQLITE_PREPARE_PERSISTENT`).
    pub(crate) fn prepare(
        connection: &'c Connection,
        sql: &str,
    ) -> rusqlite::Result<BorrowingStatement<'c>> {
        let length = c_length(sql.len())?;
        let mut statement = std::ptr::null_mut();
        // SAFETY: the handle is the live connection's, borrowed for 'c; the text pointer and
        // length describe `sql`, which SQLite only reads during the call.
        let code = unsafe {
            ffi::sqlite3_prepare_v3(
                connection.handle(),
                sql.as_ptr().cast::<c_char>(),
                length,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut statement,
                std::ptr::null_mut(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(failure(connection, code));
        }
        match NonNull::new(statement) {
            Some(statement) => Ok(BorrowingStatement {
                statement,
                connection,
            }),
            // SQLite gives no statement for text that holds none (only a comment).
            None => Err(rusqlite::Error::InvalidQuery),
        }
    }

    /// Binds `values` to the parameters ?1, ?2, ... and runs the statement to its end.
    pub(crate) fn execute(&mut self, values: &[Bind<'_>]) -> rusqlite::Result<()> {
        let outcome = self.bind_and_step(values);
        // SAFETY: the statement is live. Reset and clearing end every binding made above, so
        // SQLite keeps no pointer into `values` after this call (see the module comment).
        unsafe {
            ffi::sqlite3_reset(self.statement.as_ptr());
            ffi::sqlite3_clear_bindings(self.statement.as_ptr());
        }
        outcome
    }

    fn bind_and_step(&mut self, values: &[Bind<'_>]) -> rusqlite::Result<()> {
        let statement = self.statement.as_ptr();
        for (index, value) in values.iter().enumerate() {
            let parameter = c_int::try_from(index + 1)
                .map_err(|_| rusqlite::Error::InvalidParameterCount(index + 1, values.len()))?;
            // SAFETY: the statement is live; each pointer and length describe a value borrowed
            // for this call, and `execute` clears the bindings before the borrow ends. An empty
            // text or blob is bound from a static empty string, as rusqlite does, because
            // SQLite binds NULL for a null pointer and a dangling one must not reach it.
            let code = unsafe {
                match *value {
                    Bind::Null => ffi::sqlite3_bind_null(statement, parameter),
                    Bind::Integer(integer) => {
                        ffi::sqlite3_bind_int64(statement, parameter, integer)
                    }
                    Bind::Text(text) => {
                        let (pointer, length) = pointer_and_length(text.as_bytes())?;
                        ffi::sqlite3_bind_text(
                            statement,
                            parameter,
                            pointer.cast::<c_char>(),
                            length,
                            ffi::SQLITE_STATIC(),
                        )
                    }
                    Bind::Blob(bytes) => {
                        let (pointer, length) = pointer_and_length(bytes)?;
                        ffi::sqlite3_bind_blob(
                            statement,
                            parameter,
                            pointer,
                            length,
                            ffi::SQLITE_STATIC(),
                        )
                    }
                }
            };
            if code != ffi::SQLITE_OK {
                return Err(failure(self.connection, code));
            }
        }
        // SAFETY: the statement is live and every parameter is bound (unbound ones are NULL).
        match unsafe { ffi::sqlite3_step(statement) } {
            ffi::SQLITE_DONE | ffi::SQLITE_ROW => Ok(()),
            code => Err(failure(self.connection, code)),
        }
    }
}

impl Drop for BorrowingStatement<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on the connection this borrows, which is still
        // open, and it is finalized once, here.
        unsafe {
            ffi::sqlite3_finalize(self.statement.as_ptr());
        }
    }
}

/// Gives the connection `slots` lookaside slots of `slot_size` bytes: SQLite's allocator, per
/// connection, for its small short-lived objects (a cursor per table and index a statement
/// writes, ...). At the default of 40 (48 KB), the import writer's twenty prepared statements
/// held the slots, and each row's cursors went to malloc and free. Call it before the
/// connection prepares anything: SQLite refuses while lookaside memory is in use.
pub(crate) fn set_lookaside(
    connection: &Connection,
    slot_size: c_int,
    slots: c_int,
) -> rusqlite::Result<()> {
    // SAFETY: the handle is the live connection's; a null buffer asks SQLite to allocate the
    // slots itself, and the two sizes are plain ints, as SQLITE_DBCONFIG_LOOKASIDE takes them.
    let code = unsafe {
        ffi::sqlite3_db_config(
            connection.handle(),
            ffi::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<c_void>(),
            slot_size,
            slots,
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(failure(connection, code));
    }
    Ok(())
}

/// A value's pointer and length for SQLite; an empty one points at a static empty string.
fn pointer_and_length(bytes: &[u8]) -> rusqlite::Result<(*const c_void, c_int)> {
    if bytes.is_empty() {
        return Ok(("".as_ptr().cast::<c_void>(), 0));
    }
    let length = c_length(bytes.len())?;
    Ok((bytes.as_ptr().cast::<c_void>(), length))
}

/// A length as SQLite takes it; longer than a C int can say is SQLite's "too big".
fn c_length(length: usize) -> rusqlite::Result<c_int> {
    c_int::try_from(length)
        .map_err(|_| rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_TOOBIG), None))
}

/// The connection's error for a failed call, with SQLite's message, as rusqlite reports it.
fn failure(connection: &Connection, code: c_int) -> rusqlite::Error {
    // SAFETY: the handle is the live connection's; SQLite's message is a NUL-terminated string
    // valid until the next call on this connection, copied here at once.
    let (extended, message) = unsafe {
        let handle = connection.handle();
        let text = ffi::sqlite3_errmsg(handle);
        (
            ffi::sqlite3_extended_errcode(handle),
            (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned()),
        )
    };
    let code = if extended != 0 { extended } else { code };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of the test table as read back.
    type Row = (Option<i64>, Option<String>, Option<Vec<u8>>, String);

    #[test]
    fn lookaside_is_set_on_a_new_connection_and_refused_once_in_use() {
        let connection = Connection::open_in_memory().unwrap();
        set_lookaside(&connection, 1200, 200).unwrap();
        // A statement prepared the ordinary way takes its memory from the lookaside slots.
        let statement = connection.prepare("SELECT 1").unwrap();
        let refused = set_lookaside(&connection, 1200, 100);
        assert!(
            matches!(
                &refused,
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.code == rusqlite::ErrorCode::DatabaseBusy
            ),
            "{refused:?}"
        );
        drop(statement);
    }

    fn table() -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB, d TEXT NOT NULL) STRICT")
            .unwrap();
        connection
    }

    #[test]
    fn borrowed_values_are_stored_as_given_and_outlive_their_buffers() {
        let connection = table();
        let mut insert =
            BorrowingStatement::prepare(&connection, "INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
        for round in 0..3_i64 {
            // Each round's values live in buffers dropped after the call, so a row that kept a
            // pointer into them would read freed memory or another round's text.
            let text = format!("título {round}");
            let bytes = vec![round as u8; 3];
            insert
                .execute(&binds![round, Some(text.as_str()), bytes, String::new()])
                .unwrap();
        }
        insert
            .execute(&binds![None::<i64>, None::<&str>, Vec::<u8>::new(), "x"])
            .unwrap();
        drop(insert);
        let rows: Vec<Row> = connection
            .prepare("SELECT a, b, c, d FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    Some(0),
                    Some("título 0".into()),
                    Some(vec![0; 3]),
                    String::new()
                ),
                (
                    Some(1),
                    Some("título 1".into()),
                    Some(vec![1; 3]),
                    String::new()
                ),
                (
                    Some(2),
                    Some("título 2".into()),
                    Some(vec![2; 3]),
                    String::new()
                ),
                (None, None, Some(Vec::new()), "x".into()),
            ]
        );
    }

    #[test]
    fn a_failed_insert_reports_sqlite_message_and_the_statement_runs_again() {
        let connection = table();
        let mut insert =
            BorrowingStatement::prepare(&connection, "INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
        let error = insert
            .execute(&binds![1_i64, "b", None::<&[u8]>, None::<&str>])
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("NOT NULL constraint failed: t.d"),
            "{error}"
        );
        insert
            .execute(&binds![2_i64, "b", None::<&[u8]>, "d"])
            .unwrap();
        let count: i64 = connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }

    #[test]
    fn text_that_is_no_statement_is_refused() {
        let connection = table();
        assert!(BorrowingStatement::prepare(&connection, "-- nothing").is_err());
        assert!(
            BorrowingStatement::prepare(&connection, "INSERT INTO missing VALUES (1)")
                .unwrap_err()
                .to_string()
                .contains("no such table")
        );
    }
}
