//! The count behind the home page's world map: how many programmes and projects are active in a
//! period in each recipient country.
//!
//! "Active" is the portfolio's definition (`figures.rs`, `Store::portfolio`): started by the
//! period's last day, not ended before its first, and only the organisation's own activities
//! when the `organisation_ref` setting names it. The two are kept in step by a test that checks
//! the map reaches exactly the countries the portfolio counts.

use coopfolio_core::period::Period;

use crate::figures::{
    period_label, ConversionNote, Count, Figure, MethodNote, Withheld, ORGANISATION_REF,
};
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

impl Store {
    /// Programmes and projects active in `period`, counted in each of their recipient
    /// countries (upper-case codes as recorded), largest count first, then by code. An activity
    /// in three countries counts once in each, so the counts add up to more than the
    /// programmes active; an activity without a recipient country is on no country.
    pub async fn programmes_by_country(
        &self,
        period: Period,
    ) -> Result<Figure<Vec<Count>>, StoreError> {
        let operation = "counting programmes and projects by country";
        let organisation = self.setting(ORGANISATION_REF).await?;
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        // The same condition as the portfolio's; see the module comment.
        let mut sql = "SELECT UPPER(TRIM(rc.code)), COUNT(DISTINCT a.id) FROM activity a \
            JOIN recipient_country rc ON rc.activity_id = a.id \
            WHERE a.start_date IS NOT NULL AND a.start_date < $1 \
            AND (a.end_date IS NULL OR a.end_date >= $2)"
            .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND a.reporting_org_ref = $3");
        }
        sql.push_str(" GROUP BY UPPER(TRIM(rc.code))");
        let rows: Vec<(String, i64)> = dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(&day_after).bind(&first_day);
            if let Some(organisation) = &organisation {
                query = query.bind(organisation);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let mut counts: Vec<Count> = rows
            .into_iter()
            .filter(|(code, _)| !code.is_empty())
            .map(|(code, count)| Count {
                code,
                count: u64::try_from(count).unwrap_or(0),
            })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        let method = MethodNote {
            basis: match organisation.as_deref() {
                Some(organisation) => crate::method_text::MAP_BASIS_REPORTED.say(&[("organisation", organisation)]),
                None => crate::method_text::MAP_BASIS.say(&[]),
            },
            period: period_label(period),
            first_day,
            last_day: period.last_day(),
            modalities: Vec::new(),
            partner_groups: Vec::new(),
            hierarchy_rule: "programmes and projects are counted alike: a programme and each of its projects count once each".to_owned(),
            revised_budget_rule: "not applicable: activities are counted, not budgets".to_owned(),
            conversion: ConversionNote {
                rule: "not applicable: no money is counted".to_owned(),
                sources: Vec::new(),
                entries_converted: 0,
                entries_without_rate: 0,
            },
            withheld: Withheld {
                note: "nothing withheld".to_owned(),
                ..Withheld::default()
            },
        };
        Ok(Figure {
            value: counts,
            method,
        })
    }
}
