//! Kept activity XML made ready to stand inside a new `<iati-activities>` root.
//!
//! The importer keeps each activity's exact bytes, from `<iati-activity` to its end tag. Those
//! bytes are written out unchanged but for one thing: a namespace prefix (`iati-extra:`,
//! `akvo:`, ...) that the element uses but whose declaration sat on the original root would be
//! undeclared in the new file, which no namespace-aware parser accepts. Such prefixes are
//! declared on the `<iati-activity>` start tag, with the URI publishers use for the well-known
//! ones and a `urn:` naming the prefix for the rest (the original URI was on the root, which
//! was not kept). The schema lets any foreign namespace in, so either way the file stays valid.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::WriteError;

/// The namespaces publishers commonly declare on the root of an activity file.
const KNOWN_NAMESPACES: &[(&str, &str)] = &[
    ("iati-extra", "http://datastore.iatistandard.org/ns"),
    ("akvo", "http://akvo.org/iati-activities"),
    ("usg", "http://www.usaid.gov/foreignassistance"),
    ("dfid", "http://iati.dfid.gov.uk/"),
];

/// Checks that `raw_xml` is one `<iati-activity>` element and declares the prefixes it uses
/// without declaring. Bytes that need nothing are borrowed as they are.
pub(super) fn prepare(raw_xml: &[u8]) -> Result<Cow<'_, [u8]>, WriteError> {
    const START: &[u8] = b"<iati-activity";
    let element = raw_xml.trim_ascii();
    let after_name = element.get(START.len()).copied();
    if !element.starts_with(START)
        || !matches!(after_name, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
    {
        return Err(WriteError::NotAnActivityElement {
            reason: "it does not start with <iati-activity",
        });
    }
    if !element.ends_with(b">") {
        return Err(WriteError::NotAnActivityElement {
            reason: "it does not end with a tag",
        });
    }
    let undeclared = undeclared_prefixes(element);
    if undeclared.is_empty() {
        return Ok(Cow::Borrowed(element));
    }
    let mut declarations = Vec::new();
    for prefix in &undeclared {
        let uri = KNOWN_NAMESPACES
            .iter()
            .find(|(known, _)| known == prefix)
            .map(|(_, uri)| Cow::Borrowed(*uri))
            .unwrap_or_else(|| Cow::Owned(format!("urn:x-coopfolio:undeclared-prefix:{prefix}")));
        declarations.extend_from_slice(format!(" xmlns:{prefix}=\"{uri}\"").as_bytes());
    }
    let mut prepared = Vec::with_capacity(element.len() + declarations.len());
    prepared.extend_from_slice(START);
    prepared.extend_from_slice(&declarations);
    prepared.extend_from_slice(&element[START.len()..]);
    Ok(Cow::Owned(prepared))
}

/// The prefixes of element and attribute names in the markup that no `xmlns:` attribute of
/// the element declares (`xml` is always declared). Comments, CDATA sections, processing
/// instructions and attribute values are skipped, so text that looks like a name is not taken
/// for one.
fn undeclared_prefixes(element: &[u8]) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut declared = BTreeSet::new();
    let mut position = 0;
    while let Some(offset) = memchr::memchr(b'<', &element[position..]) {
        position += offset + 1;
        let rest = &element[position..];
        if rest.starts_with(b"!--") {
            position += find(rest, b"-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with(b"![CDATA[") {
            position += find(rest, b"]]>").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with(b"?") || rest.starts_with(b"/") || rest.starts_with(b"!") {
            continue;
        }
        // A start tag: its name, then attributes until '>'.
        let (name, mut index) = read_name(rest, 0);
        add_prefix(name, &mut used);
        loop {
            while index < rest.len() && rest[index].is_ascii_whitespace() {
                index += 1;
            }
            match rest.get(index) {
                None | Some(b'>') => break,
                Some(b'/') => {
                    index += 1;
                    continue;
                }
                _ => {}
            }
            let (attribute, after_attribute) = read_name(rest, index);
            if attribute.is_empty() {
                // Not well-formed; the reader would have refused it, so stop looking.
                break;
            }
            index = after_attribute;
            if let Some(prefix) = attribute.strip_prefix(b"xmlns:") {
                declared.insert(String::from_utf8_lossy(prefix).into_owned());
            } else if attribute != b"xmlns" {
                add_prefix(attribute, &mut used);
            }
            // Skip `= "value"`.
            while index < rest.len() && rest[index] != b'"' && rest[index] != b'\'' {
                if rest[index] == b'>' {
                    break;
                }
                index += 1;
            }
            if let Some(&quote) = rest.get(index).filter(|&&b| b == b'"' || b == b'\'') {
                index += 1;
                index +=
                    memchr::memchr(quote, &rest[index..]).map_or(rest.len() - index, |e| e + 1);
            }
        }
        position += index;
    }
    used.retain(|prefix| prefix != "xml" && !declared.contains(prefix));
    used
}

fn read_name(bytes: &[u8], from: usize) -> (&[u8], usize) {
    let mut end = from;
    while end < bytes.len()
        && !matches!(
            bytes[end],
            b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/' | b'='
        )
    {
        end += 1;
    }
    (&bytes[from..end], end)
}

fn add_prefix(name: &[u8], prefixes: &mut BTreeSet<String>) {
    if let Some(colon) = memchr::memchr(b':', name) {
        prefixes.insert(String::from_utf8_lossy(&name[..colon]).into_owned());
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_that_declares_what_it_uses_is_borrowed_unchanged() {
        let raw =
            b"<iati-activity xml:lang=\"en\"><iati-identifier>A</iati-identifier></iati-activity>";
        assert!(matches!(prepare(raw).unwrap(), Cow::Borrowed(bytes) if bytes == raw));
    }

    #[test]
    fn prefixes_declared_on_the_lost_root_are_declared_on_the_element() {
        let raw = b"<iati-activity iati-extra:version=\"2.03\"><!-- akvo:x --><akvo:photo a=\"usg:no\"/></iati-activity>";
        let prepared = prepare(raw).unwrap();
        let text = std::str::from_utf8(&prepared).unwrap();
        assert!(text.starts_with(
            "<iati-activity xmlns:akvo=\"http://akvo.org/iati-activities\" \
             xmlns:iati-extra=\"http://datastore.iatistandard.org/ns\" iati-extra:version"
        ));
        assert!(!text.contains("xmlns:usg"), "{text}");
    }

    #[test]
    fn bytes_that_are_not_an_activity_are_refused() {
        assert!(prepare(b"<iati-activityx/>").is_err());
        assert!(prepare(b"<iati-organisation></iati-organisation>").is_err());
        assert!(prepare(b"<iati-activity>text").is_err());
    }
}
