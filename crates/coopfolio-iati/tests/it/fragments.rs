//! What the reader makes of small IATI documents: one document in, records and diagnostics
//! out. Run with `UPDATE_EXPECT=1` to rewrite the snapshots after a deliberate change.

use expect_test::{expect, Expect};

use crate::render::read_and_render;

fn check(xml: &str, expected: Expect) {
    expected.assert_eq(&read_and_render(xml));
}

#[test]
fn a_complete_activity_fills_every_part_of_the_model() {
    check(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03" generated-datetime="2024-01-01T00:00:00Z">
 <iati-activity default-currency="usd" xml:lang="en" last-updated-datetime="2023-05-01T12:00:00Z" hierarchy="2" humanitarian="1">
  <iati-identifier> XM-DAC-41302-P1 </iati-identifier>
  <reporting-org ref="XM-DAC-41302" type="40"><narrative>International Labour Organization</narrative></reporting-org>
  <title><narrative>Decent work</narrative><narrative xml:lang="fr">Travail décent</narrative></title>
  <description type="1"><narrative>General</narrative></description>
  <description><narrative>No type</narrative></description>
  <participating-org ref="GB-GOV-1" type="10" role="1" activity-id="GB-1-1" crs-channel-code="11000"><narrative>FCDO</narrative></participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2020-01-01"/>
  <activity-date type="3" iso-date="2024-12-31"/>
  <recipient-country code="ke" percentage="60"/>
  <recipient-region code="298" vocabulary="1" percentage="40"/>
  <sector code="16020" vocabulary="1" percentage="100"/>
  <sector code="160" vocabulary="2"/>
  <collaboration-type code="2"/>
  <default-flow-type code="10"/>
  <default-finance-type code="110"/>
  <default-aid-type code="C01" vocabulary="1"/>
  <default-tied-status code="5"/>
  <budget type="1" status="2">
   <period-start iso-date="2020-01-01"/>
   <period-end iso-date="2020-12-31"/>
   <value value-date="2020-01-01">100000.50</value>
  </budget>
  <transaction ref="T1" humanitarian="0">
   <transaction-type code="11"/>
   <transaction-date iso-date="2020-02-01"/>
   <value currency="EUR" value-date="2020-02-01">2500</value>
   <description><narrative>First instalment</narrative></description>
   <provider-org ref="GB-GOV-1" type="10" provider-activity-id="GB-1-1"><narrative>FCDO</narrative></provider-org>
   <receiver-org ref="XM-DAC-41302" receiver-activity-id="XM-DAC-41302-P1"/>
   <flow-type code="10"/>
   <finance-type code="110"/>
   <aid-type code="C01"/>
   <tied-status code="5"/>
   <recipient-country code="KE"/>
   <sector code="16020" vocabulary="1"/>
  </transaction>
  <related-activity ref="XM-DAC-41302-P0" type="1"/>
  <result type="1"><title><narrative>Not modelled, kept in raw_xml</narrative></title></result>
 </iati-activity>
</iati-activities>
"#,
        expect![[r#"
            activity XM-DAC-41302-P1 at 3:2, 0 faults, 2194 bytes
              attributes: default-currency=USD lang=en last-updated=2023-05-01T12:00:00Z hierarchy=2 humanitarian=true
              reporting-org ref=XM-DAC-41302 type=40 [en:"International Labour Organization"]
              title [en:"Decent work", fr:"Travail décent"]
              description type=1 [en:"General"]
              description [en:"No type"]
              participating-org ref=GB-GOV-1 type=10 role=1 activity-id=GB-1-1 crs-channel-code=11000 [en:"FCDO"]
              status 2
              date type=1 2020-01-01
              date type=3 2024-12-31
              recipient-country KE percentage=60
              recipient-region 298 vocabulary=1 percentage=40
              sector 16020 vocabulary=1 percentage=100
              sector 160 vocabulary=2
              defaults: collaboration-type=2 flow-type=10 finance-type=110 tied-status=5 aid-type=C01/1
              budget type=1 status=2 start=2020-01-01 end=2020-12-31 value=100000.50 USD value-date=2020-01-01
              transaction ref=T1 type=11 date=2020-02-01 humanitarian=false value=2500 EUR value-date=2020-02-01
                provider-org ref=GB-GOV-1 type=10 activity-id=GB-1-1 [en:"FCDO"]
                receiver-org ref=XM-DAC-41302 activity-id=XM-DAC-41302-P1
                description [en:"First instalment"]
                flow-type=10 finance-type=110 tied-status=5 aid-type=C01 recipient-country=KE sector=16020 vocabulary=1
              related-activity XM-DAC-41302-P0 type=1
        "#]],
    );
}

#[test]
fn legacy_transaction_letters_map_to_codes_and_keep_what_was_written() {
    let mut xml = String::from(
        "<iati-activities version=\"1.05\"><iati-activity default-currency=\"GBP\">\n\
         <iati-identifier>GB-1-LEGACY</iati-identifier>\n",
    );
    for code in [
        "IF", "C", "D", "E", "IR", "LR", "R", "QP", "QS", "CG", "d", "3", "99",
    ] {
        xml.push_str(&format!(
            "<transaction><transaction-type code=\"{code}\"/><value>1</value></transaction>\n"
        ));
    }
    xml.push_str("</iati-activity></iati-activities>");
    check(
        &xml,
        expect![[r#"
            activity GB-1-LEGACY at 1:33, 1 faults, 1045 bytes
              attributes: default-currency=GBP
              transaction type=1 written=IF value=1 GBP
              transaction type=2 written=C value=1 GBP
              transaction type=3 written=D value=1 GBP
              transaction type=4 written=E value=1 GBP
              transaction type=5 written=IR value=1 GBP
              transaction type=6 written=LR value=1 GBP
              transaction type=7 written=R value=1 GBP
              transaction type=8 written=QP value=1 GBP
              transaction type=9 written=QS value=1 GBP
              transaction type=10 written=CG value=1 GBP
              transaction type=3 written=d value=1 GBP
              transaction type=3 value=1 GBP
              transaction written=99 value=1 GBP
            warning[unknown-code] 15:14 /iati-activities/iati-activity/transaction/transaction-type: '99' is not a code of the TransactionType codelist (in GB-1-LEGACY)
        "#]],
    );
}

#[test]
fn a_value_takes_its_own_currency_else_the_default_else_none_with_a_warning() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity default-currency="eur">
  <iati-identifier>A-1</iati-identifier>
  <transaction><transaction-type code="3"/><value>10</value></transaction>
  <transaction><transaction-type code="3"/><value currency=" usd ">20</value></transaction>
  <budget><value>30</value></budget>
 </iati-activity>
 <iati-activity>
  <iati-identifier>A-2</iati-identifier>
  <transaction><transaction-type code="3"/><value>40</value></transaction>
  <transaction><transaction-type code="3"/><value currency="XYZ">50</value></transaction>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 0 faults, 301 bytes
              attributes: default-currency=EUR
              budget value=30 EUR
              transaction type=3 value=10 EUR
              transaction type=3 value=20 USD
            activity A-2 at 8:2, 2 faults, 239 bytes
              transaction type=3 value=40 (no currency)
              transaction type=3 value=50 XYZ
            warning[missing-currency] 10:44 /iati-activities/iati-activity/transaction/value: the value has no @currency and the record no @default-currency (in A-2)
            warning[unknown-code] 11:44 /iati-activities/iati-activity/transaction/value: 'XYZ' is not a code of the Currency codelist (in A-2)
        "#]],
    );
}

#[test]
fn narratives_take_their_own_language_else_the_activity_language() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity xml:lang="en">
  <iati-identifier>A-1</iati-identifier>
  <title>
   <narrative>Employment for peace</narrative>
   <narrative xml:lang="fr">L'emploi pour la paix</narrative>
   <narrative xml:lang="es">Empleo para la paz</narrative>
   <narrative xml:lang="ar">العمل من أجل السلام</narrative>
   <narrative xml:lang="fr"></narrative>
  </title>
  <description type="2"><narrative xml:lang="es">Objetivos &amp; metas &#xe9;</narrative></description>
 </iati-activity>
 <iati-activity>
  <iati-identifier>A-2</iati-identifier>
  <title><narrative>No language anywhere</narrative></title>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 0 faults, 498 bytes
              attributes: lang=en
              title [en:"Employment for peace", fr:"L'emploi pour la paix", es:"Empleo para la paz", ar:"العمل من أجل السلام"]
              description type=2 [es:"Objetivos & metas é"]
            activity A-2 at 13:2, 0 faults, 135 bytes
              title [?:"No language anywhere"]
        "#]],
    );
}

