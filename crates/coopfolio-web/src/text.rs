//! Every piece of interface text, kept as one catalog per language in `text/*.txt` (one
//! `key = value` per line) and bundled into the binary. Templates reach the catalog of the
//! request's language as `t`, so `{{ t.home_title }}`; Rust code asks [`Catalog::get`]. Names of
//! codes (countries, regions, policy areas, modalities, IATI codelists) come from
//! `coopfolio-core`, which already holds them in the three languages.
//!
//! The catalogs are parsed once, on first use. A line that is not `key = value`, or a key given
//! twice, is a bug in the program's own data and panics there; the tests parse every catalog.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
    Es,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    /// The BCP 47 code, as in `<html lang>` and the code lists' language columns.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../text/en.txt"),
            Lang::Fr => include_str!("../text/fr.txt"),
            Lang::Es => include_str!("../text/es.txt"),
        }
    }
}

/// The interface text of one language.
#[derive(Debug)]
pub struct Catalog {
    lang: Lang,
    entries: BTreeMap<&'static str, &'static str>,
}

impl Catalog {
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text under `key`. Every key the program asks for is in every catalog (the tests
    /// render every page in every language), so a missing one is a bug, shown as the key
    /// itself rather than as an empty string that would hide it.
    pub fn get(&self, key: &'static str) -> &'static str {
        self.entries.get(key).copied().unwrap_or(key)
    }

    /// The text under a key made at run time (`ss_method_` and a method sentence's key), if
    /// the catalog has one.
    pub fn find(&self, key: &str) -> Option<&'static str> {
        self.entries.get(key).copied()
    }

    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.keys().copied()
    }
}

/// Templates see the catalog as a map from key to text, plus `lang`.
impl Serialize for Catalog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len() + 1))?;
        map.serialize_entry("lang", self.lang.code())?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The catalog of `lang`, parsed on first use.
pub fn catalog(lang: Lang) -> &'static Catalog {
    static CATALOGS: OnceLock<Vec<Catalog>> = OnceLock::new();
    let catalogs = CATALOGS.get_or_init(|| {
        Lang::ALL
            .iter()
            .map(|&lang| Catalog {
                lang,
                entries: parse(lang.code(), lang.source()),
            })
            .collect()
    });
    &catalogs[Lang::ALL.iter().position(|&each| each == lang).unwrap_or(0)]
}

fn parse(name: &str, source: &'static str) -> BTreeMap<&'static str, &'static str> {
    let mut entries = BTreeMap::new();
    for (index, line) in source.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            panic!("text/{name}.txt line {}: expected `key = value`", index + 1);
        };
        if key == "lang" || entries.insert(key.trim(), value.trim()).is_some() {
            panic!(
                "text/{name}.txt line {}: key `{key}` given twice",
                index + 1
            );
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_exactly_the_keys_of_english() {
        let english: Vec<_> = catalog(Lang::En).keys().collect();
        assert!(english.len() > 50, "the English catalog looks truncated");
        for lang in Lang::ALL {
            let keys: Vec<_> = catalog(lang).keys().collect();
            let missing: Vec<_> = english.iter().filter(|key| !keys.contains(key)).collect();
            let extra: Vec<_> = keys.iter().filter(|key| !english.contains(key)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "text/{}.txt: missing {missing:?}, not in English {extra:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn no_text_is_empty() {
        for lang in Lang::ALL {
            for key in catalog(lang).keys() {
                assert!(!catalog(lang).get(key).is_empty(), "{}: {key}", lang.code());
            }
        }
    }
}
