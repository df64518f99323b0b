//! The templates, bundled into the binary and parsed once. Names end in `.html`, so minijinja
//! escapes every value it writes into them: text from the database or the query string is
//! never markup.

use std::sync::OnceLock;

use minijinja::{context, Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::language;
use crate::text::Catalog;

/// Renders a page template with `page` as its context, plus `t`, the interface text of the
/// visitor's language, and `languages`, the header's language switch for the request being
/// answered.
pub fn page<S: Serialize>(
    template: &str,
    text: &Catalog,
    page: S,
) -> Result<String, minijinja::Error> {
    environment().get_template(template)?.render(context! {
        t => Value::from_serialize(text),
        page => Value::from_serialize(&page),
        languages => Value::from_serialize(language::switch_links()),
    })
}

/// The error page for a status.
pub fn error_page(
    text: &Catalog,
    status: u16,
    title: &str,
    message: &str,
) -> Result<String, minijinja::Error> {
    page(
        "error.html",
        text,
        context! { status => status, title => title, message => message },
    )
}

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        // Printing something undefined (a misspelt `t.key`, a field a view lacks) is an error
        // the tests see, not an empty string a visitor sees; `{% if x %}` may still ask.
        environment.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // `{{ n|count }}`: a count with its thousands grouped as the page's language writes them.
        environment.add_filter("count", |number: u64| crate::format::count(number));
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("macros.html", include_str!("../templates/macros.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("projects.html", include_str!("../templates/projects.html")),
            ("project.html", include_str!("../templates/project.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("partners.html", include_str!("../templates/partners.html")),
            ("partner.html", include_str!("../templates/partner.html")),
            ("country.html", include_str!("../templates/country.html")),
            (
                "policy_area.html",
                include_str!("../templates/policy_area.html"),
            ),
            (
                "partnerships.html",
                include_str!("../templates/partnerships.html"),
            ),
            (
                "partnership.html",
                include_str!("../templates/partnership.html"),
            ),
            ("funding.html", include_str!("../templates/funding.html")),
            ("contact.html", include_str!("../templates/contact.html")),
            (
                "contact_thanks.html",
                include_str!("../templates/contact_thanks.html"),
            ),
            (
                "staff_base.html",
                include_str!("../templates/staff_base.html"),
            ),
            (
                "staff_login.html",
                include_str!("../templates/staff_login.html"),
            ),
            (
                "staff_password.html",
                include_str!("../templates/staff_password.html"),
            ),
            (
                "staff_inquiries.html",
                include_str!("../templates/staff_inquiries.html"),
            ),
            (
                "staff_inquiry.html",
                include_str!("../templates/staff_inquiry.html"),
            ),
            (
                "staff_audit.html",
                include_str!("../templates/staff_audit.html"),
            ),
            (
                "staff_users.html",
                include_str!("../templates/staff_users.html"),
            ),
            (
                "staff_outbox.html",
                include_str!("../templates/staff_outbox.html"),
            ),
            (
                "staff_imports.html",
                include_str!("../templates/staff_imports.html"),
            ),
            (
                "staff_import.html",
                include_str!("../templates/staff_import.html"),
            ),
            (
                "staff_records_macros.html",
                include_str!("../templates/staff_records_macros.html"),
            ),
            (
                "staff_partners.html",
                include_str!("../templates/staff_partners.html"),
            ),
            (
                "staff_partner.html",
                include_str!("../templates/staff_partner.html"),
            ),
            (
                "staff_agreements.html",
                include_str!("../templates/staff_agreements.html"),
            ),
            (
                "staff_agreement.html",
                include_str!("../templates/staff_agreement.html"),
            ),
            (
                "staff_partnerships.html",
                include_str!("../templates/staff_partnerships.html"),
            ),
            (
                "staff_partnership.html",
                include_str!("../templates/staff_partnership.html"),
            ),
            (
                "staff_projects.html",
                include_str!("../templates/staff_projects.html"),
            ),
            (
                "staff_project.html",
                include_str!("../templates/staff_project.html"),
            ),
            // One-time password links and the settings page.
            (
                "staff_link.html",
                include_str!("../templates/staff_link.html"),
            ),
            (
                "staff_welcome.html",
                include_str!("../templates/staff_welcome.html"),
            ),
            (
                "staff_settings.html",
                include_str!("../templates/staff_settings.html"),
            ),
            // The workspace's own programmes and projects.
            (
                "staff_project_form.html",
                include_str!("../templates/staff_project_form.html"),
            ),
        ] {
            // The templates are part of the program; one that does not parse is a bug that
            // the tests catch on the first page they render.
            environment
                .add_template(name, source)
                .unwrap_or_else(|error| panic!("template {name}: {error}"));
        }
        environment
    })
}
