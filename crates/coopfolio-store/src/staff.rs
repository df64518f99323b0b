//! Staff accounts, their sessions, the login rate limit and lock-out, and the audit log.
//!
//! Passwords are kept as argon2id hashes (the `argon2` crate's default parameters) and hashed
//! on a blocking thread, since one hash takes tens of milliseconds of CPU. A session is a
//! random 256-bit token that only the browser holds; the database keeps its SHA-256, so a copy
//! of the database opens no session. Failed logins are counted in the database, per address
//! (`login_attempt`) and per account (`staff_user.failed_logins`), never in a server's memory,
//! so that any number of servers share one count.
//!
//! Every change made here is written with its audit event in the same transaction: a change
//! that is not in the log did not happen.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// What a staff user may do. Each role can do everything the one before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, confidential agreements included; changes nothing.
    Viewer,
    /// Also edits partners, agreements, instalments, projects, partnerships and inquiries.
    Officer,
    /// Also manages users, imports and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Officer, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.code() == code)
    }

    /// Whether a user of this role may do what `required` is needed for.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.code())
    }
}

/// A staff account as the workspace shows it; the password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAccount {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: String,
    /// While set and in the future, the account is locked out after too many failed logins.
    pub locked_until: Option<String>,
    /// While set, the account is disabled: it cannot log in and has no sessions.
    pub disabled_at: Option<String>,
}

/// The limits of logging in and of a session. The defaults suit an office: five wrong
/// passwords lock an account for fifteen minutes; thirty failures from one address in fifteen
/// minutes stop that address; a session lasts a working day and ends after half an hour idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    pub failures_before_lockout: i64,
    pub lockout: Duration,
    pub failures_per_address: i64,
    pub address_window: Duration,
    pub session_lifetime: Duration,
    pub idle_timeout: Duration,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            failures_before_lockout: 5,
            lockout: Duration::from_secs(15 * 60),
            failures_per_address: 30,
            address_window: Duration::from_secs(15 * 60),
            session_lifetime: Duration::from_secs(12 * 60 * 60),
            idle_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// What a login attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The password was right: a new session, whose token goes into the cookie.
    Opened(OpenedSession),
    /// Unknown address or wrong password; the two are not told apart.
    Refused,
    /// The account is locked out until the time given.
    Locked { until: String },
    /// Too many failures from this address lately; nothing was checked.
    TooManyAttempts,
}

/// A session just opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The secret the browser keeps in its cookie; the database holds only its SHA-256.
    pub token: String,
    pub csrf_token: String,
    pub account: StaffAccount,
}

/// A session found by its token: who is logged in, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSession {
    pub account: StaffAccount,
    pub csrf_token: String,
}

/// One change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub at: String,
    pub actor: String,
    pub entity_kind: String,
    pub entity_key: String,
    pub action: String,
    /// The record before the change as JSON text; None when it did not exist.
    pub before: Option<String>,
    /// The record after the change as JSON text; None when it no longer exists.
    pub after: Option<String>,
}

/// Which audit events to list: every filter that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub entity_kind: Option<String>,
    /// "YYYY-MM-DD", the first day included.
    pub from_date: Option<String>,
    /// "YYYY-MM-DD", the last day included.
    pub to_date: Option<String>,
    /// From 1.
    pub page: u32,
    pub page_size: u32,
}

/// A page of audit events, newest first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub total: u64,
}

/// The shortest password accepted. Length is what makes a password hard to guess; no rule
/// about kinds of character is added, as such rules mostly produce predictable passwords.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: hashing cost grows with length, and no one types more.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A change to be written into the audit log beside the change itself.
pub(crate) struct AuditRecord<'a> {
    pub actor: &'a str,
    pub entity_kind: &'static str,
    pub entity_key: &'a str,
    pub action: &'static str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) const INSERT_AUDIT_SQL: &str =
    "INSERT INTO audit_event (at, actor, entity_kind, entity_key, action, \
    before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Writes an audit record on a transaction of either backend (the body of a `dispatch!`).
