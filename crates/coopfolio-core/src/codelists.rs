//! The IATI codelists: the 70 lists of IATI 2.03 bundled into the binary and parsed on first use, a parser
//! for the IATI `codelist.xsd` format so that newer lists (from the database or a directory) can replace
//! bundled ones without a rebuild, and the lookups the importer makes for every code it reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// A set of codelists, by name.
#[derive(Debug, Clone, Default)]
pub struct Codelists {
    lists: HashMap<String, Codelist>,
    /// The names in order, so that listings come out the same every time.
    sorted_names: Vec<String>,
}

/// One codelist, as `codelist.xsd` describes it.
///
/// Build one with [`Codelists::parse_codelist`]; the code index is built there, so `items` is for reading:
/// changing it leaves [`Codelist::contains`] and [`Codelist::item`] answering for the list as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    pub name: String,
    /// `@complete`: every code that may occur is listed (Country, for one, is not complete).
    pub complete: bool,
    /// `@embedded`: the list belongs to a version of the standard rather than being maintained beside it.
    pub embedded: bool,
    /// The items in document order, withdrawn ones included.
    pub items: Vec<CodelistItem>,
    /// Code -> position in `items`; when a code is listed twice (FileFormat does), the first one wins.
    index: HashMap<String, usize>,
}

/// One code of a codelist with its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodelistItem {
    pub code: String,
    /// (language, name) pairs; the language is the narrative's `xml:lang`, else the list's, else "en".
    pub names: Vec<(String, String)>,
    /// `@status="withdrawn"`: no longer to be used, but still found in older data.
    pub withdrawn: bool,
}

/// What can be wrong with codelists. Each message names the list or file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    /// The document is not well-formed XML (or not UTF-8).
    #[error("{origin}: malformed XML at line {line}: {message}")]
    Xml {
        origin: String,
        line: usize,
        message: String,
    },
    /// Well-formed XML, but not a codelist as `codelist.xsd` describes it.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    /// An override given for one list holds another.
    #[error("the replacement for codelist '{expected}' is codelist '{found}'")]
    NameMismatch { expected: String, found: String },
    /// A file or directory could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Two files of a directory define the same list.
    #[error("codelist '{name}' is defined twice: in {first} and in {second}")]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}

impl CodelistError {
    /// Says where a parse error comes from (a file, an override) in place of the bare list name.
    fn located(self, origin: impl FnOnce(&str) -> String) -> Self {
        match self {
            CodelistError::Xml {
                origin: old,
                line,
                message,
            } => CodelistError::Xml {
                origin: origin(&old),
                line,
                message,
            },
            CodelistError::Invalid {
                origin: old,
                message,
            } => CodelistError::Invalid {
                origin: origin(&old),
                message,
            },
            other => other,
        }
    }
}

/// `(name, xml)` of a bundled list, from `data/codelists/<dir>/<name>.xml`.
macro_rules! bundle {
    ($dir:literal, $name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../data/codelists/",
                $dir,
                "/",
                $name,
                ".xml"
            ))
            .as_slice(),
        )
    };
}

