//! The IATI ruleset engine: applies a ruleset (the IATI Standard's `standard.json`, or any file
//! in its format) to an IATI document, one record at a time.
//!
//! A ruleset maps XPath contexts (`/iati-activities/iati-activity/budget`) to named rules
//! (`atleast_one`, `date_order`, `strict_sum`, ...), each with cases whose keys are XPath
//! expressions; IATI-Rulesets' SPEC.rst describes them. The document is read with quick-xml as
//! a stream: each `<iati-activity>` or `<iati-organisation>` is built into a small DOM under a
//! copy of the root element, the rules are evaluated over it with sxd-xpath (XPath 1.0), and
//! the DOM is dropped, so memory is bounded by the largest record, never the file.
//!
//! Rules that need the IATI Registry (a case with `idCondition`, or the `ORG-ID-PREFIX` prefix
//! list) cannot be decided offline and are skipped; [`CheckSummary::cases_skipped`] counts them.
//! Rule names are accepted in snake case and camel case, as the IATI Validator does.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use regex::Regex;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as Json;
use sxd_document::dom::{Document, Element};
use sxd_document::{Package, QName};
use sxd_xpath::nodeset::Node;
use sxd_xpath::{Context, Factory, Value, XPath};

/// The IATI Standard ruleset (IATI-Rulesets `rulesets/standard.json`, version 2.03).
pub const STANDARD_RULESET: &str = include_str!("../../../data/iati-rulesets/standard.json");

const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// What can stop a check.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("the ruleset is not valid JSON: {0}")]
    RulesetJson(#[from] serde_json::Error),
    #[error("the ruleset is not shaped as contexts of rules of cases: {0}")]
    RulesetShape(String),
    #[error("the ruleset has an XPath expression that cannot be read: {expression}: {message}")]
    XPath { expression: String, message: String },
    #[error("line {line}: the document is not well-formed XML: {message}")]
    Xml { line: u64, message: String },
    #[error("reading the document")]
    Io(#[from] std::io::Error),
}

/// One case of one rule that failed on one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFailure {
    /// The line where the element the rule was applied to starts.
    pub line: u64,
    /// The `iati-identifier` (or `organisation-identifier`) of the record; `None` when it has
    /// none or an empty one.
    pub identifier: Option<String>,
    /// The rule's name as the ruleset writes it (`atleast_one`, `dateOrder`, ...).
    pub rule: String,
    /// The IATI rule id from `ruleInfo`, such as `6.11.1`, where the ruleset gives one.
    pub rule_id: Option<String>,
    /// `error` or `warning` (`error` where the ruleset does not say).
    pub severity: String,
    pub message: Option<String>,
    /// The XPath context that selected the element.
    pub context: String,
    /// The case's expressions: its paths, or its other keys where it has no paths.
    pub paths: Vec<String>,
}

impl RuleFailure {
    pub fn is_error(&self) -> bool {
        self.severity != "warning"
    }
}

/// Counts of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// Activities and organisations checked.
    pub records: u64,
    /// Cases evaluated (a case per element its context selected).
    pub cases_evaluated: u64,
    /// Cases that need the IATI Registry and were skipped.
    pub cases_skipped: u64,
    /// The root element of the document.
    pub root: Option<String>,
    /// Where each record lies, in document order, so that a complaint about a line (from a
    /// schema validator, say) can name its record.
    pub spans: Vec<RecordSpan>,
}

/// The lines of one activity or organisation, and its identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSpan {
    pub first_line: u64,
    pub last_line: u64,
    pub identifier: Option<String>,
}

/// A rule's name and its cases.
type NamedRule = (String, Vec<Json>);

/// A parsed ruleset with its XPath expressions compiled on first use.
pub struct RuleChecker {
    contexts: Vec<(String, Vec<NamedRule>)>,
    compiled: HashMap<String, XPath>,
    factory: Factory,
    today: (i32, u32, u32),
}