macro_rules! write_audit {
    ($transaction:expr, $record:expr, $operation:expr) => {{
        let record: &$crate::staff::AuditRecord<'_> = $record;
        sqlx::query($crate::staff::INSERT_AUDIT_SQL)
            .bind($crate::clock::utc_now())
            .bind(record.actor)
            .bind(record.entity_kind)
            .bind(record.entity_key)
            .bind(record.action)
            .bind(record.before.as_ref().map(|value| value.to_string()))
            .bind(record.after.as_ref().map(|value| value.to_string()))
            .execute(&mut *$transaction)
            .await
            .map_err($crate::StoreError::query($operation))
    }};
}
#[allow(unused_imports)]
pub(crate) use write_audit;

/// True for a row of `staff_user` when some other enabled administrator exists: the condition
/// that keeps the last administrator from being demoted or disabled. It sits in the UPDATE
/// itself, so that the check and the change are one statement.
const ANOTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM staff_user other WHERE other.role = 'admin' \
    AND other.disabled_at IS NULL AND other.id <> staff_user.id)";

/// On PostgreSQL, locks the enabled administrators' rows until the transaction ends. Two
/// administrators demoting each other at once would otherwise each see the other still in
/// place under READ COMMITTED; with the lock, the second waits and then sees the first's
/// change. SQLite runs one writer at a time, so the UPDATE's own condition is enough there.
macro_rules! lock_admins {
    ($transaction:expr, $backend:expr, $operation:expr) => {{
        if $backend == $crate::Backend::Postgres {
            sqlx::query(
                "SELECT id FROM staff_user WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE",
            )
            .execute(&mut *$transaction)
            .await
            .map_err(StoreError::query($operation))?;
        }
        Ok::<(), StoreError>(())
    }};
}

/// Removes sessions past their lifetime and login attempts older than `$window_start` on a
/// transaction of either backend.
macro_rules! prune_sessions_and_attempts {
    ($transaction:expr, $now:expr, $window_start:expr, $operation:expr) => {{
        sqlx::query("DELETE FROM staff_session WHERE expires_at <= $1")
            .bind($now)
            .execute(&mut *$transaction)
            .await
            .map_err(StoreError::query($operation))?;
        sqlx::query("DELETE FROM login_attempt WHERE at < $1")
            .bind($window_start)
            .execute(&mut *$transaction)
            .await
            .map_err(StoreError::query($operation))?;
        Ok::<(), StoreError>(())
    }};
}

/// Inserts a staff account with a new address on a transaction of either backend, giving its
/// id; an address already in use is an error on the `email` field.
macro_rules! insert_staff_user {
    ($transaction:expr, $email:expr, $password_hash:expr, $role:expr, $now:expr, $operation:expr) => {{
        let email: &str = $email;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM staff_user WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut *$transaction)
                .await
                .map_err(StoreError::query($operation))?;
        if existing.is_some() {
            return Err(StoreError::Invalid {
                field: "email",
                message: format!("a staff user with the address {email} already exists"),
            });
        }
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO staff_user (email, password_hash, role, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(email)
        .bind($password_hash)
        .bind($role.code())
        .bind($now)
        .fetch_one(&mut *$transaction)
        .await
        .map_err(StoreError::query($operation))
    }};
}
pub(crate) use insert_staff_user;

