//! A strict, allocation-free scanner for the attributes of a start tag.
//!
//! quick-xml's attribute iterator is general (HTML mode, recovery after errors) and was the
//! largest single cost of reading a record; IATI needs only the XML rule, checked strictly:
//! whitespace before each attribute, `name = "value"` with either quote, and no `<` in a
//! value. Duplicate names are checked by the caller, which knows how many it has seen.

/// One attribute as written: its name and its still-escaped value.
pub(crate) struct RawAttribute<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) value: &'a [u8],
    /// Where the value starts, counted from the start of the scanned bytes.
    pub(crate) value_start: usize,
    /// Whether the value is plain ASCII without references, which needs no decoding.
    pub(crate) plain: bool,
}

/// Why the attributes of a tag are not well-formed, and where (from the start of the
/// scanned bytes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AttributeFault {
    pub(crate) position: usize,
    pub(crate) problem: &'static str,
}

/// Iterates the attributes in the bytes that follow an element name in its tag.
pub(crate) struct AttributeScanner<'a> {
    bytes: &'a [u8],
    position: usize,
    failed: bool,
}

impl<'a> AttributeScanner<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        AttributeScanner {
            bytes,
            position: 0,
            failed: false,
        }
    }

    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.position)
            .is_some_and(|&byte| is_whitespace(byte))
        {
            self.position += 1;
        }
    }

    fn fault(&mut self, problem: &'static str) -> Option<Result<RawAttribute<'a>, AttributeFault>> {
        self.failed = true;
        Some(Err(AttributeFault {
            position: self.position,
            problem,
        }))
    }
}

impl<'a> Iterator for AttributeScanner<'a> {
    type Item = Result<RawAttribute<'a>, AttributeFault>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let before_whitespace = self.position;
        self.skip_whitespace();
        if self.position == self.bytes.len() {
            return None;
        }
        if self.position == before_whitespace {
            return self.fault("attributes must be separated by whitespace");
        }
        let key_start = self.position;
        self.position += self.bytes[key_start..]
            .iter()
            .position(|&byte| byte == b'=' || is_whitespace(byte))
            .unwrap_or(self.bytes.len() - key_start);
        let key = &self.bytes[key_start..self.position];
        self.skip_whitespace();
        if key.is_empty() || self.bytes.get(self.position) != Some(&b'=') {
            return self.fault("an attribute name is not followed by `=` and a value");
        }
        self.position += 1;
        self.skip_whitespace();
        let quote = match self.bytes.get(self.position) {
            Some(&quote @ (b'"' | b'\'')) => quote,
            _ => return self.fault("an attribute value is not in quotes"),
        };
        // Values are short, so one plain pass that finds the closing quote and notes what
        // else is there beats several calls to memchr.
        let value_start = self.position + 1;
        let mut plain = true;
        let mut length = None;
        for (index, &byte) in self.bytes[value_start..].iter().enumerate() {
            if byte == quote {
                length = Some(index);
                break;
            }
            if byte == b'<' {
                self.position = value_start + index;
                return self.fault("an attribute value holds a `<` (it must be written `&lt;`)");
            }
            plain &= byte != b'&' && byte.is_ascii();
        }
        let Some(length) = length else {
            return self.fault("an attribute value is not closed by its quote");
        };
        self.position = value_start + length + 1;
        Some(Ok(RawAttribute {
            key,
            value: &self.bytes[value_start..value_start + length],
            value_start,
            plain,
        }))
    }
}

/// XML whitespace.
fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &str) -> Vec<Result<(String, String, usize), AttributeFault>> {
        AttributeScanner::new(bytes.as_bytes())
            .map(|attribute| {
                attribute.map(|attribute| {
                    (
                        String::from_utf8(attribute.key.to_vec()).unwrap(),
                        String::from_utf8(attribute.value.to_vec()).unwrap(),
                        attribute.value_start,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn well_formed_attributes_are_scanned_with_their_places() {
        assert_eq!(
            scan(" a=\"1\"\n\tb = 'two words' xml:lang=\"\" "),
            [
                Ok(("a".into(), "1".into(), 4)),
                Ok(("b".into(), "two words".into(), 13)),
                Ok(("xml:lang".into(), "".into(), 34)),
            ]
        );
        assert!(scan("").is_empty());
        assert!(scan("   ").is_empty());
    }

    #[test]
    fn faults_say_what_and_where() {
        let fault = |position, problem| vec![Err(AttributeFault { position, problem })];
        assert_eq!(
            scan(" a=1"),
            fault(3, "an attribute value is not in quotes")
        );
        assert_eq!(
            scan(" a"),
            fault(2, "an attribute name is not followed by `=` and a value")
        );
        assert_eq!(
            scan(" =\"1\""),
            fault(1, "an attribute name is not followed by `=` and a value")
        );
        assert_eq!(
            scan(" a=\"1"),
            fault(3, "an attribute value is not closed by its quote")
        );
        assert_eq!(
            scan(" a=\"1\"b=\"2\"")[1],
            Err(AttributeFault {
                position: 6,
                problem: "attributes must be separated by whitespace"
            })
        );
        assert_eq!(
            scan(" a=\"x<y\""),
            fault(
                5,
                "an attribute value holds a `<` (it must be written `&lt;`)"
            )
        );
    }
}