impl RuleChecker {
    /// The IATI Standard ruleset.
    pub fn standard(today: (i32, u32, u32)) -> Result<RuleChecker, RulesError> {
        RuleChecker::from_json(STANDARD_RULESET, today)
    }

    /// A ruleset from its JSON text; `today` is the date `date_now` and `NOW` compare with.
    pub fn from_json(json: &str, today: (i32, u32, u32)) -> Result<RuleChecker, RulesError> {
        let document: Json = serde_json::from_str(json)?;
        let Json::Object(contexts_json) = document else {
            return Err(RulesError::RulesetShape(
                "the top level is not an object".into(),
            ));
        };
        let mut contexts = Vec::new();
        for (context, rules) in contexts_json {
            let Json::Object(rules) = rules else {
                return Err(RulesError::RulesetShape(format!(
                    "{context} is not an object"
                )));
            };
            let mut named = Vec::new();
            for (name, rule) in rules {
                named.push((name, cases_of(&rule)?));
            }
            contexts.push((context, named));
        }
        Ok(RuleChecker {
            contexts,
            compiled: HashMap::new(),
            factory: Factory::new(),
            today,
        })
    }

    /// Applies the ruleset to every record of a document, reporting each failure as found.
    pub fn check<R: BufRead>(
        &mut self,
        source: R,
        mut on_failure: impl FnMut(RuleFailure),
    ) -> Result<CheckSummary, RulesError> {
        let mut xml = quick_xml::Reader::from_reader(LineCounter::new(source));
        xml.config_mut().check_end_names = true;
        let mut buffer = Vec::new();
        let mut summary = CheckSummary::default();
        let mut root: Option<OpenElement> = None;
        let mut record: Option<RecordBuilder> = None;
        loop {
            // Text is not trimmed, so every byte before an event belongs to an earlier event and
            // the line counted so far is the line where this event starts.
            let line = xml.get_ref().line;
            let event = xml
                .read_event_into(&mut buffer)
                .map_err(|error| RulesError::Xml {
                    line: xml.get_ref().line,
                    message: error.to_string(),
                })?;
            let xml_error = |message: String| RulesError::Xml { line, message };
            match event {
                Event::Start(start) => {
                    let element = OpenElement::read(&start, line).map_err(xml_error)?;
                    if let Some(builder) = record.as_mut() {
                        builder.open(element);
                    } else if let Some(root) = &root {
                        let mut builder = RecordBuilder::new(root);
                        builder.open(element);
                        record = Some(builder);
                    } else {
                        summary.root = Some(element.name.clone());
                        root = Some(element);
                    }
                }
                Event::Empty(start) => {
                    let element = OpenElement::read(&start, line).map_err(xml_error)?;
                    if let Some(builder) = record.as_mut() {
                        builder.open(element);
                        builder.close();
                    } else if let Some(root) = &root {
                        let mut builder = RecordBuilder::new(root);
                        builder.open(element);
                        builder.close();
                        let last_line = xml.get_ref().line;
                        self.check_record(builder, last_line, &mut summary, &mut on_failure)?;
                    } else {
                        summary.root = Some(element.name.clone());
                        root = Some(element);
                    }
                }
                Event::End(_) => {
                    if let Some(builder) = record.as_mut() {
                        builder.close();
                        if builder.is_complete() {
                            let builder = record.take().expect("a record");
                            let last_line = xml.get_ref().line;
                            self.check_record(builder, last_line, &mut summary, &mut on_failure)?;
                        }
                    }
                }
                Event::Text(text) => {
                    if let Some(builder) = record.as_mut() {
                        let text = text.unescape().map_err(|e| xml_error(e.to_string()))?;
                        builder.text(&text);
                    }
                }
                Event::CData(data) => {
                    if let Some(builder) = record.as_mut() {
                        builder.text(&String::from_utf8_lossy(&data));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buffer.clear();
        }
        // A document that is only a root still has its root's rules (organisation contexts
        // select nothing, so in practice this applies no rule), checked like a record.
        Ok(summary)
    }

    fn check_record(
        &mut self,
        builder: RecordBuilder,
        last_line: u64,
        summary: &mut CheckSummary,
        on_failure: &mut impl FnMut(RuleFailure),
    ) -> Result<(), RulesError> {
        summary.records += 1;
        let package = Package::new();
        let document = package.as_document();
        let (record_element, lines) = builder.build(&document);
        let identifier = ["iati-identifier", "organisation-identifier"]
            .iter()
            .find_map(|name| {
                record_element
                    .children()
                    .into_iter()
                    .filter_map(|child| child.element())
                    .find(|child| child.name().local_part() == *name)
                    .map(|child| Node::from(child).string_value().trim().to_owned())
            })
            .filter(|identifier| !identifier.is_empty());
        summary.spans.push(RecordSpan {
            first_line: lines.get(1).map_or(0, |(_, line)| *line),
            last_line,
            identifier: identifier.clone(),
        });
        let mut context = Context::new();
        context.set_namespace("xml", XML_NAMESPACE);
        let contexts = std::mem::take(&mut self.contexts);
        let result = (|| {
            for (context_path, rules) in &contexts {
                let selected = self.evaluate(context_path, &context, document.root().into())?;
                let Value::Nodeset(nodes) = selected else {
                    continue;
                };
                for node in nodes.document_order() {
                    let line = match node {
                        Node::Element(element) => lines
                            .iter()
                            .find(|(candidate, _)| *candidate == element)
                            .map_or(0, |(_, line)| *line),
                        _ => 0,
                    };
                    let place = Place {
                        node,
                        line,
                        identifier: identifier.clone(),
                        context: context_path,
                    };
                    for (rule, cases) in rules {
                        for case in cases {
                            self.apply(rule, case, &place, &context, summary, on_failure)?;
                        }
                    }
                }
            }
            Ok(())
        })();
        self.contexts = contexts;
        result
    }

    /// Applies one case of a rule at one element.
    fn apply(
        &mut self,
        rule: &str,
        case: &Json,
        place: &Place<'_, '_>,
        context: &Context<'_>,
        summary: &mut CheckSummary,
        on_failure: &mut impl FnMut(RuleFailure),
    ) -> Result<(), RulesError> {
        let kind = normalise_rule_name(rule);
        if case.get("idCondition").is_some()
            || string_list(case, "prefix")
                .iter()
                .any(|p| p == "ORG-ID-PREFIX")
        {
            summary.cases_skipped += 1;
            return Ok(());
        }
        if let Some(condition) = case.get("condition").and_then(Json::as_str) {
            if !self.evaluate(condition, context, place.node)?.boolean() {
                return Ok(());
            }
        }
        if kind == "loop" {
            return self.apply_loop(case, place, context, summary, on_failure);
        }
        summary.cases_evaluated += 1;
        let passed = match kind.as_str() {
            "atleast_one" => {
                let mut any = false;
                for path in string_list(case, "paths") {
                    any |= self.evaluate(&path, context, place.node)?.boolean();
                }
                any
            }
            "no_more_than_one" => {
                let mut count = 0;
                for path in string_list(case, "paths") {
                    count += self.strings(&path, context, place.node)?.len();
                }
                count <= 1
            }
            "only_one_of" => {
                let mut excluded = false;
                for path in string_list(case, "excluded") {
                    excluded |= self.evaluate(&path, context, place.node)?.boolean();
                }
                let mut matched = 0;
                for path in string_list(case, "paths") {
                    if self.evaluate(&path, context, place.node)?.boolean() {
                        matched += 1;
                    }
                }
                if excluded {
                    matched == 0
                } else {
                    matched == 1
                }
            }
            "dependent" => {
                let mut present = 0;
                let paths = string_list(case, "paths");
                for path in &paths {
                    if self.evaluate(path, context, place.node)?.boolean() {
                        present += 1;
                    }
                }
                present == 0 || present == paths.len()
            }
            "one_or_all" => self.one_or_all(case, context, place.node)?,
            "sum" | "strict_sum" => {
                let mut values = Vec::new();
                for path in string_list(case, "paths") {
                    values.extend(self.strings(&path, context, place.node)?);
                }
                let expected = case.get("sum").and_then(Json::as_f64).unwrap_or(100.0);
                if values.is_empty() {
                    true
                } else if kind == "strict_sum" {
                    let sum = values
                        .iter()
                        .map(|value| value.trim().parse::<Decimal>())
                        .sum::<Result<Decimal, _>>();
                    let expected = Decimal::try_from(expected).unwrap_or_default();
                    sum.is_ok_and(|sum| sum == expected)
                } else {
                    let sum: Option<f64> = values
                        .iter()
                        .map(|value| value.trim().parse::<f64>().ok())
                        .sum();
                    sum.is_some_and(|sum| (sum - expected).abs() < 1e-9)
                }
            }
            "range" => {
                let min = case.get("min").and_then(Json::as_f64);
                let max = case.get("max").and_then(Json::as_f64);
                let mut within = true;
                for path in string_list(case, "paths") {
                    for value in self.strings(&path, context, place.node)? {
                        within &= match value.trim().parse::<f64>() {
                            Ok(number) => {
                                min.is_none_or(|min| number >= min)
                                    && max.is_none_or(|max| number <= max)
                            }
                            Err(_) => false,
                        };
                    }
                }
                within
            }
            "date_order" => {
                let less = self.dates(case, "less", context, place.node)?;
                let more = self.dates(case, "more", context, place.node)?;
                less.iter().all(|less| more.iter().all(|more| less <= more))
            }
            "date_now" => {
                let dates = self.dates(case, "date", context, place.node)?;
                dates.iter().all(|date| *date <= self.today)
            }
            "time_limit" => {
                let starts = self.dates(case, "start", context, place.node)?;
                let ends = self.dates(case, "end", context, place.node)?;
                starts.iter().all(|start| {
                    let limit = (start.0 + 1, start.1, start.2);
                    ends.iter().all(|end| *end <= limit)
                })
            }
            "between_dates" => {
                let dates = self.dates(case, "date", context, place.node)?;
                let starts = self.dates(case, "start", context, place.node)?;
                let ends = self.dates(case, "end", context, place.node)?;
                dates.iter().all(|date| {
                    starts.iter().all(|start| start <= date) && ends.iter().all(|end| date <= end)
                })
            }
            "regex_matches" | "regex_no_matches" => {
                let pattern = case.get("regex").and_then(Json::as_str).unwrap_or("");
                let regex = Regex::new(pattern).map_err(|error| RulesError::XPath {
                    expression: pattern.to_owned(),
                    message: error.to_string(),
                })?;
                let mut passed = true;
                for path in string_list(case, "paths") {
                    for value in self.strings(&path, context, place.node)? {
                        // An empty text is the schema's business (IATI's validator passes it).
                        if value.is_empty() {
                            continue;
                        }
                        let matches = regex.is_match(&value);
                        passed &= if kind == "regex_matches" {
                            matches
                        } else {
                            !matches
                        };
                    }
                }
                passed
            }
            "startswith" => {
                let mut prefixes = Vec::new();
                // The older (Python) edition of the format names the prefix `start`.
                let mut prefix_paths = string_list(case, "prefix");
                if prefix_paths.is_empty() {
                    prefix_paths = string_list(case, "start");
                }
                for path in prefix_paths {
                    prefixes.extend(self.strings(&path, context, place.node)?);
                }
                let separator = case.get("separator").and_then(Json::as_str).unwrap_or("");
                let mut passed = true;
                for path in string_list(case, "paths") {
                    for value in self.strings(&path, context, place.node)? {
                        passed &= prefixes
                            .iter()
                            .any(|prefix| value.starts_with(&format!("{prefix}{separator}")));
                    }
                }
                passed
            }
            "unique" => {
                let mut seen = BTreeSet::new();
                let mut passed = true;
                for path in string_list(case, "paths") {
                    for value in self.strings(&path, context, place.node)? {
                        passed &= seen.insert(value);
                    }
                }
                passed
            }
            "if_then" => {
                let condition = case.get("if").and_then(Json::as_str).unwrap_or("false()");
                let then = case.get("then").and_then(Json::as_str).unwrap_or("true()");
                !self.evaluate(condition, context, place.node)?.boolean()
                    || self.evaluate(then, context, place.node)?.boolean()
            }
            "no_spaces" => {
                let mut passed = true;
                for path in string_list(case, "paths") {
                    for value in self.strings(&path, context, place.node)? {
                        passed &= value.trim() == value;
                    }
                }
                passed
            }
            _ => {
                // A rule this engine does not know is reported once per element rather than
                // silently passed, so that a newer ruleset cannot look cleaner than it is.
                false
            }
        };
        if !passed {
            let info = case.get("ruleInfo");
            let text = |key: &str| {
                info.and_then(|info| info.get(key))
                    .and_then(Json::as_str)
                    .map(str::to_owned)
            };
            let mut paths = string_list(case, "paths");
            if paths.is_empty() {
                for key in [
                    "one", "all", "if", "then", "less", "more", "date", "start", "end",
                ] {
                    if let Some(value) = case.get(key).and_then(Json::as_str) {
                        paths.push(format!("{key}: {value}"));
                    }
                }
            }
            on_failure(RuleFailure {
                line: place.line,
                identifier: place.identifier.clone(),
                rule: rule.to_owned(),
                rule_id: text("id"),
                severity: text("severity").unwrap_or_else(|| "error".to_owned()),
                message: text("message"),
                context: place.context.to_owned(),
                paths,
            });
        }
        Ok(())
    }

    /// `loop`: for each distinct value `foreach` selects, the `do` rules with `$1` replaced by
    /// the value in the keys `subs` names.
    fn apply_loop(
        &mut self,
        case: &Json,
        place: &Place<'_, '_>,
        context: &Context<'_>,
        summary: &mut CheckSummary,
        on_failure: &mut impl FnMut(RuleFailure),
    ) -> Result<(), RulesError> {
        let Some(foreach) = case.get("foreach").and_then(Json::as_str) else {
            return Ok(());
        };
        let values: BTreeSet<String> = self
            .strings(foreach, context, place.node)?
            .into_iter()
            .collect();
        let subs = string_list(case, "subs");
        let Some(Json::Object(rules)) = case.get("do") else {
            return Ok(());
        };
        for value in values {
            for (rule, body) in rules {
                for inner in cases_of(body)? {
                    let mut inner = inner.clone();
                    if let Json::Object(map) = &mut inner {
                        for key in &subs {
                            if let Some(entry) = map.get_mut(key) {
                                substitute(entry, &value);
                            }
                        }
                    }
                    self.apply(rule, &inner, place, context, summary, on_failure)?;
                }
            }
        }
        Ok(())
    }

    /// `one_or_all`: `one` is present, or else every element `all` stands for has what it
    /// names: `lang`, every narrative its `xml:lang`; `currency`, every value its `currency`;
    /// anything else, every transaction that element.
    fn one_or_all(
        &mut self,
        case: &Json,
        context: &Context<'_>,
        node: Node<'_>,
    ) -> Result<bool, RulesError> {
        let one = case.get("one").and_then(Json::as_str).unwrap_or("false()");
        if self.evaluate(one, context, node)?.boolean() {
            return Ok(true);
        }
        let all = case.get("all").and_then(Json::as_str).unwrap_or("");
        let missing = match all {
            "lang" => ".//narrative[not(@xml:lang)]".to_owned(),
            "currency" => ".//value[not(@currency)] | .//forecast[not(@currency)] \
                           | .//loan-status[not(@currency)]"
                .to_owned(),
            other => format!("transaction[not({other})]"),
        };
        Ok(!self.evaluate(&missing, context, node)?.boolean())
    }

    fn evaluate<'d>(
        &mut self,
        expression: &str,
        context: &Context<'d>,
        node: Node<'d>,
    ) -> Result<Value<'d>, RulesError> {
        if !self.compiled.contains_key(expression) {
            let xpath = self
                .factory
                .build(expression)
                .map_err(|error| RulesError::XPath {
                    expression: expression.to_owned(),
                    message: error.to_string(),
                })?
                .ok_or_else(|| RulesError::XPath {
                    expression: expression.to_owned(),
                    message: "empty expression".to_owned(),
                })?;
            self.compiled.insert(expression.to_owned(), xpath);
        }
        self.compiled[expression]
            .evaluate(context, node)
            .map_err(|error| RulesError::XPath {
                expression: expression.to_owned(),
                message: error.to_string(),
            })
    }

    /// The texts an expression selects: one per node, or its single value.
    fn strings(
        &mut self,
        expression: &str,
        context: &Context<'_>,
        node: Node<'_>,
    ) -> Result<Vec<String>, RulesError> {
        Ok(match self.evaluate(expression, context, node)? {
            Value::Nodeset(nodes) => nodes
                .document_order()
                .into_iter()
                .map(|node| node.string_value())
                .collect(),
            Value::String(text) => vec![text],
            Value::Number(number) => vec![number.to_string()],
            Value::Boolean(true) => vec!["true".to_owned()],
            Value::Boolean(false) => Vec::new(),
        })
    }

    /// The dates a key's expression selects, as (year, month, day); `NOW` is today. Texts
    /// that are not dates are left out, so a rule about dates ignores them (the schema
    /// reports them).
    fn dates(
        &mut self,
        case: &Json,
        key: &str,
        context: &Context<'_>,
        node: Node<'_>,
    ) -> Result<Vec<(i32, u32, u32)>, RulesError> {
        let Some(expression) = case.get(key).and_then(Json::as_str) else {
            return Ok(Vec::new());
        };
        if expression == "NOW" {
            return Ok(vec![self.today]);
        }
        Ok(self
            .strings(expression, context, node)?
            .iter()
            .filter_map(|text| parse_date(text))
            .collect())
    }
}

/// Where a case is applied.
struct Place<'d, 'c> {
    node: Node<'d>,
    line: u64,
    identifier: Option<String>,
    context: &'c str,
}

/// `atLeastOne` and `at_least_one` are `atleast_one`; `startsWith` is `startswith`.
fn normalise_rule_name(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for character in name.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    match snake.as_str() {
        "at_least_one" => "atleast_one".to_owned(),
        "starts_with" => "startswith".to_owned(),
        _ => snake,
    }
}

fn cases_of(rule: &Json) -> Result<Vec<Json>, RulesError> {
    match rule.get("cases") {
        Some(Json::Array(cases)) => Ok(cases.clone()),
        _ => Err(RulesError::RulesetShape(format!(
            "a rule without a list of cases: {rule}"
        ))),
    }
}

fn string_list(case: &Json, key: &str) -> Vec<String> {
    match case.get(key) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Json::String(item)) => vec![item.clone()],
        _ => Vec::new(),
    }
}

