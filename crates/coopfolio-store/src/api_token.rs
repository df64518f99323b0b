//! API tokens: the credentials the JSON API takes in `Authorization: Bearer`. A token belongs
//! to a staff user and acts with that user's role, read afresh at every request, so a change
//! of role or the removal of the user reaches the token at once.
//!
//! A token is shown once, when it is made; the database keeps only its SHA-256 (as for
//! sessions, a copy of the database opens nothing) and its first characters, so that a list
//! can tell tokens apart. A revoked token stays in the list with the time it was revoked and
//! opens nothing. Making and revoking a token write their audit event in the same transaction.

use serde::Serialize;
use serde_json::json;

use crate::sql::dispatch;
use crate::staff::{account, random_token, token_hash, write_audit, AccountRow, AuditRecord};
use crate::staff::{Role, StaffAccount};
use crate::{clock, Pool, Store, StoreError};

/// What every token starts with, so that one pasted somewhere it should not be is recognised
/// by secret scanners and by people.
pub const TOKEN_PREFIX: &str = "cfp_";

/// How many characters of a token the list shows: the prefix and eight hexadecimal digits.
const SHOWN_CHARS: usize = TOKEN_PREFIX.len() + 8;

/// The longest token name kept.
pub const MAX_NAME_CHARS: usize = 100;

/// A token as the list shows it; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub name: String,
    /// The token's first characters, such as `cfp_1a2b3c4d`.
    pub shown: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just made: the secret, shown once, and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub secret: String,
    pub token: ApiToken,
}

type TokenRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

const TOKEN_COLUMNS: &str = "t.id, u.email, u.role, t.name, t.token_prefix, t.created_at, \
    t.last_used_at, t.revoked_at FROM api_token t JOIN staff_user u ON u.id = t.user_id";

impl Store {
    /// Makes a token for the staff user with this address. The name says what the token is
    /// for ("reporting dashboard"); without one, the date is used.
    pub async fn create_api_token(
        &self,
        email: &str,
        name: Option<&str>,
        actor: &str,
    ) -> Result<NewApiToken, StoreError> {
        let operation = "making an API token";
        let email = email.trim().to_lowercase();
        let now = clock::utc_now();
        let name = match name.map(str::trim) {
            Some(name) if name.chars().count() > MAX_NAME_CHARS => {
                return Err(StoreError::Invalid {
                    field: "name",
                    message: format!("a token name has at most {MAX_NAME_CHARS} characters"),
                })
            }
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => format!("made {}", &now[..10]),
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_token()?);
        let shown = secret[..SHOWN_CHARS].to_owned();
        let id: i64 = dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let user: Option<i64> = sqlx::query_scalar("SELECT id FROM staff_user WHERE email = $1")
                .bind(&email)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            let Some(user) = user else {
                return Err(StoreError::NotFound { what: "staff user", key: email.clone() });
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_token (user_id, name, token_hash, token_prefix, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user)
            .bind(&name)
            .bind(token_hash(&secret))
            .bind(&shown)
            .bind(&now)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "api_token",
                entity_key: &id.to_string(),
                action: "create",
                before: None,
                after: Some(json!({ "user": email, "name": name, "shown": shown })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok::<i64, StoreError>(id)
        })?;
        let token = self
            .api_token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "API token",
                key: id.to_string(),
            })?;
        Ok(NewApiToken { secret, token })
    }

    /// Every token, revoked ones included, by user and then oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!("SELECT {TOKEN_COLUMNS} ORDER BY u.email, t.id");
            sqlx::query_as(&sql).fetch_all(pool).await
        })
        .map_err(StoreError::query("listing API tokens"))?;
        rows.into_iter().map(api_token).collect()
    }

    /// One token by id, if stored.
    pub async fn api_token(&self, id: i64) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!("SELECT {TOKEN_COLUMNS} WHERE t.id = $1");
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })
        .map_err(StoreError::query("reading an API token"))?;
        row.map(api_token).transpose()
    }

    /// Revokes a token: from now on it opens nothing. Revoking a revoked token changes
    /// nothing and keeps the first time.
    pub async fn revoke_api_token(&self, id: i64, actor: &str) -> Result<ApiToken, StoreError> {
        let operation = "revoking an API token";
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let before: Option<Option<String>> =
                sqlx::query_scalar("SELECT revoked_at FROM api_token WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            let Some(before) = before else {
                return Err(StoreError::NotFound { what: "API token", key: id.to_string() });
            };
            if before.is_none() {
                sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE id = $2")
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
                write_audit!(transaction, &AuditRecord {
                    actor,
                    entity_kind: "api_token",
                    entity_key: &id.to_string(),
                    action: "revoke",
                    before: Some(json!({ "revoked_at": null })),
                    after: Some(json!({ "revoked_at": now })),
                }, operation)?;
            }
            transaction.commit().await.map_err(StoreError::query(operation))
        })?;
        self.api_token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "API token",
                key: id.to_string(),
            })
    }

    /// The staff account a token acts for, if the token is stored and not revoked; its use is
    /// recorded. The role is the user's role now, not when the token was made.
    pub async fn api_token_account(
        &self,
        secret: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let operation = "checking an API token";
        let hash = token_hash(secret);
        type Row = (
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<String>,
        );
        let row: Option<Row> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.role, u.created_at, u.locked_until, u.disabled_at, t.id, \
                 t.last_used_at FROM api_token t JOIN staff_user u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let Some((user, email, role, created_at, locked_until, disabled_at, token, last_used_at)) =
            row
        else {
            return Ok(None);
        };
        // Writing on every request would turn each read into a write; a minute's precision is
        // what a list of tokens needs to tell a live one from a forgotten one.
        let now = clock::utc_now();
        if last_used_at.is_none_or(|used| used.get(..16) != now.get(..16)) {
            dispatch!(&self.pool, Pool, pool => {
                sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2")
                    .bind(&now)
                    .bind(token)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })
            .map_err(StoreError::query(operation))?;
        }
        let row: AccountRow = (user, email, role, created_at, locked_until, disabled_at);
        account(row).map(Some)
    }
}

fn api_token(
    (id, email, role, name, shown, created_at, last_used_at, revoked_at): TokenRow,
) -> Result<ApiToken, StoreError> {
    let role = Role::from_code(&role).ok_or_else(|| StoreError::InvalidStoredValue {
        operation: "reading an API token",
        detail: format!("unknown role '{role}' for {email}"),
    })?;
    Ok(ApiToken {
        id,
        email,
        role,
        name,
        shown,
        created_at,
        last_used_at,
        revoked_at,
    })
}
