//! The processor configuration: formats and the data files the host reads on
//! the component's behalf. Built at start-up and again on every reload.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::runtime::{DataFile, DataKind, LoadedFile, ProcessorConfig};
use crate::verified::VerifiedFiles;

/// What the user named on the command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Custom formats.
    pub formats: Vec<String>,
    /// MaxMind DB files.
    pub geoip: Vec<PathBuf>,
    /// Language of GeoIP names.
    pub geoip_locale: Option<String>,
    /// AWS ip-ranges.json.
    pub aws_ip_ranges: Option<PathBuf>,
    /// describe-network-interfaces output files.
    pub eni_maps: Vec<PathBuf>,
    /// Add the derived `flow` object to records.
    pub derive_flow: bool,
}

impl Sources {
    /// Reads every data file. A missing or unreadable file is an error
    /// naming it; what is inside is judged by the component. Files the
    /// component accepted before are marked so ([`VerifiedFiles`]).
    pub fn load(&self, verified: &VerifiedFiles) -> Result<ProcessorConfig> {
        let mut config = ProcessorConfig {
            formats: self.formats.clone(),
            geoip: self
                .geoip
                .iter()
                .map(|p| read(p, "--geoip"))
                .collect::<Result<_>>()?,
            geoip_locale: self.geoip_locale.clone(),
            aws_ip_ranges: self
                .aws_ip_ranges
                .as_deref()
                .map(|p| read(p, "--aws-ip-ranges"))
                .transpose()?,
            eni_maps: self
                .eni_maps
                .iter()
                .map(|p| read(p, "--eni-map"))
                .collect::<Result<_>>()?,
            derive_flow: self.derive_flow,
        };
        verified.mark(&mut config);
        Ok(config)
    }

    /// Whether any data file is configured (there is something to reload).
    pub fn has_data(&self) -> bool {
        !self.geoip.is_empty() || self.aws_ip_ranges.is_some() || !self.eni_maps.is_empty()
    }
}

fn read(path: &Path, option: &str) -> Result<DataFile> {
    let data = std::fs::read(path)
        .with_context(|| format!("{option} {}: cannot read the file", path.display()))?;
    Ok(DataFile {
        name: path.display().to_string(),
        data,
        verified: false,
    })
}

/// The name of a data kind, as in messages.
pub fn kind_name(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Geoip => "geoip",
        DataKind::AwsIpRanges => "aws-ip-ranges",
        DataKind::EniMap => "eni-map",
    }
}

/// One line per loaded file, for `--verbose`.
pub fn describe_loaded(loaded: &[LoadedFile]) -> Vec<String> {
    loaded
        .iter()
        .map(|l| {
            format!(
                "flowtag: loaded {} {}: {}",
                kind_name(l.kind),
                l.file,
                l.summary
            )
        })
        .collect()
}

/// Parses a byte size: a number with an optional `K`, `M` or `G` suffix
/// (powers of 1024, optionally followed by `iB` or `B`), as in `512M` or `1GiB`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    let number: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 1G, 512M, 65536)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text:?}: unknown unit (use K, M or G)")),
    };
    number
        .checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// Parses a duration: a number with a unit `ms`, `s` or `m`, as in `10s`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 10s, 500ms)"))?;
    let duration = match unit.trim() {
        "ms" => std::time::Duration::from_millis(number),
        "s" => std::time::Duration::from_secs(number),
        "m" | "min" => std::time::Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("{text:?}: give a unit: ms, s or m")),
    };
    if duration.is_zero() {
        return Err(format!("{text:?}: must be more than zero"));
    }
    Ok(duration)
}

/// Parses a timeout: a duration as [`parse_duration`], or `off` for none.
pub fn parse_timeout(text: &str) -> Result<Option<std::time::Duration>, String> {
    if matches!(text.trim(), "off" | "none") {
        return Ok(None);
    }
    parse_duration(text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_timeout("off"), Ok(None));
        assert_eq!(parse_timeout("1s"), Ok(Some(Duration::from_secs(1))));
    }
}
