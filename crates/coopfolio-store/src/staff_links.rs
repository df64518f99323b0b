//! One-time links that let a staff user set their own password: the welcome link of an account
//! an administrator adds without choosing its password, and the reset link an administrator
//! issues for an existing account.
//!
//! A link is a random 256-bit token that only its recipient holds; the database keeps its
//! SHA-256, as for sessions, so a copy of the database opens no link. A link works once, for
//! [`LINK_LIFETIME`], and only while its account is enabled (disabling an account deletes its
//! links). Issuing a link replaces any earlier unused link of the same account, so only the
//! newest one works. Using a link sets the password, ends every session the account had (a
//! reset may be shutting someone out) and opens a new one, all in one transaction with its
//! audit event; the single use is one conditional UPDATE, so two requests racing with the same
//! link cannot both win.

use std::time::Duration;

use serde_json::json;

use crate::clock;
use crate::sql::dispatch;
use crate::staff::{
    account, check_password, hash_password, insert_session, insert_staff_user, millis,
    normalise_email, now_millis, random_token, token_hash, write_audit, AuditRecord, LoginPolicy,
    OpenedSession, Role, StaffAccount,
};
use crate::{Pool, Store, StoreError};

/// How long a welcome or reset link works.
pub const LINK_LIFETIME: Duration = Duration::from_secs(72 * 60 * 60);

/// The password hash of an account that has none yet: not a hash the verifier can parse, so
/// no password opens the account until its welcome link is used.
const NO_PASSWORD: &str = "!";

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// The first password of an account added without one.
    Welcome,
    /// A new password for an account that had one.
    Reset,
}

impl LinkPurpose {
    pub fn code(self) -> &'static str {
        match self {
            LinkPurpose::Welcome => "welcome",
            LinkPurpose::Reset => "reset",
        }
    }

    fn from_code(code: &str) -> LinkPurpose {
        if code == "reset" {
            LinkPurpose::Reset
        } else {
            LinkPurpose::Welcome
        }
    }
}

/// A link just issued: the token is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLink {
    pub token: String,
    pub email: String,
    pub purpose: LinkPurpose,
    pub expires_at: String,
}

impl IssuedLink {
    /// The link's path in the workspace.
    pub fn path(&self) -> String {
        format!("/staff/welcome/{}", self.token)
    }
}

/// A link that still works: whose it is and what for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLink {
    pub email: String,
    pub purpose: LinkPurpose,
    pub expires_at: String,
}

/// Why a link does not work. A forged token, a link replaced by a newer one, and the link of a
/// disabled account are all `Unknown`: none of them is anyone's business to tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Unknown,
    Expired,
    Used,
}

