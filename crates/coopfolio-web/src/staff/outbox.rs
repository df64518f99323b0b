//! The outbox page, for administrators: the notices the product wrote (to officers, about new
//! inquiries), whether each went out by e-mail, and the error of the last attempt if not. On a
//! server without SMTP this is where the notices are read.

use axum::extract::State;
use axum::response::Html;
use coopfolio_store::outbox::OutboxMessage;
use serde::Serialize;

use super::{StaffFrame, StaffUser};
use crate::error::WebError;
use crate::text::catalog;
use crate::{language, render, AppState};

/// Messages shown, newest first.
const SHOWN: i64 = 200;

#[derive(Serialize)]
struct OutboxPage {
    staff: StaffFrame,
    smtp_configured: bool,
    messages: Vec<OutboxMessage>,
}

pub async fn outbox(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Html<String>, WebError> {
    let page = OutboxPage {
        staff: user.frame(),
        smtp_configured: state.mailer.is_some(),
        messages: state.store.outbox_messages(SHOWN).await?,
    };
    Ok(Html(render::page(
        "staff_outbox.html",
        catalog(language::current()),
        page,
    )?))
}