#[test]
fn text_written_directly_in_an_element_is_a_narrative_as_in_version_1() {
    check(
        r#"<iati-activities version="1.05">
 <iati-activity xml:lang="en" default-currency="USD">
  <iati-identifier>US-1-OLD</iati-identifier>
  <reporting-org ref="US-1" type="10">USAID</reporting-org>
  <title>Old style title</title>
  <title xml:lang="fr">Titre à l'ancienne</title>
  <description type="1">Old style <!-- a comment -->description</description>
  <participating-org ref="US-1" role="Funding" type="10">USAID</participating-org>
  <participating-org role="implementing">An NGO</participating-org>
  <activity-date type="start-planned" iso-date="2010-01-01">Start</activity-date>
  <transaction>
   <transaction-type code="D"/>
   <value value-date="2010-02-01">5</value>
   <provider-org ref="US-1">USAID</provider-org>
   <receiver-org>An NGO</receiver-org>
   <description>Payment</description>
  </transaction>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity US-1-OLD at 2:2, 0 faults, 806 bytes
              attributes: default-currency=USD lang=en
              reporting-org ref=US-1 type=10 [en:"USAID"]
              title [en:"Old style title", fr:"Titre à l'ancienne"]
              description type=1 [en:"Old style description"]
              participating-org ref=US-1 type=10 role=1 [en:"USAID"]
              participating-org role=4 [en:"An NGO"]
              date type=1 2010-01-01
              transaction type=3 written=D value=5 USD value-date=2010-02-01
                provider-org ref=US-1 [en:"USAID"]
                receiver-org [en:"An NGO"]
                description [en:"Payment"]
        "#]],
    );
}