/// Deletes the account's earlier unused links and inserts `$link` on a transaction of either
/// backend.
macro_rules! insert_link {
    ($transaction:expr, $link:expr, $user_id:expr, $now:expr, $actor:expr, $operation:expr) => {{
        let link: &IssuedLink = $link;
        sqlx::query("DELETE FROM staff_link WHERE user_id = $1 AND used_at IS NULL")
            .bind($user_id)
            .execute(&mut *$transaction)
            .await
            .map_err(StoreError::query($operation))?;
        sqlx::query(
            "INSERT INTO staff_link (token_hash, user_id, purpose, created_at, created_by, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&link.token))
        .bind($user_id)
        .bind(link.purpose.code())
        .bind($now)
        .bind($actor)
        .bind(&link.expires_at)
        .execute(&mut *$transaction)
        .await
        .map_err(StoreError::query($operation))
    }};
}

impl Store {
    /// Adds a staff account without a password and issues its welcome link, with the audit
    /// event, in one transaction.
    pub async fn invite_staff_user(
        &self,
        email: &str,
        role: Role,
        actor: &str,
    ) -> Result<(StaffAccount, IssuedLink), StoreError> {
        let email = normalise_email(email)?;
        let operation = "inviting a staff user";
        let now = clock::utc_now();
        let link = new_link(&email, LinkPurpose::Welcome)?;
        let id: i64 = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let id = insert_staff_user!(transaction, &email, NO_PASSWORD, role, &now, operation)?;
            insert_link!(transaction, &link, id, &now, actor, operation)?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "user",
                entity_key: &email,
                action: "invite",
                before: None,
                after: Some(json!({ "email": email, "role": role.code(), "link_expires_at": link.expires_at })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<i64, StoreError>(id)
        })?;
        let account = StaffAccount {
            id,
            email,
            role,
            created_at: now,
            locked_until: None,
            disabled_at: None,
        };
        Ok((account, link))
    }

    /// Issues a reset link for an enabled account, replacing any unused link it had.
    pub async fn issue_password_reset(
        &self,
        email: &str,
        actor: &str,
    ) -> Result<IssuedLink, StoreError> {
        let email = email.trim().to_lowercase();
        let operation = "issuing a password reset link";
        let now = clock::utc_now();
        let link = new_link(&email, LinkPurpose::Reset)?;
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let user: Option<(i64, Option<String>)> =
                sqlx::query_as("SELECT id, disabled_at FROM staff_user WHERE email = $1")
                    .bind(&email)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            let Some((id, disabled_at)) = user else {
                return Err(StoreError::NotFound { what: "staff user", key: email.clone() });
            };
            if disabled_at.is_some() {
                return Err(StoreError::Invalid {
                    field: "email",
                    message: format!("{email} is disabled; enable the account before issuing a reset link"),
                });
            }
            insert_link!(transaction, &link, id, &now, actor, operation)?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "user",
                entity_key: &email,
                action: "issue_reset_link",
                before: None,
                after: Some(json!({ "link_expires_at": link.expires_at })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(link)
    }

    /// Whether a link's token still works, and whose it is, without using it.
    pub async fn staff_link(
        &self,
        token: &str,
    ) -> Result<Result<OpenLink, LinkRefusal>, StoreError> {
        let row: Option<LinkRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT u.email, l.purpose, l.expires_at, l.used_at, u.disabled_at \
                 FROM staff_link l JOIN staff_user u ON u.id = l.user_id WHERE l.token_hash = $1",
            )
            .bind(token_hash(token))
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query("reading a password link"))?;
        let Some((email, purpose, expires_at, used_at, disabled_at)) = row else {
            return Ok(Err(LinkRefusal::Unknown));
        };
        Ok(if disabled_at.is_some() {
            Err(LinkRefusal::Unknown)
        } else if used_at.is_some() {
            Err(LinkRefusal::Used)
        } else if expires_at.as_str() <= clock::utc_now().as_str() {
            Err(LinkRefusal::Expired)
        } else {
            Ok(OpenLink {
                email,
                purpose: LinkPurpose::from_code(&purpose),
                expires_at,
            })
        })
    }

    /// Uses a link: sets the account's password (checked as a password change is), ends its
    /// sessions and opens a new one. A link that does not work changes nothing and says why;
    /// a password that breaks the rules is an error on the `password` field and leaves the
    /// link unused.
    pub async fn use_staff_link(
        &self,
        token: &str,
        password: &str,
        policy: &LoginPolicy,
    ) -> Result<Result<OpenedSession, LinkRefusal>, StoreError> {
        if let Err(refusal) = self.staff_link(token).await? {
            return Ok(Err(refusal));
        }
        check_password(password)?;
        let password_hash = hash_password(password.to_owned()).await?;
        let operation = "setting a password from a link";
        let now_millis = now_millis();
        let now = clock::format_utc(now_millis);
        let expires_at = clock::format_utc(now_millis + millis(policy.session_lifetime));
        let session_token = random_token()?;
        let csrf_token = random_token()?;
        let hash = token_hash(token);
        let row: crate::staff::AccountRow = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            // The one statement that decides: the link is used only if it is still unused,
            // unexpired and its account enabled, whatever happened since it was read above.
            let link: Option<(i64, String)> = sqlx::query_as(
                "UPDATE staff_link SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
                 AND expires_at > $1 AND user_id IN (SELECT id FROM staff_user WHERE disabled_at IS NULL) \
                 RETURNING user_id, purpose",
            )
            .bind(&now)
            .bind(&hash)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((user_id, purpose)) = link else {
                // Lost a race with another use, an expiry or a disabling since the link was
                // read: say which, as it reads now.
                transaction.rollback().await.map_err(StoreError::query(operation))?;
                return Ok(Err(self
                    .staff_link(token)
                    .await?
                    .err()
                    .unwrap_or(LinkRefusal::Used)));
            };
            let row: crate::staff::AccountRow = sqlx::query_as(
                "UPDATE staff_user SET password_hash = $1, password_changed_at = $2, \
                 failed_logins = 0, locked_until = NULL WHERE id = $3 \
                 RETURNING id, email, role, created_at, locked_until, disabled_at",
            )
            .bind(&password_hash)
            .bind(&now)
            .bind(user_id)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            // Whoever held the account's sessions before a reset may be the reason for it.
            sqlx::query("DELETE FROM staff_session WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            insert_session!(transaction, &session_token, user_id, &csrf_token, &now, &expires_at, operation)?;
            write_audit!(transaction, &AuditRecord {
                actor: &row.1,
                entity_kind: "user",
                entity_key: &row.1,
                action: if purpose == "reset" { "reset_password" } else { "set_first_password" },
                before: None,
                after: Some(json!({ "password_changed_at": now })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<_, StoreError>(row)
        })?;
        Ok(Ok(OpenedSession {
            token: session_token,
            csrf_token,
            account: account(row)?,
        }))
    }
}

/// email, purpose, expires_at, used_at, disabled_at
type LinkRow = (String, String, String, Option<String>, Option<String>);

fn new_link(email: &str, purpose: LinkPurpose) -> Result<IssuedLink, StoreError> {
    Ok(IssuedLink {
        token: random_token()?,
        email: email.to_owned(),
        purpose,
        expires_at: clock::format_utc(now_millis() + millis(LINK_LIFETIME)),
    })
}

impl Store {
    /// Sets a link's expiry by hand, for the tests of an expired link in crates that do not
    /// speak SQL; nothing in the product calls it.
    #[doc(hidden)]
    pub async fn set_staff_link_expiry(
        &self,
        token: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query("UPDATE staff_link SET expires_at = $1 WHERE token_hash = $2")
                .bind(expires_at)
                .bind(token_hash(token))
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(StoreError::query("changing a link's expiry"))
    }
}
