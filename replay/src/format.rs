//! How the command writes numbers, durations and times for people: one place, so that the
//! summary, the replay table, `explain` and the HTML report say `1,234`, `6 h 5 min` and
//! `2023-07-10T12:08Z` the same way. JSON keeps its own forms (see [`minute_text`]).

use trailsight_engine::time::{MINUTES_PER_DAY, Minute};

/// `1234567` → `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 file`, `2 files`, `1,234 files`.
pub fn count(value: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(value),
        if value == 1 { one } else { many }
    )
}

/// `45 min`, `6 h 5 min`, `2 h`, `2 d 3 h`: a span of minutes to its two largest units.
pub fn duration(minutes: i64) -> String {
    let (d, h, m) = (
        minutes / MINUTES_PER_DAY,
        minutes % MINUTES_PER_DAY / 60,
        minutes % 60,
    );
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// `5 min`, `1 h 35 min`, `1 h 0 min`, `3 d 1 h`: how far a live feed is behind, never
/// negative. Unlike [`duration`] it keeps `0 min` under a day, so that a status line that is
/// redrawn keeps its shape.
pub fn lag(minutes: i64) -> String {
    match minutes.max(0) {
        m if m < 60 => format!("{m} min"),
        m if m < MINUTES_PER_DAY => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d {} h", m / MINUTES_PER_DAY, m % MINUTES_PER_DAY / 60),
    }
}

/// `0.857`, or `n/a`: a share to three decimals.
pub fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// A rate for reading at a glance: three significant digits, exponent form below 0.001.
pub fn rate(value: f64) -> String {
    if !value.is_finite() {
        return "∞".to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if magnitude < -3 {
        return format!("{value:.2e}");
    }
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// `2023-07-10T12:08Z`: a minute, short.
pub fn minute_short(minute: Minute) -> String {
    format!("{}Z", &minute.to_string()[..16])
}

/// `2023-07-10 12:08`: a minute for a table cell.
pub fn minute_spaced(minute: Minute) -> String {
    let t = minute.to_string();
    format!("{} {}", &t[..10], &t[11..16])
}

/// `YYYY-MM-DD` of a minute.
pub fn date(minute: Minute) -> String {
    minute.to_string()[..10].to_owned()
}

/// `HH:MM` of a minute.
pub fn clock(minute: Minute) -> String {
    let m = minute.minute_of_day();
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Serialises a minute as `YYYY-MM-DDTHH:MM:00Z` (`#[serde(serialize_with)]`).
pub fn minute_text<S: serde::Serializer>(
    minute: &Minute,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(minute)
}

/// [`minute_text`] of an optional minute; `null` for none.
pub fn optional_minute_text<S: serde::Serializer>(
    minute: &Option<Minute>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match minute {
        Some(m) => serializer.collect_str(m),
        None => serializer.serialize_none(),
    }
}

/// `text` cut at the end to `limit` characters, `...` marking the cut.
pub fn cut_end(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        let head: String = text.chars().take(limit.saturating_sub(3)).collect();
        format!("{head}...")
    }
}

/// `text` cut in the middle to `limit` characters, `…` marking the cut: user agents and ARNs
/// of one tool share their start and differ at the end.
pub fn cut_middle(text: &str, limit: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= limit {
        return text.to_owned();
    }
    let head = limit * 2 / 3;
    let tail = limit - head - 1;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(1234, "file", "files"), "1,234 files");
    }

    #[test]
    fn durations_and_lags() {
        assert_eq!(duration(45), "45 min");
        assert_eq!(duration(365), "6 h 5 min");
        assert_eq!(duration(120), "2 h");
        assert_eq!(duration(3060), "2 d 3 h");
        assert_eq!(lag(5), "5 min");
        assert_eq!(lag(95), "1 h 35 min");
        assert_eq!(lag(60), "1 h 0 min");
        assert_eq!(lag(3 * 1440 + 61), "3 d 1 h");
        assert_eq!(lag(-4), "0 min");
    }

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(rate(78.0), "78");
        assert_eq!(rate(0.6), "0.6");
        assert_eq!(rate(1.23456), "1.23");
        assert_eq!(rate(1234.6), "1235");
        assert_eq!(rate(0.0001850481), "1.85e-4");
        assert_eq!(rate(f64::INFINITY), "∞");
        assert_eq!(ratio(Some(6.0 / 7.0)), "0.857");
        assert_eq!(ratio(None), "n/a");
    }

    #[test]
    fn minutes_and_cuts() {
        let m = Minute(28_239_128); // 2023-09-10T12:08
        assert_eq!(m.to_string(), "2023-09-10T12:08:00Z");
        assert_eq!(minute_short(m), "2023-09-10T12:08Z");
        assert_eq!(minute_spaced(m), "2023-09-10 12:08");
        assert_eq!(date(m), "2023-09-10");
        assert_eq!(clock(m), "12:08");
        assert_eq!(cut_end("abcdefgh", 5), "ab...");
        assert_eq!(cut_end("abc", 5), "abc");
        assert_eq!(cut_middle("abcdefghij", 7), "abcd…ij");
    }
}