#[test]
fn unknown_codes_are_reported_and_kept() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity default-currency="USD">
  <iati-identifier>A-1</iati-identifier>
  <reporting-org ref="X" type="99"/>
  <participating-org role="7"/>
  <activity-status code="9"/>
  <activity-date type="8" iso-date="2020-01-01"/>
  <recipient-country code="XX"/>
  <recipient-region code="9999"/>
  <recipient-region code="ANY" vocabulary="99"/>
  <sector code="99999"/>
  <sector code="999" vocabulary="2"/>
  <sector code="ANY" vocabulary="98"/>
  <collaboration-type code="9"/>
  <default-flow-type code="9"/>
  <default-finance-type code="9"/>
  <default-aid-type code="Z99"/>
  <default-tied-status code="9"/>
  <budget type="9" status="9"><value>1</value></budget>
  <related-activity ref="A-0" type="9"/>
  <description type="9"/>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 17 faults, 754 bytes
              attributes: default-currency=USD
              reporting-org ref=X type=99
              description type=9 []
              participating-org role=7
              status 9
              date type=8 2020-01-01
              recipient-country XX
              recipient-region 9999
              recipient-region ANY vocabulary=99
              sector 99999
              sector 999 vocabulary=2
              sector ANY vocabulary=98
              defaults: collaboration-type=9 flow-type=9 finance-type=9 tied-status=9 aid-type=Z99
              budget type=9 status=9 value=1 USD
              related-activity A-0 type=9
            warning[unknown-code] 4:3 /iati-activities/iati-activity/reporting-org: '99' is not a code of the OrganisationType codelist (in A-1)
            warning[unknown-code] 5:3 /iati-activities/iati-activity/participating-org: '7' is not a code of the OrganisationRole codelist (in A-1)
            warning[unknown-code] 6:3 /iati-activities/iati-activity/activity-status: '9' is not a code of the ActivityStatus codelist (in A-1)
            warning[unknown-code] 7:3 /iati-activities/iati-activity/activity-date: '8' is not a code of the ActivityDateType codelist (in A-1)
            warning[unknown-code] 8:3 /iati-activities/iati-activity/recipient-country: 'XX' is not a code of the Country codelist (in A-1)
            warning[unknown-code] 9:3 /iati-activities/iati-activity/recipient-region: '9999' is not a code of the Region codelist (in A-1)
            warning[unknown-code] 11:3 /iati-activities/iati-activity/sector: '99999' is not a code of the Sector codelist (in A-1)
            warning[unknown-code] 12:3 /iati-activities/iati-activity/sector: '999' is not a code of the SectorCategory codelist (in A-1)
            warning[unknown-code] 14:3 /iati-activities/iati-activity/collaboration-type: '9' is not a code of the CollaborationType codelist (in A-1)
            warning[unknown-code] 15:3 /iati-activities/iati-activity/default-flow-type: '9' is not a code of the FlowType codelist (in A-1)
            warning[unknown-code] 16:3 /iati-activities/iati-activity/default-finance-type: '9' is not a code of the FinanceType codelist (in A-1)
            warning[unknown-code] 17:3 /iati-activities/iati-activity/default-aid-type: 'Z99' is not a code of the AidType codelist (in A-1)
            warning[unknown-code] 18:3 /iati-activities/iati-activity/default-tied-status: '9' is not a code of the TiedStatus codelist (in A-1)
            warning[unknown-code] 19:3 /iati-activities/iati-activity/budget: '9' is not a code of the BudgetType codelist (in A-1)
            warning[unknown-code] 19:3 /iati-activities/iati-activity/budget: '9' is not a code of the BudgetStatus codelist (in A-1)
            warning[unknown-code] 20:3 /iati-activities/iati-activity/related-activity: '9' is not a code of the RelatedActivityType codelist (in A-1)
            warning[unknown-code] 21:3 /iati-activities/iati-activity/description: '9' is not a code of the DescriptionType codelist (in A-1)
        "#]],
    );
}

