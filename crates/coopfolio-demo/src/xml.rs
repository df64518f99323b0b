//! IATI 2.03 XML for a generated activity, written from the model so that the two always agree: the store
//! keeps every activity's raw XML, and reading this text back with the crate's reader gives the same
//! activity. Only the elements the model holds are written, in the order the 2.03 schema requires.

use std::fmt::Write;

use coopfolio_iati::model::{Activity, Narrative, OrganisationRef, Value};

/// The `<iati-activity>` element of `activity`.
pub fn activity_xml(activity: &Activity) -> String {
    let mut xml = String::with_capacity(4096);
    xml.push_str("<iati-activity");
    attribute(
        &mut xml,
        "last-updated-datetime",
        activity.last_updated.as_deref(),
    );
    attribute(&mut xml, "xml:lang", activity.default_lang.as_deref());
    attribute(
        &mut xml,
        "default-currency",
        activity.default_currency.as_deref(),
    );
    let hierarchy = activity.hierarchy.map(|h| h.to_string());
    attribute(&mut xml, "hierarchy", hierarchy.as_deref());
    xml.push_str(">\n");
    let default_lang = activity.default_lang.as_deref();

    let _ = writeln!(
        xml,
        " <iati-identifier>{}</iati-identifier>",
        escape(&activity.identifier)
    );
    if let Some(reporting_org) = &activity.reporting_org {
        organisation(&mut xml, "reporting-org", reporting_org, None, default_lang);
    }
    holder(&mut xml, "title", &[], &activity.titles, default_lang);
    for description in &activity.descriptions {
        let kind = description.kind.as_deref();
        holder(
            &mut xml,
            "description",
            &[("type", kind)],
            &description.narratives,
            default_lang,
        );
    }
    for org in &activity.participating_orgs {
        holder(
            &mut xml,
            "participating-org",
            &[
                ("ref", org.reference.as_deref()),
                ("type", org.kind.as_deref()),
                ("role", org.role.as_deref()),
                ("activity-id", org.activity_identifier.as_deref()),
                ("crs-channel-code", org.crs_channel_code.as_deref()),
            ],
            &org.names,
            default_lang,
        );
    }
    if let Some(status) = &activity.status {
        empty(
            &mut xml,
            "activity-status",
            &[("code", Some(status.as_str()))],
        );
    }
    for date in &activity.dates {
        empty(
            &mut xml,
            "activity-date",
            &[
                ("type", Some(date.kind.as_str())),
                ("iso-date", Some(date.date.as_str())),
            ],
        );
    }
    for country in &activity.recipient_countries {
        let percentage = country.percentage.map(|p| p.to_string());
        empty(
            &mut xml,
            "recipient-country",
            &[
                ("code", Some(country.code.as_str())),
                ("percentage", percentage.as_deref()),
            ],
        );
    }
    for region in &activity.recipient_regions {
        let percentage = region.percentage.map(|p| p.to_string());
        empty(
            &mut xml,
            "recipient-region",
            &[
                ("code", Some(region.code.as_str())),
                ("vocabulary", region.vocabulary.as_deref()),
                ("percentage", percentage.as_deref()),
            ],
        );
    }
    for sector in &activity.sectors {
        let percentage = sector.percentage.map(|p| p.to_string());
        empty(
            &mut xml,
            "sector",
            &[
                ("code", Some(sector.code.as_str())),
                ("vocabulary", sector.vocabulary.as_deref()),
                ("percentage", percentage.as_deref()),
            ],
        );
    }
    for (element, code) in [
        ("collaboration-type", &activity.collaboration_type),
        ("default-flow-type", &activity.default_flow_type),
        ("default-finance-type", &activity.default_finance_type),
    ] {
        if let Some(code) = code {
            empty(&mut xml, element, &[("code", Some(code.as_str()))]);
        }
    }
    for aid_type in &activity.default_aid_types {
        empty(
            &mut xml,
            "default-aid-type",
            &[
                ("code", Some(aid_type.code.as_str())),
                ("vocabulary", aid_type.vocabulary.as_deref()),
            ],
        );
    }
    if let Some(code) = &activity.default_tied_status {
        empty(
            &mut xml,
            "default-tied-status",
            &[("code", Some(code.as_str()))],
        );
    }
    for budget in &activity.budgets {
        xml.push_str(" <budget");
        attribute(&mut xml, "type", budget.kind.as_deref());
        attribute(&mut xml, "status", budget.status.as_deref());
        xml.push_str(">\n");
        if let Some(date) = &budget.period_start {
            empty_at(
                &mut xml,
                2,
                "period-start",
                &[("iso-date", Some(date.as_str()))],
            );
        }
        if let Some(date) = &budget.period_end {
            empty_at(
                &mut xml,
                2,
                "period-end",
                &[("iso-date", Some(date.as_str()))],
            );
        }
        if let Some(value) = &budget.value {
            value_element(&mut xml, value);
        }
        xml.push_str(" </budget>\n");
    }
    for transaction in &activity.transactions {
        xml.push_str(" <transaction");
        attribute(&mut xml, "ref", transaction.reference.as_deref());
        xml.push_str(">\n");
        if let Some(kind) = &transaction.kind {
            empty_at(
                &mut xml,
                2,
                "transaction-type",
                &[("code", Some(kind.as_str()))],
            );
        }
        if let Some(date) = &transaction.date {
            empty_at(
                &mut xml,
                2,
                "transaction-date",
                &[("iso-date", Some(date.as_str()))],
            );
        }
        if let Some(value) = &transaction.value {
            value_element(&mut xml, value);
        }
        if !transaction.description.is_empty() {
            xml.push_str("  <description>");
            narratives(&mut xml, &transaction.description, default_lang);
            xml.push_str("</description>\n");
        }
        if let Some(provider) = &transaction.provider_org {
            xml.push(' ');
            organisation(
                &mut xml,
                "provider-org",
                provider,
                Some("provider-activity-id"),
                default_lang,
            );
        }
        if let Some(receiver) = &transaction.receiver_org {
            xml.push(' ');
            organisation(
                &mut xml,
                "receiver-org",
                receiver,
                Some("receiver-activity-id"),
                default_lang,
            );
        }
        xml.push_str(" </transaction>\n");
    }
    for related in &activity.related_activities {
        empty(
            &mut xml,
            "related-activity",
            &[
                ("ref", Some(related.identifier.as_str())),
                ("type", related.kind.as_deref()),
            ],
        );
    }
    xml.push_str("</iati-activity>");
    xml
}

