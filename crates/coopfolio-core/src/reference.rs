//! What the reference-data files of `data/reference/` have in common: the error that says which line of
//! which file is wrong, names in the product's three languages, and a small CSV reader that allows `#`
//! comments. The files are meant to be read and edited by an administrator in a text editor, so the reader
//! is strict about columns and explicit in its messages rather than clever.

use std::fmt;

/// Why a reference-data file was refused. Every message names the file and, when it can, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// One line is wrong: a missing column, an unknown code, a value that is not a number.
    #[error("{file}, line {line}: {message}")]
    Line {
        file: &'static str,
        line: usize,
        message: String,
    },
    /// The file as a whole is wrong: no header, no rows.
    #[error("{file}: {message}")]
    File { file: &'static str, message: String },
}

/// A name in the three languages of the product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Names {
    pub en: String,
    pub fr: String,
    pub es: String,
}

impl Names {
    /// The name in `lang` ("en", "fr", "es", or a tag such as "fr-CH"); English for any other language.
    pub fn get(&self, lang: &str) -> &str {
        match lang_index(lang) {
            1 => &self.fr,
            2 => &self.es,
            _ => &self.en,
        }
    }
}

/// 0 for English (and any language the product does not speak), 1 for French, 2 for Spanish.
pub(crate) fn lang_index(lang: &str) -> usize {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    if primary.eq_ignore_ascii_case("fr") {
        1
    } else if primary.eq_ignore_ascii_case("es") {
        2
    } else {
        0
    }
}

/// A closed set of codes with labels in three languages: the enums of the partnership model
/// (partner groups, modalities, regions, policy areas). Each gets `ALL`, `code`, `from_code`, `label`,
/// `Display` (the code), `FromStr` and serde as its code, so that the code is the one spelling used in
/// data files, the database and the API.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, [$en:literal, $fr:literal, $es:literal] ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order in which the product lists them.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The stable snake_case code used in data files, the database and the API.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            /// The value with this code, if there is one (codes are exact: lower case).
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $( $code => Some($name::$variant), )+ _ => None }
            }

            /// The label in `lang` ("en", "fr", "es"); English for any other language.
            pub fn label(self, lang: &str) -> &'static str {
                let labels: [&'static str; 3] = match self { $( $name::$variant => [$en, $fr, $es] ),+ };
                labels[$crate::reference::lang_index(lang)]
            }

            /// The codes, comma-separated, for messages that list what is allowed.
            pub(crate) fn codes_for_message() -> String {
                Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::from_code(text).ok_or_else(|| {
                    format!("'{text}' is not {}: expected one of {}", $what, Self::codes_for_message())
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use coded_enum;

/// One data row of a reference CSV file: its line number (1-based, as an editor shows it) and its fields,
/// as many as the header has columns.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

impl Record {
    /// An error about this row.
    pub fn error(&self, file: &'static str, message: impl fmt::Display) -> ReferenceError {
        ReferenceError::Line {
            file,
            line: self.line,
            message: message.to_string(),
        }
    }
}

/// Read a reference CSV file: `#` comment lines and blank lines are skipped anywhere, the first other line
/// is the header and must be exactly `columns`, and every row must have that many fields. Fields are
/// trimmed; a field in double quotes may hold commas, and `""` inside quotes is one quote. A quoted field
/// cannot span lines: reference data has no use for that, and refusing it keeps line numbers honest.
///
/// When the last column is `note`, it takes the rest of the line, commas included, so that an
/// administrator can write a sentence there without quoting it.
pub(crate) fn read_csv(
    file: &'static str,
    text: &str,
    columns: &[&str],
) -> Result<Vec<Record>, ReferenceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header_seen = false;
    let mut records = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let limit = (header_seen && columns.last() == Some(&"note")).then_some(columns.len());
        let fields = split_csv_line(trimmed, limit).map_err(|message| ReferenceError::Line {
            file,
            line,
            message,
        })?;
        if !header_seen {
            header_seen = true;
            if fields != columns {
                return Err(ReferenceError::Line {
                    file,
                    line,
                    message: format!(
                        "the header must be '{}', found '{}'",
                        columns.join(","),
                        fields.join(",")
                    ),
                });
            }
            continue;
        }
        if fields.len() != columns.len() {
            return Err(ReferenceError::Line {
                file,
                line,
                message: format!(
                    "expected {} fields ({}), found {}",
                    columns.len(),
                    columns.join(","),
                    fields.len()
                ),
            });
        }
        records.push(Record { line, fields });
    }
    if !header_seen {
        return Err(ReferenceError::File {
            file,
            message: format!("there is no header line (expected '{}')", columns.join(",")),
        });
    }
    Ok(records)
}

/// Split one CSV line into trimmed fields; with a `limit`, the last field takes the rest of the line.
fn split_csv_line(line: &str, limit: Option<usize>) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        // Skip the blanks before a field, so that `a, "b"` reads as two fields.
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if limit.is_some_and(|limit| fields.len() + 1 == limit) && chars.peek() != Some(&'"') {
            fields.push(chars.collect::<String>().trim().to_owned());
            return Ok(fields);
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".to_owned()),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => {
                    return Err(format!(
                    "unexpected {c:?} after a quoted field: a field in quotes must end at a comma"
                ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_owned());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_owned());
        }
    }
}

