//! The processor configuration: formats and the data files the host reads on
//! the component's behalf. Built at start-up and again on every reload.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::runtime::{DataFile, DataKind, LoadedFile, ProcessorConfig};

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
    /// naming it; what is inside is judged by the component.
    pub fn load(&self) -> Result<ProcessorConfig> {
        Ok(ProcessorConfig {
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
        })
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