/// The codelists of `data/codelists/`, spelled out rather than globbed by a build script so that adding
/// or dropping one is a visible change; a test checks that this list and the directory agree.
const BUNDLED: [(&str, &[u8]); 70] = [
    bundle!("embedded", "ActivityDateType"),
    bundle!("embedded", "ActivityStatus"),
    bundle!("embedded", "BudgetStatus"),
    bundle!("embedded", "BudgetType"),
    bundle!("embedded", "DocumentCategory"),
    bundle!("embedded", "GazetteerAgency"),
    bundle!("embedded", "OrganisationRole"),
    bundle!("embedded", "RelatedActivityType"),
    bundle!("embedded", "TransactionType"),
    bundle!("non-embedded", "ActivityScope"),
    bundle!("non-embedded", "AidType-category"),
    bundle!("non-embedded", "AidType"),
    bundle!("non-embedded", "AidTypeVocabulary"),
    bundle!("non-embedded", "BudgetIdentifier"),
    bundle!("non-embedded", "BudgetIdentifierSector-category"),
    bundle!("non-embedded", "BudgetIdentifierSector"),
    bundle!("non-embedded", "BudgetIdentifierVocabulary"),
    bundle!("non-embedded", "BudgetNotProvided"),
    bundle!("non-embedded", "CRSAddOtherFlags"),
    bundle!("non-embedded", "CRSChannelCode"),
    bundle!("non-embedded", "CashandVoucherModalities"),
    bundle!("non-embedded", "CollaborationType"),
    bundle!("non-embedded", "ConditionType"),
    bundle!("non-embedded", "ContactType"),
    bundle!("non-embedded", "Country"),
    bundle!("non-embedded", "Currency"),
    bundle!("non-embedded", "DescriptionType"),
    bundle!("non-embedded", "DisbursementChannel"),
    bundle!("non-embedded", "DocumentCategory-category"),
    bundle!("non-embedded", "EarmarkingCategory"),
    bundle!("non-embedded", "FileFormat"),
    bundle!("non-embedded", "FinanceType-category"),
    bundle!("non-embedded", "FinanceType"),
    bundle!("non-embedded", "FlowType"),
    bundle!("non-embedded", "GeographicExactness"),
    bundle!("non-embedded", "GeographicLocationClass"),
    bundle!("non-embedded", "GeographicLocationReach"),
    bundle!("non-embedded", "GeographicVocabulary"),
    bundle!("non-embedded", "GeographicalPrecision"),
    bundle!("non-embedded", "HumanitarianScopeType"),
    bundle!("non-embedded", "HumanitarianScopeVocabulary"),
    bundle!("non-embedded", "IATIOrganisationIdentifier"),
    bundle!("non-embedded", "IndicatorMeasure"),
    bundle!("non-embedded", "IndicatorVocabulary"),
    bundle!("non-embedded", "Language"),
    bundle!("non-embedded", "LoanRepaymentPeriod"),
    bundle!("non-embedded", "LoanRepaymentType"),
    bundle!("non-embedded", "LocationType-category"),
    bundle!("non-embedded", "LocationType"),
    bundle!("non-embedded", "OrganisationIdentifier"),
    bundle!("non-embedded", "OrganisationRegistrationAgency"),
    bundle!("non-embedded", "OrganisationType"),
    bundle!("non-embedded", "OtherIdentifierType"),
    bundle!("non-embedded", "PolicyMarker"),
    bundle!("non-embedded", "PolicyMarkerVocabulary"),
    bundle!("non-embedded", "PolicySignificance"),
    bundle!("non-embedded", "PublisherType"),
    bundle!("non-embedded", "Region"),
    bundle!("non-embedded", "RegionVocabulary"),
    bundle!("non-embedded", "ResultType"),
    bundle!("non-embedded", "ResultVocabulary"),
    bundle!("non-embedded", "Sector"),
    bundle!("non-embedded", "SectorCategory"),
    bundle!("non-embedded", "SectorVocabulary"),
    bundle!("non-embedded", "TagVocabulary"),
    bundle!("non-embedded", "TiedStatus"),
    bundle!("non-embedded", "UNSDG-Goals"),
    bundle!("non-embedded", "UNSDG-Targets"),
    bundle!("non-embedded", "VerificationStatus"),
    bundle!("non-embedded", "Version"),
];

/// Parsed once, on first use: most runs of the binary never look at a codelist.
static BUNDLED_LISTS: LazyLock<Arc<Codelists>> = LazyLock::new(|| {
    let mut lists = Codelists::default();
    for (name, xml) in BUNDLED {
        // The bundled files are fixed at build time and the tests parse every one of them, so a failure
        // here is a broken build, not a run-time condition.
        let list = Codelists::parse_codelist(xml)
            .unwrap_or_else(|e| panic!("bundled codelist {name} does not parse: {e}"));
        assert_eq!(list.name, name, "bundled codelist file and name disagree");
        lists.insert(list);
    }
    Arc::new(lists)
});

impl Codelists {
    /// The 70 lists bundled into the binary.
    pub fn bundled() -> Arc<Codelists> {
        Arc::clone(&BUNDLED_LISTS)
    }

    /// The bundled lists with some replaced by newer XML (name, xml bytes), e.g. from the database.
    ///
    /// A name the bundle does not know adds a list: IATI may publish a new one after this build. When a
    /// name comes twice, the later XML wins.
    /// Errors name the list and what is wrong; one bad override fails the whole set rather than leaving
    /// a mix of old and new lists that nobody asked for.
    pub fn with_overrides(overrides: &[(String, Vec<u8>)]) -> Result<Codelists, CodelistError> {
        let mut lists = Codelists::clone(&Self::bundled());
        for (name, xml) in overrides {
            let list = Self::parse_codelist(xml)
                .map_err(|e| e.located(|_| format!("replacement for codelist '{name}'")))?;
            if &list.name != name {
                return Err(CodelistError::NameMismatch {
                    expected: name.clone(),
                    found: list.name,
                });
            }
            lists.insert(list);
        }
        Ok(lists)
    }

    /// Parse one codelist XML document (the IATI `codelist.xsd` format).
    pub fn parse_codelist(xml: &[u8]) -> Result<Codelist, CodelistError> {
        Parser::new(xml).codelist()
    }

