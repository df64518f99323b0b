//! The store's error type: each variant is a case the caller can act on, and names what failed.

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL's scheme names no backend we have.
    #[error("unsupported database URL {url}: expected sqlite://, sqlite::memory:, postgres:// or postgresql://")]
    UnsupportedUrl { url: String },
    /// The database could not be opened or reached. The URL is shown with its password redacted.
    #[error("connecting to {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("migrating the {backend} database")]
    Migrate {
        backend: &'static str,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed; `operation` says what the store was doing.
    #[error("database error while {operation}")]
    Query {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A record refers by key to another that is neither being saved nor stored.
    #[error("{referenced_by} refers to {what} '{key}', which is not stored")]
    UnknownKey {
        what: &'static str,
        key: String,
        referenced_by: String,
    },
    /// A value given to the store breaks a rule of its record (an e-mail address already in
    /// use, a password too short); `field` names the value and the message says what is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The record asked for by key is not stored.
    #[error("no {what} '{key}' is stored")]
    NotFound { what: &'static str, key: String },
    /// A password could not be hashed (the operating system gave no random salt, say).
    #[error("hashing a password: {0}")]
    PasswordHash(String),
    /// A value read back from the database is not what the store wrote (a hand-edited row, say).
    #[error("invalid value in the database while {operation}: {detail}")]
    InvalidStoredValue {
        operation: &'static str,
        detail: String,
    },
}

impl StoreError {
    /// Wraps a sqlx error with the operation it interrupted; used as `.map_err(query("..."))`.
    pub(crate) fn query(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { operation, source }
    }

    /// Like [`query`](StoreError::query), for the rusqlite connection that SQLite imports
    /// write through. The error reaches the caller as a sqlx database error, so that callers
    /// see one error type whichever driver ran the statement.
    pub(crate) fn sqlite(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |error| StoreError::Query {
            operation,
            source: sqlx::Error::Database(Box::new(SqliteError::new(error))),
        }
    }
}

/// A rusqlite error dressed as a sqlx database error, with the same kind (unique, foreign
/// key, ...) that sqlx's own SQLite driver would report.
#[derive(Debug)]
struct SqliteError {
    message: String,
    extended_code: Option<std::ffi::c_int>,
    source: rusqlite::Error,
}

impl SqliteError {
    fn new(source: rusqlite::Error) -> SqliteError {
        let extended_code = match &source {
            rusqlite::Error::SqliteFailure(failure, _) => Some(failure.extended_code),
            _ => None,
        };
        SqliteError {
            message: source.to_string(),
            extended_code,
            source,
        }
    }
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for SqliteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.extended_code
            .map(|code| std::borrow::Cow::Owned(code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.extended_code {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// The URL with any password replaced by `***`, fit for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    // The credentials end at the last '@' before the path, so a password may contain '@' itself.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..authority_start],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_and_nothing_else_changes() {
        assert_eq!(
            redact_url("postgres://coop:s3cr@t@db.example:5432/coopfolio"),
            "postgres://coop:***@db.example:5432/coopfolio"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/postgres"),
            "postgres://postgres@127.0.0.1/postgres"
        );
        assert_eq!(redact_url("sqlite://data/coop.db"), "sqlite://data/coop.db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }
}