/// ASCII case-insensitive "starts with", without allocating: identifiers are compared this way because
/// publishers write `xm-dac-41114` as well as `XM-DAC-41114`.
pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_into_trimmed_fields() {
        let cases: &[(&str, &[&str])] = &[
            ("a,b,c", &["a", "b", "c"]),
            (" a , b ,c ", &["a", "b", "c"]),
            ("a,,c", &["a", "", "c"]),
            ("a,b,", &["a", "b", ""]),
            (
                r#""Micronesia, Federated States of",FM"#,
                &["Micronesia, Federated States of", "FM"],
            ),
            (r#"a, "say ""hello""" ,c"#, &["a", r#"say "hello""#, "c"]),
        ];
        for (line, expected) in cases {
            assert_eq!(split_csv_line(line, None).unwrap(), *expected, "{line}");
        }
        assert_eq!(
            split_csv_line(r#"a,"b"#, None).unwrap_err(),
            "a quoted field is not closed"
        );
        assert!(split_csv_line(r#""b"x,c"#, None).is_err());
        assert_eq!(
            split_csv_line("a, b, c, d", Some(2)).unwrap(),
            ["a", "b, c, d"]
        );
        assert_eq!(
            split_csv_line(r#"a, "b, c""#, Some(2)).unwrap(),
            ["a", "b, c"]
        );
        assert_eq!(split_csv_line("a,", Some(2)).unwrap(), ["a", ""]);
        assert_eq!(split_csv_line("a", Some(2)).unwrap(), ["a"]);
    }

    #[test]
    fn csv_files_skip_comments_and_name_the_line_that_is_wrong() {
        let text = "# a comment\n\ncode,name\n# another\nx, X\ny,Y,extra\n";
        let with_note = read_csv(
            "test.csv",
            "code,note\nx, a note, with a comma\n",
            &["code", "note"],
        );
        assert_eq!(with_note.unwrap()[0].fields, ["x", "a note, with a comma"]);
        let err = read_csv("test.csv", text, &["code", "name"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.csv, line 6: expected 2 fields (code,name), found 3"
        );
        let records = read_csv("test.csv", "\u{feff}code,name\nx, X\n", &["code", "name"]).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].line, 2);
        assert_eq!(records[0].fields, ["x", "X"]);
        assert_eq!(
            read_csv("test.csv", "# only comments\n", &["code"])
                .unwrap_err()
                .to_string(),
            "test.csv: there is no header line (expected 'code')"
        );
        assert_eq!(
            read_csv("test.csv", "name,code\n", &["code", "name"])
                .unwrap_err()
                .to_string(),
            "test.csv, line 1: the header must be 'code,name', found 'name,code'"
        );
    }

    #[test]
    fn names_fall_back_to_english() {
        let names = Names {
            en: "United Nations".into(),
            fr: "Nations Unies".into(),
            es: "Naciones Unidas".into(),
        };
        assert_eq!(names.get("fr"), "Nations Unies");
        assert_eq!(names.get("es-419"), "Naciones Unidas");
        assert_eq!(names.get("FR_ch"), "Nations Unies");
        assert_eq!(names.get("de"), "United Nations");
        assert_eq!(names.get(""), "United Nations");
    }
}