    /// Read every `*.xml` file of a directory (recursively) as codelists, in path order, each paired with
    /// its bytes. Errors name the file.
    pub fn read_dir(dir: &Path) -> Result<Vec<(Codelist, Vec<u8>)>, CodelistError> {
        let mut files = Vec::new();
        collect_xml_files(dir, &mut files)?;
        files.sort();
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        let mut lists = Vec::with_capacity(files.len());
        for path in files {
            let xml = std::fs::read(&path).map_err(|error| CodelistError::Io {
                path: path.clone(),
                error,
            })?;
            let list = Self::parse_codelist(&xml)
                .map_err(|e| e.located(|list| format!("{} ({list})", path.display())))?;
            if let Some(first) = seen.get(&list.name) {
                return Err(CodelistError::Duplicate {
                    name: list.name,
                    first: first.clone(),
                    second: path,
                });
            }
            seen.insert(list.name.clone(), path);
            lists.push((list, xml));
        }
        Ok(lists)
    }

    /// The list called `name` (names compare exactly: "TransactionType").
    pub fn get(&self, name: &str) -> Option<&Codelist> {
        self.lists.get(name)
    }

    /// The list names, in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sorted_names.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Some(true) when `list` exists and holds `code` (withdrawn codes count as known), Some(false) when
    /// the list exists and lacks it, None when there is no such list. Two hash lookups, no allocation:
    /// the importer calls this for every code it reads.
    #[inline]
    pub fn contains(&self, list: &str, code: &str) -> Option<bool> {
        self.lists.get(list).map(|l| l.contains(code))
    }

    /// The name of a code in `lang` ("en", "fr", "es"...), falling back to English, then to any language.
    pub fn name(&self, list: &str, code: &str, lang: &str) -> Option<&str> {
        self.lists.get(list)?.item(code)?.name(lang)
    }

    /// Adds or replaces a list.
    fn insert(&mut self, list: Codelist) {
        if !self.lists.contains_key(&list.name) {
            let at = self.sorted_names.partition_point(|n| *n < list.name);
            self.sorted_names.insert(at, list.name.clone());
        }
        self.lists.insert(list.name.clone(), list);
    }
}

impl Codelist {
    /// Whether the list holds `code` (withdrawn or not). Codes compare exactly.
    #[inline]
    pub fn contains(&self, code: &str) -> bool {
        self.index.contains_key(code)
    }

    /// The item for `code`.
    pub fn item(&self, code: &str) -> Option<&CodelistItem> {
        // `items` is public; if someone has shortened it, a stale index must not panic.
        self.index.get(code).and_then(|&i| self.items.get(i))
    }

    fn new(name: String, complete: bool, embedded: bool, items: Vec<CodelistItem>) -> Self {
        let mut index = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            index.entry(item.code.clone()).or_insert(i);
        }
        Codelist {
            name,
            complete,
            embedded,
            items,
            index,
        }
    }
}

impl CodelistItem {
    /// The name in `lang`, else in English, else the first one given. Languages compare without regard
    /// to case, as `xml:lang` values do.
    pub fn name(&self, lang: &str) -> Option<&str> {
        let find = |lang: &str| {
            self.names
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(lang))
                .map(|(_, n)| n.as_str())
        };
        find(lang)
            .or_else(|| find("en"))
            .or_else(|| self.names.first().map(|(_, n)| n.as_str()))
    }
}

fn collect_xml_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), CodelistError> {
    let io = |error| CodelistError::Io {
        path: dir.to_path_buf(),
        error,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        // Directory symlinks are not followed, so a link cycle cannot trap the walk; file links are.
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            collect_xml_files(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
            && path.is_file()
        {
            files.push(path);
        }
    }
    Ok(())
}

/// A recursive-descent reader for one `<codelist>` document. It reads what Coopfolio uses (name, flags,
/// codes, names, status) and skips the rest, including elements of other namespaces, which the schema
/// allows anywhere.
struct Parser<'x> {
    xml: &'x [u8],
    reader: Reader<&'x [u8]>,
    /// "codelist 'Name'" once the root is read; used to start every error message.
    origin: String,
    /// The root's `xml:lang`, the language of narratives that have none.
    lang: String,
}

impl<'x> Parser<'x> {
    fn new(xml: &'x [u8]) -> Self {
        let mut reader = Reader::from_reader(xml);
        // `<name/>` then reads like `<name></name>`, so each element is handled in one place.
        reader.config_mut().expand_empty_elements = true;
        Parser {
            xml,
            reader,
            origin: "codelist document".to_owned(),
            lang: "en".to_owned(),
        }
    }