fn substitute(entry: &mut Json, value: &str) {
    match entry {
        Json::String(text) => *text = text.replace("$1", value),
        Json::Array(items) => items.iter_mut().for_each(|item| substitute(item, value)),
        _ => {}
    }
}

/// `YYYY-MM-DD` at the start of a date or dateTime.
fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = text.get(..4)?.parse().ok()?;
    let month = text.get(5..7)?.parse().ok()?;
    let day = text.get(8..10)?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

/// An element as read: its name, attributes and line.
struct OpenElement {
    name: String,
    attributes: Vec<(String, String)>,
    line: u64,
}

impl OpenElement {
    fn read(start: &BytesStart<'_>, line: u64) -> Result<OpenElement, String> {
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| error.to_string())?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute
                .unescape_value()
                .map_err(|error| error.to_string())?
                .into_owned();
            attributes.push((key, value));
        }
        Ok(OpenElement {
            name,
            attributes,
            line,
        })
    }
}

/// A record's elements as read, to be built into a DOM once complete. Kept as plain data
/// first because sxd's DOM borrows from a package that must outlive the evaluation.
struct RecordBuilder {
    /// The root's copy (name and attributes), at index 0.
    nodes: Vec<BuiltNode>,
    /// Indexes of the open elements.
    open: Vec<usize>,
}

