//! UTC calendar dates from Unix timestamps, without a date library.

/// The last second of 9999-12-31 UTC: the largest build time accepted, so
/// that every build date has a four-digit year.
pub(crate) const MAX_EPOCH: u64 = 253_402_300_799;

/// (year, month, day) of the proleptic Gregorian calendar for a count of
/// days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction.
    (year, month as u32, day as u32)
}

/// `YYYY-MM-DD` (UTC) for a Unix timestamp up to [`MAX_EPOCH`]; later ones
/// are clamped to it.
pub(crate) fn iso_date(epoch: u64) -> String {
    let secs = epoch.min(MAX_EPOCH);
    // secs / 86_400 < 2^32: the cast is exact.
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix timestamp up to [`MAX_EPOCH`]; later
/// ones are clamped to it.
pub(crate) fn iso_datetime(epoch: u64) -> String {
    let secs = epoch.min(MAX_EPOCH);
    let rem = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(secs),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_date(86_399), "1970-01-01");
        assert_eq!(iso_date(86_400), "1970-01-02");
        // The MaxMind test databases.
        assert_eq!(iso_date(1_770_245_369), "2026-02-04");
        assert_eq!(iso_datetime(1_770_245_369), "2026-02-04T22:49:29Z");
        assert_eq!(iso_datetime(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_date(951_868_800), "2000-03-01");
        assert_eq!(iso_date(4_107_542_400), "2100-03-01");
        assert_eq!(iso_date(4_107_456_000), "2100-02-28");
        assert_eq!(iso_datetime(1_709_164_799), "2024-02-28T23:59:59Z");
        assert_eq!(iso_date(1_709_164_800), "2024-02-29");
        assert_eq!(iso_datetime(MAX_EPOCH), "9999-12-31T23:59:59Z");
        assert_eq!(iso_datetime(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn every_day_is_consecutive() {
        // Walk 1970..2200 day by day and check the calendar rolls correctly.
        let (mut y, mut m, mut d) = (1970_i64, 1_u32, 1_u32);
        for days in 0..(230 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