    fn codelist(mut self) -> Result<Codelist, CodelistError> {
        let root = loop {
            match self.event()? {
                Event::Start(e) => break e,
                Event::Eof => return Err(self.invalid("the document is empty")),
                Event::Text(t) if !is_blank(&t) => {
                    return Err(self.invalid("text before the <codelist> element"))
                }
                _ => {}
            }
        };
        if root.name().as_ref() != b"codelist" {
            let found = String::from_utf8_lossy(root.name().as_ref()).into_owned();
            return Err(self.invalid(format!("the root element is <{found}>, not <codelist>")));
        }
        let name = self
            .attribute(&root, "name")?
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.invalid("<codelist> has no name attribute"))?;
        self.origin = format!("codelist '{name}'");
        // The schema makes both flags optional; absent, the list claims neither.
        let complete = self.boolean(&root, "complete")?.unwrap_or(false);
        let embedded = self.boolean(&root, "embedded")?.unwrap_or(false);
        if let Some(lang) = self.attribute(&root, "xml:lang")? {
            if !lang.trim().is_empty() {
                self.lang = lang.trim().to_ascii_lowercase();
            }
        }

        let mut items = None;
        loop {
            match self.event()? {
                Event::Start(e) if e.name().as_ref() == b"codelist-items" => {
                    items.get_or_insert_with(Vec::new).extend(self.items()?);
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => break,
                Event::Eof => return Err(self.unclosed("codelist")),
                _ => {}
            }
        }
        let items = items.ok_or_else(|| self.invalid("there is no <codelist-items> element"))?;
        Ok(Codelist::new(name, complete, embedded, items))
    }

    fn items(&mut self) -> Result<Vec<CodelistItem>, CodelistError> {
        let mut items = Vec::new();
        loop {
            match self.event()? {
                Event::Start(e) if e.name().as_ref() == b"codelist-item" => {
                    items.push(self.item(&e)?)
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => return Ok(items),
                Event::Eof => return Err(self.unclosed("codelist-items")),
                _ => {}
            }
        }
    }

    fn item(&mut self, start: &BytesStart) -> Result<CodelistItem, CodelistError> {
        // Kept as a byte position; counting lines costs a scan of the document, so only errors do it.
        let at = self.reader.buffer_position();
        let withdrawn = self
            .attribute(start, "status")?
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("withdrawn"));
        let mut code: Option<String> = None;
        let mut names = Vec::new();
        loop {
            match self.event()? {
                Event::Start(e) if e.name().as_ref() == b"code" => {
                    if code.is_some() {
                        return Err(self.invalid(format!(
                            "the <codelist-item> at line {} has two <code> elements",
                            self.line(at)
                        )));
                    }
                    code = Some(self.text("code")?.trim().to_owned());
                }
                Event::Start(e) if e.name().as_ref() == b"name" => {
                    let lang = self.lang_of(&e)?.unwrap_or_else(|| self.lang.clone());
                    self.names(&lang, &mut names)?;
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => break,
                Event::Eof => return Err(self.unclosed("codelist-item")),
                _ => {}
            }
        }
        match code {
            Some(code) if !code.is_empty() => Ok(CodelistItem {
                code,
                names,
                withdrawn,
            }),
            Some(_) => Err(self.invalid(format!(
                "the <codelist-item> at line {} has an empty <code>",
                self.line(at)
            ))),
            None => Err(self.invalid(format!(
                "the <codelist-item> at line {} has no <code>",
                self.line(at)
            ))),
        }
    }

    /// The narratives of a `<name>`, whose own `xml:lang` (or `lang`) says their language.
    fn names(
        &mut self,
        lang: &str,
        names: &mut Vec<(String, String)>,
    ) -> Result<(), CodelistError> {
        loop {
            match self.event()? {
                Event::Start(e) if e.name().as_ref() == b"narrative" => {
                    let lang = self.lang_of(&e)?.unwrap_or_else(|| lang.to_owned());
                    // Names are shown in one line; the files wrap some of them.
                    let text = self.text("narrative")?;
                    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !text.is_empty() {
                        names.push((lang, text));
                    }
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => return Ok(()),
                Event::Eof => return Err(self.unclosed("name")),
                _ => {}
            }
        }
    }

    /// The text of a simple element whose start tag was just read, up to its end tag.
    fn text(&mut self, element: &str) -> Result<String, CodelistError> {
        let mut text = String::new();
        loop {
            match self.event()? {
                Event::Text(t) => {
                    let t = t.unescape().map_err(|e| self.decode_error(e))?;
                    text.push_str(&t);
                }
                Event::CData(t) => {
                    let t = t.decode().map_err(|e| self.decode_error(e.into()))?;
                    text.push_str(&t);
                }
                Event::Start(e) => {
                    let found = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    return Err(self.invalid(format!(
                        "<{element}> at line {} holds an element <{found}>; it must hold text only",
                        self.line(self.reader.buffer_position())
                    )));
                }
                Event::End(_) => return Ok(text),
                Event::Eof => return Err(self.unclosed(element)),
                _ => {}
            }
        }
    }

    fn skip(&mut self, start: &BytesStart) -> Result<(), CodelistError> {
        self.reader
            .read_to_end(start.name())
            .map(|_| ())
            .map_err(|e| self.xml_error(e))
    }

    fn event(&mut self) -> Result<Event<'x>, CodelistError> {
        self.reader.read_event().map_err(|e| self.xml_error(e))
    }

    fn attribute(&self, start: &BytesStart, name: &str) -> Result<Option<String>, CodelistError> {
        let attribute = start
            .try_get_attribute(name)
            .map_err(|e| self.decode_error(e.into()))?;
        attribute
            .map(|a| {
                a.unescape_value()
                    .map(|v| v.into_owned())
                    .map_err(|e| self.decode_error(e))
            })
            .transpose()
    }

    fn lang_of(&self, start: &BytesStart) -> Result<Option<String>, CodelistError> {
        Ok(self
            .attribute(start, "xml:lang")?
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty()))
    }

