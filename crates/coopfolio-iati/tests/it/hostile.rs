//! Input meant to hurt: entity expansion, external entities, deep nesting, huge records. Each
//! is refused with a fatal diagnostic, quickly and without holding much memory.

use std::time::{Duration, Instant};

use coopfolio_iati::{IatiReader, Limits, Severity};
use expect_test::{expect, Expect};

use crate::render::{codelists, read_and_render, read_and_render_with_limits};

fn check(xml: &str, expected: Expect) {
    expected.assert_eq(&read_and_render(xml));
}

#[test]
fn a_doctype_is_refused_before_any_entity_is_expanded() {
    // The "billion laughs": ten levels of ten references expand to a billion strings.
    let mut bomb = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE iati-activities [\n <!ENTITY lol \"lol\">\n",
    );
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        bomb.push_str(&format!(
            " <!ENTITY lol{level} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    bomb.push_str("]>\n<iati-activities><iati-activity><iati-identifier>&lol9;</iati-identifier></iati-activity></iati-activities>");
    check(
        &bomb,
        expect![[r#"
            fatal[doctype-refused] 2:1 /: a <!DOCTYPE> declaration is refused: IATI documents have none, and a DTD could declare entities that expand without bound
        "#]],
    );
    check(
        "<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<iati-activities><iati-activity><iati-identifier>&xxe;</iati-identifier></iati-activity></iati-activities>",
        expect![[r#"
            fatal[doctype-refused] 1:1 /: a <!DOCTYPE> declaration is refused: IATI documents have none, and a DTD could declare entities that expand without bound
        "#]],
    );
}

#[test]
fn an_undeclared_entity_is_fatal_wherever_it_is() {
    check(
        "<iati-activities>\n <iati-activity>\n  <iati-identifier>A&nbsp;1</iati-identifier>",
        expect![[r#"
            fatal[undeclared-entity] 3:21 /iati-activities/iati-activity/iati-identifier: the entity &nbsp; is not declared (only &lt; &gt; &amp; &apos; &quot; and character references are), so the document is not well-formed XML
        "#]],
    );
    check(
        "<iati-activities>\n <iati-activity>\n  <result><title>x &copy; y</title></result>",
        expect![[r#"
            fatal[undeclared-entity] 3:20 /iati-activities/iati-activity/result/title: the entity &copy; is not declared (only &lt; &gt; &amp; &apos; &quot; and character references are), so the document is not well-formed XML
        "#]],
    );
    check(
        "<iati-activities>\n <iati-activity>\n  <location ref=\"&x;\"/>",
        expect![[r#"
            fatal[undeclared-entity] 3:18 /iati-activities/iati-activity/location: the entity &x; is not declared (only &lt; &gt; &amp; &apos; &quot; and character references are), so the document is not well-formed XML
        "#]],
    );
    check(
        "<iati-activities>\n <iati-activity>\n  <iati-identifier>A&#xD800;</iati-identifier>",
        expect![[r#"
            fatal[not-well-formed] 3:20 /iati-activities/iati-activity/iati-identifier: the document is not well-formed XML: invalid character reference: `55296` is not a valid codepoint
        "#]],
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let depth = 100_000;
    let mut bomb =
        String::from("<iati-activities>\n<iati-activity><iati-identifier>A-1</iati-identifier>\n");
    bomb.push_str(&"<a>".repeat(depth));
    bomb.push_str(&"</a>".repeat(depth));
    bomb.push_str("</iati-activity></iati-activities>");
    let started = Instant::now();
    let rendered = read_and_render(&bomb);
    assert!(started.elapsed() < Duration::from_secs(2));
    expect![[r#"
        fatal[too-deep] 3:187 /iati-activities/iati-activity/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a: elements nest deeper than the limit of 64 levels (in A-1)
    "#]]
    .assert_eq(&rendered);
    // The limit is a setting; real IATI documents nest about ten levels deep.
    let shallow = "<iati-activities><iati-activity><iati-identifier>A-1</iati-identifier><a><a><a/></a></a></iati-activity></iati-activities>";
    expect![[r#"
        fatal[too-deep] 1:77 /iati-activities/iati-activity/a/a/a: elements nest deeper than the limit of 4 levels (in A-1)
    "#]]
    .assert_eq(&read_and_render_with_limits(
        shallow.as_bytes(),
        Limits { max_depth: 4, ..Limits::default() },
    ));
}

#[test]
fn a_record_larger_than_the_limit_is_refused_but_many_small_ones_are_not() {
    let limits = Limits {
        max_record_bytes: 1000,
        ..Limits::default()
    };
    let mut big =
        String::from("<iati-activities>\n<iati-activity><iati-identifier>A-1</iati-identifier>");
    big.push_str(&"<title><narrative>padding</narrative></title>".repeat(100));
    big.push_str("</iati-activity></iati-activities>");
    expect![[r#"
        fatal[record-too-large] 2:1 /iati-activities/iati-activity/title: the record (or piece of markup or text) is larger than the limit of 1000 bytes (in A-1)
    "#]]
    .assert_eq(&read_and_render_with_limits(big.as_bytes(), limits));

    // Outside records, a single huge comment or text is held whole by the parser, so it is
    // bounded by the same limit.
    let comment = format!(
        "<iati-activities><!--{}--></iati-activities>",
        "x".repeat(5000)
    );
    expect![[r#"
        fatal[record-too-large] 1:18 /iati-activities: the record (or piece of markup or text) is larger than the limit of 1000 bytes
    "#]].assert_eq(&read_and_render_with_limits(comment.as_bytes(), limits));

    // Ten thousand small activities, each under the limit: the recording starts afresh with
    // each record, so the document as a whole can be any size.
    let mut many = String::from("<iati-activities>\n");
    for index in 0..10_000 {
        many.push_str(&format!(
            "<iati-activity><iati-identifier>A-{index}</iati-identifier></iati-activity>\n"
        ));
    }
    many.push_str("</iati-activities>\n");
    let mut reader = IatiReader::new(many.as_bytes(), "many.xml", codelists()).with_limits(limits);
    let mut diagnostics = Vec::new();
    let mut count = 0;
    while let Some(_record) = reader.next_record(&mut diagnostics).expect("no fatal") {
        count += 1;
    }
    assert_eq!(count, 10_000);
    assert!(diagnostics.is_empty());
    assert_eq!(reader.bytes_read(), many.len() as u64);
}

#[test]
fn after_a_fatal_fault_the_reader_gives_nothing_more() {
    let xml = "<iati-activities><iati-activity><iati-identifier>A-1</iati-identifier></iati-activity><!DOCTYPE x><iati-activity><iati-identifier>A-2</iati-identifier></iati-activity></iati-activities>";
    let mut reader = IatiReader::new(xml.as_bytes(), "test.xml", codelists());
    let mut diagnostics = Vec::new();
    assert!(matches!(reader.next_record(&mut diagnostics), Ok(Some(_))));
    let fatal = reader
        .next_record(&mut diagnostics)
        .expect_err("the DOCTYPE is fatal");
    assert_eq!(fatal.severity, Severity::Fatal);
    assert_eq!(fatal.code, "doctype-refused");
    for _ in 0..3 {
        assert_eq!(reader.next_record(&mut diagnostics), Ok(None));
    }
    assert!(diagnostics.is_empty());
}
