//! The IATI codelists: bundled into the binary, parsed on first use, and replaceable by newer XML.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A set of codelists by name.
#[derive(Debug, Clone, Default)]
pub struct Codelists {
    lists: HashMap<String, Codelist>,
}

/// One codelist.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    pub name: String,
    pub complete: bool,
    pub embedded: bool,
    pub items: Vec<CodelistItem>,
    index: HashMap<String, usize>,
}

/// One code of a codelist with its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodelistItem {
    pub code: String,
    pub names: Vec<(String, String)>,
    pub withdrawn: bool,
}

/// What can go wrong reading codelists.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    #[error("codelist {list}: {message}")]
    Invalid { list: String, message: String },
}

impl Codelists {
    /// The 70 lists bundled into the binary.
    pub fn bundled() -> Arc<Codelists> {
        todo!()
    }

    /// The bundled lists with some replaced by newer XML (name, xml bytes).
    pub fn with_overrides(_overrides: &[(String, Vec<u8>)]) -> Result<Codelists, CodelistError> {
        todo!()
    }

    /// Parse one codelist XML document.
    pub fn parse_codelist(_xml: &[u8]) -> Result<Codelist, CodelistError> {
        todo!()
    }

    /// Read every *.xml file of a directory (recursively) as codelists.
    pub fn read_dir(_dir: &Path) -> Result<Vec<(Codelist, Vec<u8>)>, CodelistError> {
        todo!()
    }

    pub fn get(&self, name: &str) -> Option<&Codelist> {
        self.lists.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Whether `list` holds `code`; None when there is no such list.
    pub fn contains(&self, list: &str, code: &str) -> Option<bool> {
        self.lists.get(list).map(|l| l.index.contains_key(code))
    }

    /// The name of a code in `lang`, falling back to English, then to any language.
    pub fn name(&self, _list: &str, _code: &str, _lang: &str) -> Option<&str> {
        todo!()
    }
}