/// Inserts a new session (by its token's hash) on a transaction of either backend.
macro_rules! insert_session {
    ($transaction:expr, $token:expr, $user_id:expr, $csrf_token:expr, $now:expr, $expires_at:expr, $operation:expr) => {
        sqlx::query(
            "INSERT INTO staff_session (token_hash, user_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind($crate::staff::token_hash($token))
        .bind($user_id)
        .bind($csrf_token)
        .bind($now)
        .bind($expires_at)
        .execute(&mut *$transaction)
        .await
        .map_err(StoreError::query($operation))
    };
}
pub(crate) use insert_session;

/// Inserts a login attempt on a transaction of either backend.
macro_rules! insert_login_attempt {
    ($transaction:expr, $address:expr, $email:expr, $at:expr, $succeeded:expr, $operation:expr) => {
        sqlx::query(
            "INSERT INTO login_attempt (address, email, at, succeeded) VALUES ($1, $2, $3, $4)",
        )
        .bind($address)
        // An address typed into the form is kept short: the column serves the log, not storage.
        .bind($email.chars().take(320).collect::<String>())
        .bind($at)
        .bind($succeeded)
        .execute(&mut *$transaction)
        .await
        .map_err(StoreError::query($operation))
    };
}

impl Store {
    /// Adds a staff account. The e-mail address is lower-cased and must be new; the password
    /// must be 12 to 256 characters.
    pub async fn add_staff_user(
        &self,
        email: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<StaffAccount, StoreError> {
        let email = normalise_email(email)?;
        check_password(password)?;
        let password_hash = hash_password(password.to_owned()).await?;
        let now = clock::utc_now();
        let operation = "adding a staff user";
        let id: i64 = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let id = insert_staff_user!(transaction, &email, &password_hash, role, &now, operation)?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "user",
                entity_key: &email,
                action: "create",
                before: None,
                after: Some(json!({ "email": email, "role": role.code() })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<i64, StoreError>(id)
        })?;
        Ok(StaffAccount {
            id,
            email,
            role,
            created_at: now,
            locked_until: None,
            disabled_at: None,
        })
    }

    /// Every staff account, by e-mail address.
    pub async fn staff_users(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let rows: Vec<AccountRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, email, role, created_at, locked_until, disabled_at FROM staff_user ORDER BY email",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("listing staff users"))?;
        rows.into_iter().map(account).collect()
    }

    /// Gives an account another role; its open sessions take the new role at their next
    /// request, since every request reads the role afresh.
    pub async fn set_staff_role(
        &self,
        email: &str,
        role: Role,
        actor: &str,
    ) -> Result<StaffAccount, StoreError> {
        let email = email.trim().to_lowercase();
        let operation = "changing a staff user's role";
        let row: AccountRow = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let before: Option<String> = sqlx::query_scalar("SELECT role FROM staff_user WHERE email = $1")
                .bind(&email)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            let Some(before) = before else {
                return Err(StoreError::NotFound { what: "staff user", key: email.clone() });
            };
            if before == Role::Admin.code() && role != Role::Admin {
                lock_admins!(transaction, self.backend(), operation)?;
            }
            let row: Option<AccountRow> = sqlx::query_as(&format!(
                "UPDATE staff_user SET role = $1 WHERE email = $2 \
                 AND ($1 = 'admin' OR role <> 'admin' OR {ANOTHER_ADMIN}) \
                 RETURNING id, email, role, created_at, locked_until, disabled_at"
            ))
            .bind(role.code())
            .bind(&email)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let Some(row) = row else {
                // Rolled back here rather than on drop: SQLite keeps the write lock the UPDATE
                // took until the rollback runs, and a dropped transaction's waits for the
                // connection's next use, which would leave other writers "database is locked".
                transaction.rollback().await.map_err(StoreError::query(operation))?;
                return Err(last_admin_error());
            };
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "user",
                entity_key: &email,
                action: "set_role",
                before: Some(json!({ "role": before })),
                after: Some(json!({ "role": role.code() })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<AccountRow, StoreError>(row)
        })?;
        account(row)
    }

    /// Checks an e-mail address and password and, when they match, opens a session.
    ///
    /// An address with too many recent failures is refused before anything is checked, and an
    /// account locked out stays so until its time is up, right password or not. A wrong
    /// password counts against both; the account's count starts again after a success or a
    /// lock-out.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
        policy: &LoginPolicy,
    ) -> Result<LoginOutcome, StoreError> {
        let email = email.trim().to_lowercase();
        let now_millis = now_millis();
        let now = clock::format_utc(now_millis);
        let window_start = clock::format_utc(now_millis - millis(policy.address_window));
        let operation = "logging in";

        let recent_failures: i64 = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_attempt WHERE address = $1 AND at >= $2 AND succeeded = $3",
            )
            .bind(address)
            .bind(&window_start)
            .bind(false)
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        if recent_failures >= policy.failures_per_address {
            self.record_login_attempt(address, &email, &now, false)
                .await?;
            return Ok(LoginOutcome::TooManyAttempts);
        }

        let user: Option<LoginRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, email, role, created_at, locked_until, disabled_at, password_hash, failed_logins \
                 FROM staff_user WHERE email = $1",
            )
            .bind(&email)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;

        if let Some(user) = &user {
            if let Some(until) = user
                .locked_until
                .as_deref()
                .filter(|until| *until > now.as_str())
            {
                self.record_login_attempt(address, &email, &now, false)
                    .await?;
                return Ok(LoginOutcome::Locked {
                    until: until.to_owned(),
                });
            }
        }
        // An unknown address is checked against a stand-in hash, so that it takes as long to
        // refuse as a wrong password and the timing does not tell which accounts exist.
        let stored_hash = user
            .as_ref()
            .map(|user| user.password_hash.clone())
            .unwrap_or_else(|| stand_in_hash().to_owned());
        // A disabled account is refused like a wrong password, after the same hashing work.
        let matches = verify_password(password.to_owned(), stored_hash).await?
            && user.as_ref().is_some_and(|user| user.disabled_at.is_none());
        let Some(user) = user else {
            self.record_login_attempt(address, &email, &now, false)
                .await?;
            return Ok(LoginOutcome::Refused);
        };

        if !matches {
            let failures = user.failed_logins + 1;
            let locked_until = (failures >= policy.failures_before_lockout)
                .then(|| clock::format_utc(now_millis + millis(policy.lockout)));
            let failures_kept = if locked_until.is_some() { 0 } else { failures };
            dispatch!(&self.pool, Pool, pool => {
                let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
                sqlx::query("UPDATE staff_user SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                    .bind(failures_kept)
                    .bind(locked_until.as_deref())
                    .bind(user.id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
                insert_login_attempt!(transaction, address, &email, &now, false, operation)?;
                if let Some(until) = &locked_until {
                    write_audit!(transaction, &AuditRecord {
                        actor: "system",
                        entity_kind: "user",
                        entity_key: &email,
                        action: "lock_out",
                        before: None,
                        after: Some(json!({ "locked_until": until, "failed_logins": failures })),
                    }, operation)?;
                }
                transaction.commit().await.map_err(StoreError::query(operation))
            })?;
            return Ok(match locked_until {
                Some(until) => LoginOutcome::Locked { until },
                None => LoginOutcome::Refused,
            });
        }

        let token = random_token()?;
        let csrf_token = random_token()?;
        let expires_at = clock::format_utc(now_millis + millis(policy.session_lifetime));
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            sqlx::query("UPDATE staff_user SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user.id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            insert_session!(transaction, &token, user.id, &csrf_token, &now, &expires_at, operation)?;
            // Sessions that ended, and attempts older than the rate limit's window, are removed
            // here, a moment when the tables are written anyway.
            prune_sessions_and_attempts!(transaction, &now, &window_start, operation)?;
            insert_login_attempt!(transaction, address, &email, &now, true, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(LoginOutcome::Opened(OpenedSession {
            token,
            csrf_token,
            account: account((user.id, user.email, user.role, user.created_at, None, None))?,
        }))
    }

    /// The session a cookie's token opens, if it is still open: not past its lifetime, not
    /// idle longer than the `staff_session_idle_minutes` setting (else the policy) allows. A session found is marked as seen now.
    pub async fn staff_session(
        &self,
        token: &str,
        policy: &LoginPolicy,
    ) -> Result<Option<ActiveSession>, StoreError> {
        let operation = "reading a staff session";
        let hash = token_hash(token);
        let row: Option<SessionRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.role, u.created_at, u.locked_until, s.csrf_token, \
                 s.last_seen_at, s.expires_at, \
                 (SELECT value FROM setting WHERE key = $2) AS idle_minutes FROM staff_session s \
                 JOIN staff_user u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
            )
            .bind(&hash)
            .bind(crate::settings::SESSION_IDLE_MINUTES)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now_millis = now_millis();
        let now = clock::format_utc(now_millis);
        // The administrators' setting, read in the same query, before the policy's default.
        let idle_timeout = row
            .idle_minutes
            .as_deref()
            .and_then(|minutes| minutes.parse::<u64>().ok())
            .map_or(policy.idle_timeout, |minutes| {
                Duration::from_secs(minutes * 60)
            });
        let idle_since = clock::format_utc(now_millis - millis(idle_timeout));
        if row.expires_at.as_str() <= now.as_str()
            || row.last_seen_at.as_str() <= idle_since.as_str()
        {
            self.log_out(token).await?;
            return Ok(None);
        }
        // Writing on every request would make each page a write; a minute's precision is
        // plenty for an idle timeout of half an hour.
        let touch_before = clock::format_utc(now_millis - 60_000);
        if row.last_seen_at.as_str() < touch_before.as_str() {
            dispatch!(&self.pool, Pool, pool => {
                sqlx::query("UPDATE staff_session SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(&now)
                    .bind(&hash)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })
            .map_err(StoreError::query(operation))?;
        }
        Ok(Some(ActiveSession {
            csrf_token: row.csrf_token,
            account: account((
                row.id,
                row.email,
                row.role,
                row.created_at,
                row.locked_until,
                None,
            ))?,
        }))
    }

    /// Ends the session of a token; a token that opens nothing is no error.
    pub async fn log_out(&self, token: &str) -> Result<(), StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query("DELETE FROM staff_session WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(StoreError::query("ending a staff session"))?;
        Ok(())
    }

    /// Changes a user's password after checking the current one, and ends every other
    /// session of the user, since whoever changes a password may be shutting someone out.
    /// Returns false, changing nothing, when the current password is wrong.
    pub async fn change_staff_password(
        &self,
        user_id: i64,
        current_password: &str,
        new_password: &str,
        keep_session_token: &str,
    ) -> Result<bool, StoreError> {
        let operation = "changing a password";
        let row: Option<(String, String)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as("SELECT email, password_hash FROM staff_user WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query(operation))?;
        let Some((email, stored_hash)) = row else {
            return Err(StoreError::NotFound {
                what: "staff user",
                key: user_id.to_string(),
            });
        };
        if !verify_password(current_password.to_owned(), stored_hash).await? {
            return Ok(false);
        }
        check_password(new_password)?;
        let new_hash = hash_password(new_password.to_owned()).await?;
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            sqlx::query("UPDATE staff_user SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                .bind(&new_hash)
                .bind(&now)
                .bind(user_id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            sqlx::query("DELETE FROM staff_session WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(token_hash(keep_session_token))
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            // The log says that the password changed, never anything about the password.
            write_audit!(transaction, &AuditRecord {
                actor: &email,
                entity_kind: "user",
                entity_key: &email,
                action: "change_password",
                before: None,
                after: Some(json!({ "password_changed_at": now })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(true)
    }

    /// A page of the audit log, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
        let operation = "reading the audit log";
        let from = filter.from_date.clone();
        // "YYYY-MM-DDT99" sorts after every instant of that day and before the next day.
        let to_exclusive = filter.to_date.as_ref().map(|date| format!("{date}T99"));
        let page_size = i64::from(filter.page_size.max(1));
        let offset = i64::from(filter.page.max(1) - 1) * page_size;
        const WHERE: &str =
            "WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR entity_kind = $2) \
            AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)";
        let (total, rows): (i64, Vec<AuditRow>) = dispatch!(&self.pool, Pool, pool => {
            let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_event {WHERE}"))
                .bind(filter.actor.as_deref())
                .bind(filter.entity_kind.as_deref())
                .bind(from.as_deref())
                .bind(to_exclusive.as_deref())
                .fetch_one(pool)
                .await
                .map_err(StoreError::query(operation))?;
            let rows: Vec<AuditRow> = sqlx::query_as(&format!(
                "SELECT at, actor, entity_kind, entity_key, action, before_json, after_json \
                 FROM audit_event {WHERE} ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
            ))
            .bind(filter.actor.as_deref())
            .bind(filter.entity_kind.as_deref())
            .bind(from.as_deref())
            .bind(to_exclusive.as_deref())
            .bind(page_size)
            .bind(offset)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok::<_, StoreError>((total, rows))
        })?;
        Ok(AuditPage {
            total: total as u64,
            events: rows
                .into_iter()
                .map(
                    |(at, actor, entity_kind, entity_key, action, before, after)| AuditEvent {
                        at,
                        actor,
                        entity_kind,
                        entity_key,
                        action,
                        before,
                        after,
                    },
                )
                .collect(),
        })
    }

    /// The actors and entity kinds the audit log holds, for its filters.
    pub async fn audit_choices(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let operation = "reading the audit log's filters";
        dispatch!(&self.pool, Pool, pool => {
            let actors: Vec<String> = sqlx::query_scalar("SELECT DISTINCT actor FROM audit_event ORDER BY actor")
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(operation))?;
            let kinds: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT entity_kind FROM audit_event ORDER BY entity_kind",
            )
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok((actors, kinds))
        })
    }

    async fn record_login_attempt(
        &self,
        address: &str,
        email: &str,
        at: &str,
        succeeded: bool,
    ) -> Result<(), StoreError> {
        let operation = "recording a login attempt";
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            insert_login_attempt!(transaction, address, email, at, succeeded, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }
}

impl Store {
    /// Disables or enables an account. Disabling ends every session of the account at once and
    /// keeps it from logging in; the last enabled administrator cannot be disabled, so that
    /// someone can always manage the workspace.
    pub async fn set_staff_disabled(
        &self,
        email: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<StaffAccount, StoreError> {
        let email = email.trim().to_lowercase();
        let operation = if disabled {
            "disabling a staff user"
        } else {
            "enabling a staff user"
        };
        let now = clock::utc_now();
        let backend = self.backend();
        let row: AccountRow = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let before: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT role, disabled_at FROM staff_user WHERE email = $1")
                    .bind(&email)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            let Some((role, disabled_before)) = before else {
                return Err(StoreError::NotFound { what: "staff user", key: email.clone() });
            };
            if disabled && role == Role::Admin.code() {
                lock_admins!(transaction, backend, operation)?;
            }
            let row: Option<AccountRow> = sqlx::query_as(&format!(
                "UPDATE staff_user SET disabled_at = $1 WHERE email = $2 \
                 AND ($1 IS NULL OR role <> 'admin' OR {ANOTHER_ADMIN}) \
                 RETURNING id, email, role, created_at, locked_until, disabled_at"
            ))
            .bind(disabled.then_some(now.as_str()))
            .bind(&email)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let Some(row) = row else {
                // Rolled back here rather than on drop: SQLite keeps the write lock the UPDATE
                // took until the rollback runs, and a dropped transaction's waits for the
                // connection's next use, which would leave other writers "database is locked".
                transaction.rollback().await.map_err(StoreError::query(operation))?;
                return Err(last_admin_error());
            };
            if disabled {
                sqlx::query("DELETE FROM staff_session WHERE user_id = $1")
                    .bind(row.0)
                    .execute(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
                // A welcome or reset link ends with the account, so that enabling it again
                // does not bring an old link back to life.
                sqlx::query("DELETE FROM staff_link WHERE user_id = $1")
                    .bind(row.0)
                    .execute(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            }
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "user",
                entity_key: &email,
                action: if disabled { "disable" } else { "enable" },
                before: Some(json!({ "disabled_at": disabled_before })),
                after: Some(json!({ "disabled_at": row.5 })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<AccountRow, StoreError>(row)
        })?;
        account(row)
    }

    /// Removes what no longer serves: sessions past their lifetime and login attempts older
    /// than the rate limit's window. Logging in does this too; a periodic call keeps the
    /// tables small on a server where no one logs in for a long time.
    pub async fn prune_staff_records(&self, policy: &LoginPolicy) -> Result<(), StoreError> {
        let operation = "removing ended sessions and old login attempts";
        let now_millis = now_millis();
        let now = clock::format_utc(now_millis);
        let window_start = clock::format_utc(now_millis - millis(policy.address_window));
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            prune_sessions_and_attempts!(transaction, &now, &window_start, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// How many login attempts are kept, for the tests of the pruning.
    pub async fn login_attempt_count(&self) -> Result<u64, StoreError> {
        let count: i64 = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM login_attempt")
                .fetch_one(pool)
                .await
        })
        .map_err(StoreError::query("counting login attempts"))?;
        Ok(count.max(0) as u64)
    }
}

/// What refusing to leave the workspace without an administrator looks like.
fn last_admin_error() -> StoreError {
    StoreError::Invalid {
        field: "role",
        message:
            "this is the last enabled administrator; make another account an administrator first"
                .to_owned(),
    }
}

pub(crate) type AccountRow = (i64, String, String, String, Option<String>, Option<String>);
type AuditRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    email: String,
    role: String,
    created_at: String,
    locked_until: Option<String>,
    disabled_at: Option<String>,
    password_hash: String,
    failed_logins: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    email: String,
    role: String,
    created_at: String,
    locked_until: Option<String>,
    csrf_token: String,
    last_seen_at: String,
    expires_at: String,
    idle_minutes: Option<String>,
}

pub(crate) fn account(
    (id, email, role, created_at, locked_until, disabled_at): AccountRow,
) -> Result<StaffAccount, StoreError> {
    let role = Role::from_code(&role).ok_or_else(|| StoreError::InvalidStoredValue {
        operation: "reading a staff user",
        detail: format!("unknown role '{role}' for {email}"),
    })?;
    Ok(StaffAccount {
        id,
        email,
        role,
        created_at,
        locked_until,
        disabled_at,
    })
}

/// The address, trimmed and lower-cased, if it looks like one: something, '@', something with
/// a dot, no spaces or control characters, at most 254 characters (the limit of SMTP).
pub(crate) fn normalise_email(email: &str) -> Result<String, StoreError> {
    let email = email.trim().to_lowercase();
    let invalid = |message: &str| StoreError::Invalid {
        field: "email",
        message: message.to_owned(),
    };
    if email.len() > 254 {
        return Err(invalid("an e-mail address has at most 254 characters"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("an e-mail address has no spaces"));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
        {
            Ok(email)
        }
        _ => Err(invalid(
            "expected an e-mail address such as name@example.org",
        )),
    }
}

pub(crate) fn check_password(password: &str) -> Result<(), StoreError> {
    let length = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err(StoreError::Invalid {
            field: "password",
            message: format!(
                "a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters; this one has {length}"
            ),
        });
    }
    Ok(())
}

pub(crate) async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .map_err(|error| StoreError::PasswordHash(error.to_string()))?;
        let salt = SaltString::encode_b64(&salt)
            .map_err(|error| StoreError::PasswordHash(error.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| StoreError::PasswordHash(error.to_string()))
    })
    .await
    .map_err(|error| StoreError::PasswordHash(error.to_string()))?
}

async fn verify_password(password: String, stored_hash: String) -> Result<bool, StoreError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored_hash) else {
            // A hash the store did not write (edited by hand, say) opens nothing.
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|error| StoreError::PasswordHash(error.to_string()))
}

/// A hash of a password no one knows, with the default parameters, made once.
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::encode_b64(b"coopfolio-stand-").expect("a fixed 16-byte salt");
        Argon2::default()
            .hash_password(b"no account has this password", &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// 256 random bits from the operating system, as 64 hexadecimal digits.
pub(crate) fn random_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| StoreError::PasswordHash(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// What the database keeps of a session token.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis() as i64)
        .unwrap_or_default()
}

pub(crate) fn millis(duration: Duration) -> i64 {
    duration.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below_them() {
        assert!(Role::Admin.includes(Role::Officer));
        assert!(Role::Officer.includes(Role::Viewer));
        assert!(!Role::Viewer.includes(Role::Officer));
        assert!(!Role::Officer.includes(Role::Admin));
        assert_eq!(Role::from_code("officer"), Some(Role::Officer));
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email("  Amina.Diallo@Example.ORG ").unwrap(),
            "amina.diallo@example.org"
        );
        for bad in [
            "",
            "no-at-sign",
            "@example.org",
            "a@b",
            "a b@example.org",
            "a@b@c.org",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let first = random_token().unwrap();
        let second = random_token().unwrap();
        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
        assert_ne!(token_hash(&first), first);
        assert_eq!(token_hash(&first), token_hash(&first));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".to_owned(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("correct horse battery!".to_owned(), hash)
            .await
            .unwrap());
    }
}