enum BuiltNode {
    Element {
        element: OpenElement,
        parent: Option<usize>,
    },
    Text {
        text: String,
        parent: usize,
    },
}

impl RecordBuilder {
    fn new(root: &OpenElement) -> RecordBuilder {
        RecordBuilder {
            nodes: vec![BuiltNode::Element {
                element: OpenElement {
                    name: root.name.clone(),
                    attributes: root.attributes.clone(),
                    line: root.line,
                },
                parent: None,
            }],
            open: vec![0],
        }
    }

    fn open(&mut self, element: OpenElement) {
        let parent = *self.open.last().expect("the root is open");
        self.nodes.push(BuiltNode::Element {
            element,
            parent: Some(parent),
        });
        self.open.push(self.nodes.len() - 1);
    }

    fn close(&mut self) {
        self.open.pop();
    }

    /// Only the root's copy is open: the record element has closed.
    fn is_complete(&self) -> bool {
        self.open.len() == 1
    }

    fn text(&mut self, text: &str) {
        let parent = *self.open.last().expect("the root is open");
        if parent != 0 {
            self.nodes.push(BuiltNode::Text {
                text: text.to_owned(),
                parent,
            });
        }
    }

    /// Builds the DOM; returns the record element and the line of every element.
    fn build<'d>(self, document: &Document<'d>) -> (Element<'d>, Vec<(Element<'d>, u64)>) {
        let mut elements: Vec<Option<Element<'d>>> = Vec::with_capacity(self.nodes.len());
        let mut lines = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            match node {
                BuiltNode::Element { element, parent } => {
                    let built = document.create_element(element.name.as_str());
                    for (key, value) in &element.attributes {
                        match key.strip_prefix("xml:") {
                            Some(local) => {
                                built.set_attribute_value(
                                    QName::with_namespace_uri(Some(XML_NAMESPACE), local),
                                    value,
                                );
                            }
                            None if key == "xmlns" || key.starts_with("xmlns:") => {}
                            None => {
                                built.set_attribute_value(key.as_str(), value);
                            }
                        }
                    }
                    match parent {
                        Some(parent) => elements[*parent]
                            .expect("a parent is an element")
                            .append_child(built),
                        None => document.root().append_child(built),
                    }
                    lines.push((built, element.line));
                    elements.push(Some(built));
                }
                BuiltNode::Text { text, parent } => {
                    let built = document.create_text(text);
                    elements[*parent]
                        .expect("a parent is an element")
                        .append_child(built);
                    elements.push(None);
                }
            }
        }
        let record = elements
            .get(1)
            .copied()
            .flatten()
            .or(elements[0])
            .expect("the root's copy is an element");
        (record, lines)
    }
}

/// A `BufRead` that counts the lines of the bytes consumed from it.
struct LineCounter<R> {
    inner: R,
    line: u64,
}

impl<R> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter { inner, line: 1 }
    }
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.line += memchr::memchr_iter(b'\n', &buffer[..read]).count() as u64;
        Ok(read)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            let counted = amount.min(buffer.len());
            self.line += memchr::memchr_iter(b'\n', &buffer[..counted]).count() as u64;
        }
        self.inner.consume(amount);
    }
}

/// Today's date in UTC, for `date_now` and `NOW`.
pub fn today_utc() -> (i32, u32, u32) {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() / 86_400)
        .unwrap_or_default() as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month as u32, day as u32)
}

#[cfg(test)]
mod tests;