/// A whole IATI activities document around activity elements, for files and tests.
pub fn document(activity_elements: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Vec<u8> {
    let mut document = Vec::new();
    document.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"",
    );
    document.extend_from_slice(crate::LAST_UPDATED.as_bytes());
    document.extend_from_slice(b"\">\n");
    for element in activity_elements {
        document.extend_from_slice(element.as_ref());
        document.push(b'\n');
    }
    document.extend_from_slice(b"</iati-activities>\n");
    document
}

/// Text and attribute values with the five XML special characters escaped, so that a name such as
/// "Employers' & Workers' <Centre>" cannot break the document.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn attribute(xml: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let _ = write!(xml, " {name}=\"{}\"", escape(value));
    }
}

fn empty(xml: &mut String, element: &str, attributes: &[(&str, Option<&str>)]) {
    empty_at(xml, 1, element, attributes);
}

fn empty_at(xml: &mut String, indent: usize, element: &str, attributes: &[(&str, Option<&str>)]) {
    for _ in 0..indent {
        xml.push(' ');
    }
    xml.push('<');
    xml.push_str(element);
    for (name, value) in attributes {
        attribute(xml, name, *value);
    }
    xml.push_str("/>\n");
}

/// An element holding narratives: title, description, participating-org.
fn holder(
    xml: &mut String,
    element: &str,
    attributes: &[(&str, Option<&str>)],
    texts: &[Narrative],
    default_lang: Option<&str>,
) {
    let _ = write!(xml, " <{element}");
    for (name, value) in attributes {
        attribute(xml, name, *value);
    }
    xml.push('>');
    narratives(xml, texts, default_lang);
    let _ = writeln!(xml, "</{element}>");
}

/// Narratives; one in the activity's default language carries no `xml:lang`, as publishers write it.
fn narratives(xml: &mut String, texts: &[Narrative], default_lang: Option<&str>) {
    for narrative in texts {
        xml.push_str("<narrative");
        if narrative.lang.as_deref() != default_lang {
            attribute(xml, "xml:lang", narrative.lang.as_deref());
        }
        let _ = write!(xml, ">{}</narrative>", escape(&narrative.text));
    }
}

fn organisation(
    xml: &mut String,
    element: &str,
    organisation: &OrganisationRef,
    activity_attribute: Option<&str>,
    default_lang: Option<&str>,
) {
    let mut attributes = vec![
        ("ref", organisation.reference.as_deref()),
        ("type", organisation.kind.as_deref()),
    ];
    if let Some(name) = activity_attribute {
        attributes.push((name, organisation.activity_identifier.as_deref()));
    }
    holder(xml, element, &attributes, &organisation.names, default_lang);
}

fn value_element(xml: &mut String, value: &Value) {
    xml.push_str("  <value");
    attribute(xml, "currency", value.currency.as_deref());
    attribute(xml, "value-date", value.value_date.as_deref());
    let _ = writeln!(xml, ">{}</value>", value.amount);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            escape(r#"Employers' & Workers' <Centre> "A""#),
            "Employers&apos; &amp; Workers&apos; &lt;Centre&gt; &quot;A&quot;"
        );
    }
}
