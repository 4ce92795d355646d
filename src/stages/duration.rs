//! Human durations on the command line and in the config: "90m", "24h", "7d", "2h30m".
//!
//! Units: `s`, `m` (minutes), `h`, `d`, `w`; several parts add up ("1d12h"). No unit is an
//! error rather than a guess, so `--max-idle 2` does not silently mean two seconds.

use std::fmt;

/// Why a duration did not parse; the message names the text and the expected form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DurationError {}

/// Parses "24h", "7d", "90m", "2h30m", "45s", "2w" into a positive duration.
pub fn parse(text: &str) -> Result<chrono::TimeDelta, DurationError> {
    let bad =
        |why: &str| DurationError(format!("invalid duration {text:?}: {why} (expected e.g. 90m, 24h, 7d, 2h30m)"));
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit_secs: i64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad(&format!("unknown unit {c:?}"))),
        };
        if digits.is_empty() {
            return Err(bad(&format!("a number must come before {c:?}")));
        }
        let n: i64 = digits.parse().map_err(|_| bad("number too large"))?;
        total = n.checked_mul(unit_secs).and_then(|part| total.checked_add(part)).ok_or_else(|| bad("too large"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad("the last number has no unit"));
    }
    if total == 0 {
        return Err(bad("must be longer than zero"));
    }
    chrono::TimeDelta::try_seconds(total).ok_or_else(|| bad("too large"))
}

/// A short human form with the two largest units: "2h 30m", "3d 4h", "3d", "45s".
pub fn format(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds();
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    let parts = [(secs / 86_400, "d"), (secs % 86_400 / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
    let Some(first) = parts.iter().position(|(n, _)| *n > 0) else { return "0s".into() };
    let mut out = format!("{sign}{}{}", parts[first].0, parts[first].1);
    if let Some((n, unit)) = parts.get(first + 1).filter(|(n, _)| *n > 0) {
        out.push_str(&format!(" {n}{unit}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms_parse() {
        assert_eq!(parse("24h").unwrap().num_hours(), 24);
        assert_eq!(parse("7d").unwrap().num_days(), 7);
        assert_eq!(parse("90m").unwrap().num_minutes(), 90);
        assert_eq!(parse("2h30m").unwrap().num_minutes(), 150);
        assert_eq!(parse("1w").unwrap().num_days(), 7);
        assert_eq!(parse(" 45s ").unwrap().num_seconds(), 45);
        assert_eq!(parse("1D12H").unwrap().num_hours(), 36);
    }

    #[test]
    fn mistakes_are_errors_that_name_the_text() {
        for bad in ["", "2", "h", "2x", "0h", "-2h", "2h 30m", "99999999999999999999d"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        assert!(parse("2").unwrap_err().to_string().contains("no unit"));
    }

    #[test]
    fn formatting_is_short() {
        assert_eq!(format(parse("2h30m").unwrap()), "2h 30m");
        assert_eq!(format(parse("3d4h").unwrap()), "3d 4h");
        assert_eq!(format(parse("3d20s").unwrap()), "3d");
        assert_eq!(format(parse("45s").unwrap()), "45s");
        assert_eq!(format(chrono::TimeDelta::zero()), "0s");
        assert_eq!(format(-parse("90m").unwrap()), "-1h 30m");
    }
}