#[test]
fn values_percentages_and_dates_that_cannot_be_read_are_reported_and_left_out() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity default-currency="USD" hierarchy="one" humanitarian="yes">
  <iati-identifier>A-1</iati-identifier>
  <activity-date type="1" iso-date="2020-13-01"/>
  <recipient-country code="KE" percentage="about half"/>
  <sector code="11110" percentage="120"/>
  <budget>
   <period-start iso-date="01/01/2020"/>
   <value>1,000</value>
  </budget>
  <budget/>
  <transaction>
   <transaction-type code="3"/>
   <transaction-date iso-date="2020-02-30"/>
   <value value-date="yesterday">  </value>
  </transaction>
  <transaction><transaction-type code="3"/></transaction>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 12 faults, 593 bytes
              attributes: default-currency=USD
              recipient-country KE
              sector 11110
              budget value=none
              budget value=none
              transaction type=3 value=none
              transaction type=3 value=none
            warning[not-a-number] 2:2 /iati-activities/iati-activity: the hierarchy 'one' is not a whole number (in A-1)
            warning[not-a-boolean] 2:2 /iati-activities/iati-activity: 'yes' is not a boolean (1, 0, true or false) (in A-1)
            warning[bad-date] 4:3 /iati-activities/iati-activity/activity-date: @iso-date: '2020-13-01' is not a date: there is no month 13 (in A-1)
            warning[bad-percentage] 5:3 /iati-activities/iati-activity/recipient-country: @percentage: 'about half' is not a number: spaces are not allowed inside a number (found ' ') (in A-1)
            warning[bad-percentage] 6:3 /iati-activities/iati-activity/sector: @percentage: '120' is not a percentage: it must be between 0 and 100 (in A-1)
            warning[bad-date] 8:4 /iati-activities/iati-activity/budget/period-start: @iso-date: '01/01/2020' is not a date: expected YYYY-MM-DD (in A-1)
            warning[not-a-number] 9:4 /iati-activities/iati-activity/budget/value: the value '1,000' is not a number: thousands separators are not allowed (in A-1)
            warning[missing-value] 11:3 /iati-activities/iati-activity/budget: there is no <value> (in A-1)
            warning[bad-date] 14:4 /iati-activities/iati-activity/transaction/transaction-date: @iso-date: '2020-02-30' is not a date: February 2020 has 29 days (in A-1)
            warning[bad-date] 15:4 /iati-activities/iati-activity/transaction/value: @value-date: 'yesterday' is not a date: expected YYYY-MM-DD (in A-1)
            warning[not-a-number] 15:4 /iati-activities/iati-activity/transaction/value: the value is empty (in A-1)
            warning[missing-value] 17:3 /iati-activities/iati-activity/transaction: there is no <value> (in A-1)
        "#]],
    );
}

#[test]
fn an_activity_without_identifier_is_skipped_and_the_next_one_read() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity default-currency="USD">
  <title><narrative>Nameless</narrative></title>
  <transaction><transaction-type code="99"/><value>1</value></transaction>
 </iati-activity>
 <iati-activity><iati-identifier>  </iati-identifier></iati-activity>
 <iati-activity default-currency="USD"><iati-identifier>A-3</iati-identifier></iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-3 at 7:2, 0 faults, 92 bytes
              attributes: default-currency=USD
            warning[unknown-code] 4:16 /iati-activities/iati-activity/transaction/transaction-type: '99' is not a code of the TransactionType codelist
            error[missing-identifier] 2:2 /iati-activities/iati-activity: the activity has no <iati-identifier> (or an empty one) and is skipped
            error[missing-identifier] 6:2 /iati-activities/iati-activity: the activity has no <iati-identifier> (or an empty one) and is skipped
        "#]],
    );
}