    /// An `xs:boolean` attribute: "true", "false", "1" or "0".
    fn boolean(&self, start: &BytesStart, name: &str) -> Result<Option<bool>, CodelistError> {
        match self.attribute(start, name)? {
            None => Ok(None),
            Some(v) => match v.trim() {
                "1" | "true" => Ok(Some(true)),
                "0" | "false" => Ok(Some(false)),
                other => Err(self.invalid(format!(
                    "@{name} is '{other}'; it must be true, false, 1 or 0"
                ))),
            },
        }
    }

    fn line(&self, position: u64) -> usize {
        let end = usize::try_from(position)
            .unwrap_or(usize::MAX)
            .min(self.xml.len());
        1 + self.xml[..end].iter().filter(|&&b| b == b'\n').count()
    }

    /// An error of the reader itself, which knows where it stopped.
    fn xml_error(&self, error: quick_xml::Error) -> CodelistError {
        self.xml_error_at(error, self.reader.error_position())
    }

    /// An error in decoding what the reader has just returned (an entity, an attribute), which lies
    /// before where the reader now is.
    fn decode_error(&self, error: quick_xml::Error) -> CodelistError {
        self.xml_error_at(error, self.reader.buffer_position())
    }

    fn xml_error_at(&self, error: quick_xml::Error, position: u64) -> CodelistError {
        CodelistError::Xml {
            origin: self.origin.clone(),
            line: self.line(position),
            message: error.to_string(),
        }
    }

    fn invalid(&self, message: impl Into<String>) -> CodelistError {
        CodelistError::Invalid {
            origin: self.origin.clone(),
            message: message.into(),
        }
    }

    fn unclosed(&self, element: &str) -> CodelistError {
        self.invalid(format!("the document ends inside <{element}>"))
    }
}

