//! Managing staff accounts from the workspace, for administrators: adding an account with its
//! role and an initial password (which its owner then changes on the password page), and
//! disabling or enabling one. A disabled account's sessions end at once and it cannot log in.
//! The store refuses to demote or disable the last enabled administrator. Every change is
//! audited by the store, in the change's own transaction.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Redirect;
use coopfolio_store::staff::Role;
use serde::Deserialize;

use super::{change_error, parse_form, StaffUser};
use crate::error::WebError;
use crate::AppState;

#[derive(Deserialize)]
struct AddUserForm {
    email: String,
    role: String,
    password: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: AddUserForm = parse_form(&body)?;
    let role = parse_role(&form.role)?;
    state
        .store
        .add_staff_user(&form.email, role, &form.password, user.email())
        .await
        .map_err(change_error)?;
    Ok(Redirect::to("/staff/users"))
}

#[derive(Deserialize)]
struct AccountForm {
    email: String,
}

pub async fn disable_user(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Redirect, WebError> {
    set_disabled(state, user, body, true).await
}

pub async fn enable_user(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Redirect, WebError> {
    set_disabled(state, user, body, false).await
}

async fn set_disabled(
    state: AppState,
    user: StaffUser,
    body: Bytes,
    disabled: bool,
) -> Result<Redirect, WebError> {
    let form: AccountForm = parse_form(&body)?;
    state
        .store
        .set_staff_disabled(&form.email, disabled, user.email())
        .await
        .map_err(change_error)?;
    Ok(Redirect::to("/staff/users"))
}

/// A role from a form, or a 400 naming the field.
pub fn parse_role(code: &str) -> Result<Role, WebError> {
    Role::from_code(code).ok_or_else(|| {
        WebError::BadRequest("The role must be viewer, officer or admin.".to_owned())
    })
}
