//! Readers the JSON API needs that no page had: agreements as records of their own, with their
//! partners' shares and earmarks. Every other API answer comes from the same store functions
//! as the portal's pages, so the two cannot disagree.
//!
//! Who may see what is decided by the caller's `Visibility`: the public never sees a
//! confidential agreement (only how many were left out), staff see them all, flagged. The
//! filter is in the SQL, so a confidential agreement's row is never read for the public.

use coopfolio_core::reference::Names;
use serde::Serialize;

use crate::sql::dispatch;
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// Whose eyes an answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone: confidential agreements are counted, never itemised.
    Public,
    /// A staff user of any role: everything, confidential agreements included.
    Staff,
}

/// An agreement as the API gives it. Amounts are exact decimal text in the agreement's
/// currency, never converted here: converted figures come with their method notes from the
/// figures endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementRecord {
    pub key: String,
    pub title: Names,
    pub modality: String,
    pub status: String,
    pub signature_date: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub currency: String,
    pub amount: String,
    /// Only ever true in a staff answer.
    pub confidential: bool,
    pub partners: Vec<AgreementShare>,
    pub earmarks: Vec<AgreementEarmark>,
    pub synthetic: bool,
}

/// A partner's share of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementShare {
    pub partner: String,
    pub amount: String,
}

/// Money of an agreement set aside for a project, a country or a policy area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementEarmark {
    /// "project", "country" or "policy_area".
    pub kind: String,
    pub target: String,
    pub amount: String,
}

/// Agreements, and how many confidential ones were left out of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementList {
    pub agreements: Vec<AgreementRecord>,
    pub confidential_withheld: u64,
}

type AgreementRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    bool,
    bool,
);

/// A partner's share: agreement id, partner key, amount.
type ShareRow = (i64, String, String);
/// An earmark: agreement id, target kind, target, amount.
type EarmarkRow = (i64, String, String, String);

const AGREEMENT_COLUMNS: &str = "a.id, a.key, a.title_en, a.title_fr, a.title_es, a.modality, \
    a.status, a.signature_date, a.start_date, a.end_date, a.currency, CAST(a.amount AS TEXT), \
    a.confidential, a.synthetic FROM agreement a";

impl Store {
    /// Every agreement the caller may see, newest signature first (unsigned ones last), then
    /// by key, with the number of confidential agreements left out.
    pub async fn api_agreements(
        &self,
        visibility: Visibility,
    ) -> Result<AgreementList, StoreError> {
        let operation = "listing agreements";
        let public = visibility == Visibility::Public;
        let (rows, withheld): (Vec<AgreementRow>, i64) =
            dispatch!(&self.pool, Pool, pool => async {
            let sql = format!(
                "SELECT {AGREEMENT_COLUMNS} WHERE a.confidential = $1 OR $2 \
                 ORDER BY a.signature_date IS NULL, a.signature_date DESC, a.key"
            );
            let rows = sqlx::query_as(&sql)
                .bind(false)
                .bind(!public)
                .fetch_all(pool)
                .await?;
            let withheld = if public {
                sqlx::query_scalar("SELECT COUNT(*) FROM agreement WHERE confidential = $1")
                    .bind(true)
                    .fetch_one(pool)
                    .await?
            } else {
                0
            };
            Ok::<_, sqlx::Error>((rows, withheld))
        }.await)
            .map_err(StoreError::query(operation))?;
        let agreements = self.agreement_records(rows).await?;
        Ok(AgreementList {
            agreements,
            confidential_withheld: withheld as u64,
        })
    }

    /// One agreement by key, if stored and the caller may see it: for the public, a
    /// confidential agreement is as if it were not stored.
    pub async fn api_agreement(
        &self,
        key: &str,
        visibility: Visibility,
    ) -> Result<Option<AgreementRecord>, StoreError> {
        let rows: Vec<AgreementRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!(
                "SELECT {AGREEMENT_COLUMNS} WHERE a.key = $1 AND (a.confidential = $2 OR $3)"
            );
            sqlx::query_as(&sql)
                .bind(key)
                .bind(false)
                .bind(visibility == Visibility::Staff)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("reading an agreement"))?;
        Ok(self.agreement_records(rows).await?.pop())
    }

    /// The records of these rows, with their shares and earmarks read in two statements.
    async fn agreement_records(
        &self,
        rows: Vec<AgreementRow>,
    ) -> Result<Vec<AgreementRecord>, StoreError> {
        let operation = "reading agreements";
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // The ids come from the database as integers, so they are safe to write inline.
        let ids = crate::portal::id_list(&rows.iter().map(|row| row.0).collect::<Vec<_>>());
        let (shares, earmarks): (Vec<ShareRow>, Vec<EarmarkRow>) =
            dispatch!(&self.pool, Pool, pool => async {
                let shares = sqlx::query_as(&format!(
                    "SELECT s.agreement_id, p.key, CAST(s.amount AS TEXT) FROM agreement_partner s \
                     JOIN partner p ON p.id = s.partner_id WHERE s.agreement_id IN ({ids}) \
                     ORDER BY s.agreement_id, s.position"
                ))
                .fetch_all(pool)
                .await?;
                let earmarks = sqlx::query_as(&format!(
                    "SELECT agreement_id, target_kind, target, CAST(amount AS TEXT) FROM earmark \
                     WHERE agreement_id IN ({ids}) ORDER BY agreement_id, position"
                ))
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((shares, earmarks))
            }.await)
            .map_err(StoreError::query(operation))?;
        let exact = |text: &str| parse_decimal(text, operation).map(|d| d.normalize().to_string());
        rows.into_iter()
            .map(|row| {
                let id = row.0;
                Ok(AgreementRecord {
                    key: row.1,
                    title: Names {
                        en: row.2,
                        fr: row.3,
                        es: row.4,
                    },
                    modality: row.5,
                    status: row.6,
                    signature_date: row.7,
                    start_date: row.8,
                    end_date: row.9,
                    currency: row.10,
                    amount: exact(&row.11)?,
                    confidential: row.12,
                    partners: shares
                        .iter()
                        .filter(|share| share.0 == id)
                        .map(|share| {
                            Ok(AgreementShare {
                                partner: share.1.clone(),
                                amount: exact(&share.2)?,
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                    earmarks: earmarks
                        .iter()
                        .filter(|earmark| earmark.0 == id)
                        .map(|earmark| {
                            Ok(AgreementEarmark {
                                kind: earmark.1.clone(),
                                target: earmark.2.clone(),
                                amount: exact(&earmark.3)?,
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                    synthetic: row.13,
                })
            })
            .collect()
    }
}