fn is_blank(text: &[u8]) -> bool {
    text.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_TRANSACTION_TYPES: &str = r#"<codelist name="TransactionType" xml:lang="en" complete="1" embedded="1">
        <metadata><name><narrative>Transaction Type</narrative></name></metadata>
        <codelist-items>
            <codelist-item><code>1</code><name><narrative>Incoming Funds</narrative></name></codelist-item>
            <codelist-item><code>2</code><name><narrative>Outgoing Commitment</narrative></name></codelist-item>
        </codelist-items>
    </codelist>"#;

    fn parse(xml: &str) -> Result<Codelist, CodelistError> {
        Codelists::parse_codelist(xml.as_bytes())
    }

    fn parse_err(xml: &str) -> String {
        parse(xml).expect_err("refused").to_string()
    }

    #[test]
    fn seventy_lists_are_bundled_and_each_parses_under_its_file_name() {
        assert_eq!(BUNDLED.len(), 70);
        for (name, xml) in BUNDLED {
            let list = Codelists::parse_codelist(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(list.name, name);
            assert!(!list.items.is_empty(), "{name} has no items");
        }
        let lists = Codelists::bundled();
        assert_eq!(lists.len(), 70);
        assert!(!lists.is_empty());
    }

    #[test]
    fn the_bundle_is_the_data_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/codelists");
        let from_dir = Codelists::read_dir(&dir).unwrap();
        let bundled = Codelists::bundled();
        assert_eq!(from_dir.len(), bundled.len(), "a file was added or removed");
        for (list, _) in &from_dir {
            assert_eq!(Some(list), bundled.get(&list.name), "{}", list.name);
        }
        // The embedded flag of each file says which folder it sits in.
        for (name, xml) in BUNDLED {
            let in_embedded_dir = dir.join("embedded").join(format!("{name}.xml")).exists();
            let list = Codelists::parse_codelist(xml).unwrap();
            assert_eq!(list.embedded, in_embedded_dir, "{name}");
        }
    }

    #[test]
    fn bundled_counts_match_the_published_index() {
        // Totals of INDEX.csv, which the data's provider derived from the same XML with other tools.
        let lists = Codelists::bundled();
        let items: usize = lists
            .names()
            .map(|n| lists.get(n).unwrap().items.len())
            .sum();
        let withdrawn: usize = lists
            .names()
            .flat_map(|n| &lists.get(n).unwrap().items)
            .filter(|i| i.withdrawn)
            .count();
        assert_eq!((items, withdrawn), (5546, 140));
        let count = |name: &str| {
            let list = lists.get(name).unwrap();
            let active = list.items.iter().filter(|i| !i.withdrawn).count();
            (list.items.len(), active)
        };
        assert_eq!(count("TransactionType"), (13, 13));
        assert_eq!(count("Country"), (251, 250));
        assert_eq!(count("Currency"), (176, 167));
        assert_eq!(count("Sector"), (325, 295));
        assert_eq!(count("CRSChannelCode"), (438, 409));
    }

    #[test]
    fn contains() {
        let lists = Codelists::bundled();
        assert_eq!(lists.contains("TransactionType", "3"), Some(true));
        assert_eq!(lists.contains("TransactionType", "C"), Some(false));
        assert_eq!(lists.contains("TransactionType", " 3"), Some(false));
        assert_eq!(lists.contains("Nope", "1"), None);
        assert_eq!(lists.contains("Country", "FR"), Some(true));
        // Codes compare exactly; the reader upper-cases country and currency codes before asking.
        assert_eq!(lists.contains("Country", "fr"), Some(false));
        // Withdrawn codes are still known: older data uses them.
        assert_eq!(lists.contains("Currency", "EEK"), Some(true));
        assert!(
            lists
                .get("Currency")
                .unwrap()
                .item("EEK")
                .unwrap()
                .withdrawn
        );
        assert!(
            !lists
                .get("Currency")
                .unwrap()
                .item("EUR")
                .unwrap()
                .withdrawn
        );
    }

    #[test]
    fn names_in_a_language_with_fallbacks() {
        let lists = Codelists::bundled();
        assert_eq!(
            lists.name("TransactionType", "3", "en"),
            Some("Disbursement")
        );
        assert_eq!(
            lists.name("TransactionType", "3", "fr"),
            Some("Décaissement")
        );
        assert_eq!(
            lists.name("TransactionType", "3", "FR"),
            Some("Décaissement")
        );
        // No Spanish anywhere in the data: English instead.
        assert_eq!(
            lists.name("TransactionType", "3", "es"),
            Some("Disbursement")
        );
        // Country has English names only.
        assert_eq!(lists.name("Country", "FR", "fr"), Some("France"));
        assert_eq!(lists.name("Country", "CI", "en"), Some("Côte d'Ivoire"));
        // Entities are decoded.
        assert_eq!(
            lists.name("Region", "689", "fr"),
            Some("Asie du Sud & C., régional")
        );
        assert_eq!(lists.name("TransactionType", "99", "en"), None);
        assert_eq!(lists.name("Nope", "1", "en"), None);
    }

    #[test]
    fn flags() {
        let lists = Codelists::bundled();
        let flags = |name: &str| {
            let list = lists.get(name).unwrap();
            (list.complete, list.embedded)
        };
        assert_eq!(flags("TransactionType"), (true, true));
        assert_eq!(flags("Country"), (false, false));
        assert_eq!(flags("Sector"), (true, false));
        // The file has no @complete.
        assert_eq!(flags("LoanRepaymentPeriod"), (false, false));
    }

    #[test]
    fn names_are_sorted() {
        let lists = Codelists::bundled();
        let names: Vec<&str> = lists.names().collect();
        assert_eq!(names.len(), 70);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(names[0], "ActivityDateType");
    }

    #[test]
    fn a_code_listed_twice_is_kept_once_in_the_index() {
        let file_format = Codelists::bundled();
        let list = file_format.get("FileFormat").unwrap();
        let twice = list
            .items
            .iter()
            .filter(|i| i.code == "application/activemessage")
            .count();
        assert_eq!(twice, 2);
        assert!(list.contains("application/activemessage"));
    }

    #[test]
    fn parses_what_the_schema_allows() {
        let list = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <codelist name=" Example " xml:lang="FR" complete="true" embedded="0" xmlns:x="urn:x">
              <metadata><name><narrative>Exemple</narrative></name><x:extra/></metadata>
              <codelist-items>
                <x:note>skipped <x:deep>entirely</x:deep></x:note>
                <codelist-item status="withdrawn" activation-date="2020-01-01">
                  <code> A1 </code>
                  <name xml:lang="es">
                    <narrative>Uno</narrative>
                    <narrative xml:lang="en">One,
                        wrapped</narrative>
                    <narrative xml:lang="de"></narrative>
                  </name>
                  <description><narrative>Not a name</narrative></description>
                  <category>X</category>
                </codelist-item>
                <codelist-item status="active"><code><![CDATA[B&2]]></code><name/></codelist-item>
                <codelist-item><code>C&#51;</code><name><narrative>Trois</narrative></name></codelist-item>
              </codelist-items>
            </codelist>"#,
        )
        .unwrap();
        assert_eq!(list.name, "Example");
        assert!(list.complete);
        assert!(!list.embedded);
        let codes: Vec<&str> = list.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["A1", "B&2", "C3"]);
        let first = &list.items[0];
        assert!(first.withdrawn);
        assert_eq!(
            first.names,
            [
                ("es".to_owned(), "Uno".to_owned()),
                ("en".to_owned(), "One, wrapped".to_owned())
            ]
        );
        assert!(!list.items[1].withdrawn);
        assert!(list.items[1].names.is_empty());
        assert_eq!(list.items[1].name("en"), None);
        // No xml:lang on the narrative or its name: the list's language.
        assert_eq!(list.items[2].names, [("fr".to_owned(), "Trois".to_owned())]);
        assert_eq!(list.items[2].name("en"), Some("Trois"));
        assert!(list.contains("B&2"));
    }

    #[test]
    fn refuses_what_is_not_a_codelist() {
        let cases = [
            ("", "codelist document: the document is empty"),
            ("<!-- nothing -->", "codelist document: the document is empty"),
            (
                "<codelists><codelist name='A'/></codelists>",
                "codelist document: the root element is <codelists>, not <codelist>",
            ),
            (
                "<codelist><codelist-items/></codelist>",
                "codelist document: <codelist> has no name attribute",
            ),
            (
                "<codelist name='A' complete='yes'><codelist-items/></codelist>",
                "codelist 'A': @complete is 'yes'; it must be true, false, 1 or 0",
            ),
            (
                "<codelist name='A'><metadata/></codelist>",
                "codelist 'A': there is no <codelist-items> element",
            ),
            (
                "<codelist name='A'><codelist-items>\n<codelist-item><name/></codelist-item></codelist-items></codelist>",
                "codelist 'A': the <codelist-item> at line 2 has no <code>",
            ),
            (
                "<codelist name='A'><codelist-items><codelist-item><code> </code></codelist-item></codelist-items></codelist>",
                "codelist 'A': the <codelist-item> at line 1 has an empty <code>",
            ),
            (
                "<codelist name='A'><codelist-items><codelist-item><code>1</code><code>2</code></codelist-item></codelist-items></codelist>",
                "codelist 'A': the <codelist-item> at line 1 has two <code> elements",
            ),
            (
                "<codelist name='A'><codelist-items><codelist-item><code>1<b/></code></codelist-item></codelist-items></codelist>",
                "codelist 'A': <code> at line 1 holds an element <b>; it must hold text only",
            ),
            (
                "<codelist name='A'><codelist-items><codelist-item><code>1</code>",
                "codelist 'A': the document ends inside <codelist-item>",
            ),
        ];
        for (xml, expected) in cases {
            assert_eq!(parse_err(xml), expected, "{xml}");
        }
    }

    #[test]
    fn malformed_xml_names_the_list_and_the_line() {
        let err = parse("<codelist name='A'>\n<codelist-items>\n</codelist>").unwrap_err();
        assert!(
            matches!(&err, CodelistError::Xml { origin, line: 3, .. } if origin == "codelist 'A'"),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with("codelist 'A': malformed XML at line 3: "),
            "{message}"
        );
        assert!(matches!(
            Codelists::parse_codelist(b"<codelist name='\xff'><codelist-items/></codelist>"),
            Err(CodelistError::Xml { .. })
        ));
        assert!(matches!(
            parse("<codelist name='A'><codelist-items>\n\n<codelist-item><code>&bogus;</code></codelist-item></codelist-items></codelist>"),
            Err(CodelistError::Xml { line: 3, .. })
        ));
    }

    #[test]
    fn overrides_replace_a_list_and_leave_the_rest() {
        let lists = Codelists::with_overrides(&[(
            "TransactionType".to_owned(),
            TWO_TRANSACTION_TYPES.as_bytes().to_vec(),
        )])
        .unwrap();
        assert_eq!(lists.len(), 70);
        assert_eq!(lists.contains("TransactionType", "2"), Some(true));
        assert_eq!(lists.contains("TransactionType", "3"), Some(false));
        assert_eq!(lists.contains("Country", "FR"), Some(true));
        // The bundled set itself is untouched.
        assert_eq!(
            Codelists::bundled().contains("TransactionType", "3"),
            Some(true)
        );
        assert_eq!(Codelists::with_overrides(&[]).unwrap().len(), 70);
    }

    #[test]
    fn an_override_may_add_a_list() {
        let xml = br#"<codelist name="NewList"><metadata/><codelist-items>
            <codelist-item><code>X</code></codelist-item></codelist-items></codelist>"#;
        let lists = Codelists::with_overrides(&[("NewList".to_owned(), xml.to_vec())]).unwrap();
        assert_eq!(lists.len(), 71);
        assert_eq!(lists.contains("NewList", "X"), Some(true));
        assert!(lists.names().any(|n| n == "NewList"));
    }

    #[test]
    fn a_bad_override_is_an_error_naming_the_list() {
        let err = Codelists::with_overrides(&[(
            "Country".to_owned(),
            b"<codelist name='Country'><codelist-items>".to_vec(),
        )])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "replacement for codelist 'Country': the document ends inside <codelist-items>"
        );

        let err = Codelists::with_overrides(&[("Currency".to_owned(), b"<not xml".to_vec())])
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("replacement for codelist 'Currency': malformed XML at line 1"),
            "{err}"
        );

        let err = Codelists::with_overrides(&[(
            "Sector".to_owned(),
            TWO_TRANSACTION_TYPES.as_bytes().to_vec(),
        )])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the replacement for codelist 'Sector' is codelist 'TransactionType'"
        );
    }

    /// A fresh directory under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(label: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "coopfolio-core-{label}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn read_dir_reads_xml_files_recursively() {
        let dir = TempDir::new("read");
        std::fs::create_dir_all(dir.0.join("xml/nested")).unwrap();
        std::fs::write(dir.0.join("xml/TransactionType.xml"), TWO_TRANSACTION_TYPES).unwrap();
        std::fs::write(
            dir.0.join("xml/nested/Other.XML"),
            "<codelist name='Other'><codelist-items/></codelist>",
        )
        .unwrap();
        std::fs::write(dir.0.join("README.md"), "not a codelist").unwrap();
        let lists = Codelists::read_dir(&dir.0).unwrap();
        let names: Vec<&str> = lists.iter().map(|(l, _)| l.name.as_str()).collect();
        assert_eq!(names, ["TransactionType", "Other"]);
        assert_eq!(lists[0].1, TWO_TRANSACTION_TYPES.as_bytes());

        // The bytes read are what an override takes.
        let overrides: Vec<(String, Vec<u8>)> =
            lists.into_iter().map(|(l, xml)| (l.name, xml)).collect();
        let lists = Codelists::with_overrides(&overrides).unwrap();
        assert_eq!(lists.contains("TransactionType", "3"), Some(false));

        let empty = TempDir::new("empty");
        assert!(Codelists::read_dir(&empty.0).unwrap().is_empty());
    }

    #[test]
    fn read_dir_errors_name_the_file() {
        let dir = TempDir::new("bad");
        let bad = dir.0.join("Broken.xml");
        std::fs::write(
            &bad,
            "<codelist name='Broken'><codelist-items><codelist-item/>",
        )
        .unwrap();
        let err = Codelists::read_dir(&dir.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} (codelist 'Broken'): the <codelist-item> at line 1 has no <code>",
                bad.display()
            )
        );

        let dir = TempDir::new("twice");
        std::fs::write(dir.0.join("a.xml"), TWO_TRANSACTION_TYPES).unwrap();
        std::fs::write(dir.0.join("b.xml"), TWO_TRANSACTION_TYPES).unwrap();
        let err = Codelists::read_dir(&dir.0).unwrap_err();
        assert!(
            matches!(&err, CodelistError::Duplicate { name, .. } if name == "TransactionType"),
            "{err:?}"
        );

        let missing = dir.0.join("missing");
        let err = Codelists::read_dir(&missing).unwrap_err();
        assert!(matches!(err, CodelistError::Io { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with(&format!("cannot read {}: ", missing.display())));
    }
}
