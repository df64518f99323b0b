//! Calendar dates as day numbers, for the demo's schedules: the days-from-civil algorithm of Howard
//! Hinnant, so that no date library is needed for adding days to "YYYY-MM-DD".

/// A day, counted from 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Day(pub(crate) i64);

impl Day {
    pub(crate) fn from_ymd(year: i64, month: i64, day: i64) -> Day {
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    /// "YYYY-MM-DD".
    pub(crate) fn parse(text: &str) -> Day {
        let field = |range: std::ops::Range<usize>| -> i64 {
            text[range].parse().expect("the demo writes its own dates")
        };
        Day::from_ymd(field(0..4), field(5..7), field(8..10))
    }

    pub(crate) fn ymd(self) -> (i64, i64, i64) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    pub(crate) fn year(self) -> i64 {
        self.ymd().0
    }

    pub(crate) fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// "YYYY-MM-DD".
    pub(crate) fn iso(self) -> String {
        let (year, month, day) = self.ymd();
        format!("{year:04}-{month:02}-{day:02}")
    }

    /// RFC 3339 at a time of day given in minutes after midnight, in UTC.
    pub(crate) fn at(self, minutes: i64) -> String {
        format!(
            "{}T{:02}:{:02}:00Z",
            self.iso(),
            minutes / 60 % 24,
            minutes % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_the_calendar() {
        assert_eq!(Day::from_ymd(1970, 1, 1), Day(0));
        assert_eq!(Day::parse("2024-02-29").plus(1).iso(), "2024-03-01");
        assert_eq!(Day::parse("2023-12-31").plus(1).iso(), "2024-01-01");
        for n in (Day::parse("2015-01-01").0..Day::parse("2029-01-01").0).step_by(7) {
            assert_eq!(Day::parse(&Day(n).iso()), Day(n));
        }
        assert_eq!(
            Day::parse("2022-03-05").at(9 * 60 + 30),
            "2022-03-05T09:30:00Z"
        );
    }
}