#[test]
fn an_organisation_file_gives_organisations() {
    check(
        r#"<?xml version="1.0"?>
<iati-organisations version="2.03">
 <iati-organisation default-currency="CHF" xml:lang="en" last-updated-datetime="2024-01-01T00:00:00">
  <organisation-identifier>XM-DAC-41302</organisation-identifier>
  <name><narrative>International Labour Organization</narrative><narrative xml:lang="fr">Organisation internationale du Travail</narrative></name>
  <reporting-org ref="XM-DAC-41302" type="40"><narrative>ILO</narrative></reporting-org>
  <total-budget status="2">
   <period-start iso-date="2024-01-01"/><period-end iso-date="2025-12-31"/>
   <value currency="USD" value-date="2024-01-01">1000000</value>
   <budget-line ref="1"><value>5</value></budget-line>
  </total-budget>
  <recipient-org-budget><recipient-org ref="XM-DAC-41114"/><value>200</value></recipient-org-budget>
  <recipient-country-budget><recipient-country code="ke"/><value>300</value></recipient-country-budget>
  <recipient-region-budget><recipient-region code="298" vocabulary="1"/><value>400</value></recipient-region-budget>
  <total-expenditure><period-start iso-date="2023-01-01"/><value>500</value></total-expenditure>
 </iati-organisation>
 <iati-organisation><name>No identifier</name></iati-organisation>
</iati-organisations>"#,
        expect![[r#"
            organisation XM-DAC-41302 at 3:2, 0 faults, 1085 bytes
              attributes: default-currency=CHF lang=en last-updated=2024-01-01T00:00:00
              name [en:"International Labour Organization", fr:"Organisation internationale du Travail"]
              reporting-org ref=XM-DAC-41302 type=40 [en:"ILO"]
              total-budget status=2 start=2024-01-01 end=2025-12-31 value=1000000 USD value-date=2024-01-01
              recipient-org-budget recipient=XM-DAC-41114 value=200 CHF
              recipient-country-budget recipient=KE value=300 CHF
              recipient-region-budget recipient=298 value=400 CHF
              total-expenditure start=2023-01-01 value=500 CHF
            error[missing-identifier] 17:2 /iati-organisations/iati-organisation: the organisation has no <organisation-identifier> and is skipped
        "#]],
    );
}

#[test]
fn unknown_elements_and_namespaced_attributes_are_skipped() {
    check(
        r#"<iati-activities version="2.03" xmlns:dstore="http://d-portal.org/xmlns/dstore">
 <iati-activity dstore:dataset="x-1" dstore:index="4" default-currency="USD">
  <iati-identifier>A-1</iati-identifier>
  <my:extension xmlns:my="http://example.org/my"><my:thing code="99">text</my:thing></my:extension>
  <location><name><narrative>Not a title</narrative></name></location>
  <iati-activity><iati-identifier>NESTED-IS-NOT-A-RECORD</iati-identifier></iati-activity>
 </iati-activity>
 <other-thing/>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 0 faults, 397 bytes
              attributes: default-currency=USD
        "#]],
    );
}

#[test]
fn a_document_that_is_not_well_formed_is_fatal_where_it_breaks() {
    check(
        r#"<iati-activities version="2.03">
 <iati-activity><iati-identifier>A-1</iati-identifier></iati-activity>
 <iati-activity>
  <iati-identifier>A-2</iati-identifier>
  <title><narrative>Broken</title>
 </iati-activity>
</iati-activities>"#,
        expect![[r#"
            activity A-1 at 2:2, 0 faults, 69 bytes
            fatal[not-well-formed] 5:27 /iati-activities/iati-activity/title/narrative: the document is not well-formed XML: ill-formed document: expected `</narrative>`, but `</title>` was found (in A-2)
        "#]],
    );
    check(
        "<iati-activities version=\"2.03\">\n <iati-activity>\n  <iati-identifier>A-1",
        expect![[r#"
            fatal[not-well-formed] 3:23 /iati-activities/iati-activity/iati-identifier: the document is not well-formed XML: it ends before <iati-identifier> is closed
        "#]],
    );
    check(
        "<iati-activities version=\"2.03\">\n <iati-activity a=\"1\" a=\"2\">",
        expect![[r#"
            fatal[not-well-formed] 2:2 /iati-activities/iati-activity: the document is not well-formed XML: the attribute a is given twice
        "#]],
    );
    check(
        "<iati-activities>\n <iati-activity code=unquoted/>\n</iati-activities>",
        expect![[r#"
            fatal[not-well-formed] 2:22 /iati-activities/iati-activity: the document is not well-formed XML: an attribute value is not in quotes
        "#]],
    );
    check(
        "<iati-activities>\n <iati-activity>\n  <title>a < b</title>",
        expect![[r#"
            fatal[not-well-formed] 3:12 /iati-activities/iati-activity/title: the document is not well-formed XML: `<` is not followed by an element name (in text it must be written `&lt;`)
        "#]],
    );
    check(
        "<iati-activities/>\n<iati-activities/>",
        expect![[r#"
            fatal[not-well-formed] 2:1 /iati-activities: the document is not well-formed XML: a second root element <iati-activities> follows the first
        "#]],
    );
    check(
        "<iati-activities/>\ntrailing text",
        expect![[r#"
            fatal[not-well-formed] 2:1 /: the document is not well-formed XML: text follows the root element
        "#]],
    );
}

#[test]
fn what_is_not_an_iati_document_is_fatal() {
    check(
        "",
        expect![[r#"
            fatal[empty-document] 1:1 /: the document is empty
        "#]],
    );
    check(
        "  \n\t ",
        expect![[r#"
            fatal[empty-document] 1:1 /: the document is empty
        "#]],
    );
    check(
        "{\"activities\": []}",
        expect![[r#"
            fatal[not-xml] 1:1 /: the document is not XML: it does not start with markup
        "#]],
    );
    check(
        "<?xml version=\"1.0\"?>\n<!-- nothing else -->",
        expect![[r#"
            fatal[not-xml] 2:22 /: the document has no root element
        "#]],
    );
    check(
        "<?xml version=\"1.0\"?>\n<html><body/></html>",
        expect![[r#"
            fatal[not-iati] 2:1 /html: the root element is <html>, not <iati-activities> or <iati-organisations>
        "#]],
    );
    check(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<iati-activities/>",
        expect![[r#"
            fatal[unsupported-encoding] 1:1 /: the document declares encoding 'iso-8859-1'; only UTF-8 is read
        "#]],
    );
    check(
        "\u{feff}<iati-activities version=\"2.03\"><iati-activity><iati-identifier>BOM</iati-identifier></iati-activity></iati-activities>",
        expect![[r#"
            activity BOM at 1:33, 0 faults, 69 bytes
        "#]],
    );
}

#[test]
fn raw_xml_is_the_record_byte_for_byte() {
    let first = "<iati-activity\n   default-currency='EUR'   xml:lang=\"fr\"\n>\n  <!-- kept -->\n  <iati-identifier>A&amp;1</iati-identifier>\n  <title><narrative><![CDATA[<b>bold</b> & raw]]></narrative></title>\n  <other xmlns:x=\"urn:x\" x:y=\"&#233;\">&lt;text&gt;</other>\n</iati-activity >";
    let second = "<iati-activity><iati-identifier>A-2</iati-identifier></iati-activity>";
    let xml = format!(
        "<?xml version=\"1.0\"?>\r\n<iati-activities version=\"2.03\">\r\n {first}<!-- between -->{second}\n</iati-activities>\n"
    );
    let (records, diagnostics, fatal) =
        coopfolio_iati::read_all(xml.as_bytes(), "test.xml", crate::render::codelists());
    assert_eq!((diagnostics.len(), fatal), (0, None));
    let raw: Vec<String> = records
        .iter()
        .map(|record| match record {
            coopfolio_iati::Record::Activity(activity) => {
                String::from_utf8(activity.raw_xml.clone()).expect("UTF-8")
            }
            coopfolio_iati::Record::Organisation(_) => unreachable!(),
        })
        .collect();
    assert_eq!(raw, [first, second]);
    check(
        &xml,
        expect![[r#"
            activity A&1 at 3:2, 0 faults, 266 bytes
              attributes: default-currency=EUR lang=fr
              title [fr:"<b>bold</b> & raw"]
            activity A-2 at 10:34, 0 faults, 69 bytes
        "#]],
    );
}
