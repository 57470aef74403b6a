//! Record formats: ordered field lists, written in any of the three spellings
//! users write (`${account-id}`, `account-id`, `account_id`).

use crate::field::{self, FieldKind};
use crate::out::Key;
use thiserror::Error;

/// The default (version 2) format.
pub const DEFAULT_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// One field of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Canonical AWS name, hyphenated (`account-id`).
    pub name: String,
    /// How the value is validated; `Text` for fields flowtag does not know.
    pub kind: FieldKind,
    /// Whether the field is one AWS documents.
    pub known: bool,
    /// `,"account_id":` — the JSON key with its leading comma, ready to copy.
    pub(crate) json_key: Key,
}

impl FieldSpec {
    /// The output key: the AWS name with `-` replaced by `_`.
    pub fn key(&self) -> &str {
        let key = self.json_key.as_bytes();
        let key = &key[2..key.len() - 2];
        // The key was built from a `str` whose bytes were all ASCII.
        std::str::from_utf8(key).unwrap_or_default()
    }
}

/// Which field of a record plays a role the enrichment and derived values need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// Position of `srcaddr`.
    pub srcaddr: Option<usize>,
    /// Position of `dstaddr`.
    pub dstaddr: Option<usize>,
    /// Position of `pkt-srcaddr`.
    pub pkt_srcaddr: Option<usize>,
    /// Position of `pkt-dstaddr`.
    pub pkt_dstaddr: Option<usize>,
    /// Position of `srcport`.
    pub srcport: Option<usize>,
    /// Position of `dstport`.
    pub dstport: Option<usize>,
    /// Position of `protocol`.
    pub protocol: Option<usize>,
    /// Position of `tcp-flags`.
    pub tcp_flags: Option<usize>,
    /// Position of `start`.
    pub start: Option<usize>,
    /// Position of `end`.
    pub end: Option<usize>,
    /// Position of `interface-id`.
    pub interface_id: Option<usize>,
    /// Position of `flow-direction`.
    pub flow_direction: Option<usize>,
    /// Position of `vpc-id`: tells apart ENIs in different VPCs that hold
    /// the same private address.
    pub vpc_id: Option<usize>,
}

/// An ordered list of fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    fields: Vec<FieldSpec>,
    roles: Roles,
    /// Total length of all JSON keys, for output size bounds.
    keys_len: usize,
}

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    /// The format has no fields.
    #[error("the format is empty")]
    Empty,
    /// A token is not a field name in any accepted spelling.
    #[error(
        "`{token}` is not a field name (expected `${{field-name}}`, `field-name` or `field_name`)"
    )]
    InvalidToken {
        /// The offending token.
        token: String,
    },
    /// The same field appears twice.
    #[error("field `{name}` appears twice")]
    DuplicateField {
        /// The repeated field, canonical spelling.
        name: String,
    },
}

impl FormatError {
    /// The token the error is about, if any.
    pub fn token(&self) -> &str {
        match self {
            FormatError::Empty => "",
            FormatError::InvalidToken { token } => token,
            FormatError::DuplicateField { name } => name,
        }
    }
}

/// Turns one token of a format into the canonical hyphenated field name, or
/// `None` if it is not a field name in any accepted spelling.
fn canonical_name(token: &str) -> Option<String> {
    let bare = match token.strip_prefix("${") {
        Some(rest) => rest.strip_suffix('}')?,
        None => token,
    };
    let bytes = bare.as_bytes();
    let starts_with_letter = bytes.first().is_some_and(u8::is_ascii_lowercase);
    let valid = starts_with_letter
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    valid.then(|| bare.replace('_', "-"))
}

impl Format {
    /// Parses a format in any of the accepted spellings. Tokens are separated
    /// by whitespace; `${a}${b}` without a space is also accepted.
    pub fn parse(text: &str) -> Result<Format, FormatError> {
        let mut names = Vec::new();
        for token in text.split_ascii_whitespace() {
            // `${a}${b}` — AWS's own syntax does not require spaces between fields.
            if token.starts_with("${") && token.matches("${").count() > 1 {
                for piece in token.split_inclusive('}') {
                    names.push(
                        canonical_name(piece).ok_or_else(|| FormatError::InvalidToken {
                            token: piece.to_owned(),
                        })?,
                    );
                }
            } else {
                names.push(
                    canonical_name(token).ok_or_else(|| FormatError::InvalidToken {
                        token: token.to_owned(),
                    })?,
                );
            }
        }
        Format::from_names(names)
    }

    /// The default version 2 format.
    pub fn default_v2() -> Format {
        match Format::parse(DEFAULT_FORMAT) {
            Ok(format) => format,
            Err(error) => unreachable!("the default format is valid: {error}"),
        }
    }

    fn from_names(names: Vec<String>) -> Result<Format, FormatError> {
        if names.is_empty() {
            return Err(FormatError::Empty);
        }
        let mut fields: Vec<FieldSpec> = Vec::with_capacity(names.len());
        let mut roles = Roles::default();
        for (index, name) in names.into_iter().enumerate() {
            if fields.iter().any(|other| other.name == name) {
                return Err(FormatError::DuplicateField { name });
            }
            let known = field::lookup(&name);
            match name.as_str() {
                "srcaddr" => roles.srcaddr = Some(index),
                "dstaddr" => roles.dstaddr = Some(index),
                "pkt-srcaddr" => roles.pkt_srcaddr = Some(index),
                "pkt-dstaddr" => roles.pkt_dstaddr = Some(index),
                "srcport" => roles.srcport = Some(index),
                "dstport" => roles.dstport = Some(index),
                "protocol" => roles.protocol = Some(index),
                "tcp-flags" => roles.tcp_flags = Some(index),
                "start" => roles.start = Some(index),
                "end" => roles.end = Some(index),
                "interface-id" => roles.interface_id = Some(index),
                "flow-direction" => roles.flow_direction = Some(index),
                "vpc-id" => roles.vpc_id = Some(index),
                _ => {}
            }
            let json_key = Key::new(&format!(",\"{}\":", name.replace('-', "_")));
            fields.push(FieldSpec {
                kind: known.map_or(FieldKind::Text, |k| k.kind),
                known: known.is_some(),
                name,
                json_key,
            });
        }
        let keys_len = fields.iter().map(|f| f.json_key.as_bytes().len()).sum();
        Ok(Format {
            fields,
            roles,
            keys_len,
        })
    }

    /// The fields, in record order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Always false: a format has at least one field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Most bytes a record of this format can take as JSON, given the
    /// length of its line: every key, and each value quoted and escaped at
    /// worst as `\u00XX` per byte.
    pub(crate) fn max_json_len(&self, line_len: usize) -> usize {
        self.keys_len + 6 * line_len + 2 * self.fields.len() + 3
    }

    /// Positions of fields with special roles.
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// The format in the hyphenated header spelling.
    pub fn to_header(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.join(" ")
    }
}

/// Whether the tokens of a line make a header line (as at the top of every S3
/// file): every token is a field name in an accepted spelling and at least one
/// is a field AWS documents. Record values never satisfy both: they hold
/// digits, dots, colons, upper case or `-`, and words such as `ingress` are
/// not field names.
pub fn is_header<'a>(tokens: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any_known = false;
    for token in tokens {
        match canonical_name(token) {
            Some(name) => any_known |= field::lookup(&name).is_some(),
            None => return false,
        }
    }
    any_known
}

/// Quick pre-check for [`is_header`] on a line's first byte: headers start
/// with a lower-case letter or `$`.
#[inline]
pub fn may_be_header(first_byte: u8) -> bool {
    first_byte.is_ascii_lowercase() || first_byte == b'$'
}

/// Why a set of formats was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A format string could not be parsed.
    #[error("format {} (`{text}`): {error}", index + 1)]
    InvalidFormat {
        /// Position in the list (0-based).
        index: usize,
        /// The format as given.
        text: String,
        /// What is wrong.
        error: FormatError,
    },
    /// Two formats have the same field count.
    #[error(
        "formats {} and {} both have {field_count} fields, so records cannot be told apart",
        first + 1,
        second + 1
    )]
    AmbiguousFormats {
        /// Position of the first (0-based).
        first: usize,
        /// Position of the second (0-based).
        second: usize,
        /// The shared field count.
        field_count: usize,
    },
}

/// Formats selected by field count.
#[derive(Debug, Clone)]
pub struct FormatSet {
    formats: Vec<Format>,
}

impl FormatSet {
    /// Builds the set from format strings; none means the default v2 format.
    pub fn new<S: AsRef<str>>(texts: &[S]) -> Result<FormatSet, ConfigError> {
        if texts.is_empty() {
            return Ok(FormatSet {
                formats: vec![Format::default_v2()],
            });
        }
        let mut formats: Vec<Format> = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let format =
                Format::parse(text.as_ref()).map_err(|error| ConfigError::InvalidFormat {
                    index,
                    text: text.as_ref().to_owned(),
                    error,
                })?;
            if let Some(first) = formats.iter().position(|f| f.len() == format.len()) {
                return Err(ConfigError::AmbiguousFormats {
                    first,
                    second: index,
                    field_count: format.len(),
                });
            }
            formats.push(format);
        }
        Ok(FormatSet { formats })
    }

    /// The format with exactly `field_count` fields, if any.
    #[inline]
    pub fn by_count(&self, field_count: usize) -> Option<&Format> {
        self.formats.iter().find(|f| f.len() == field_count)
    }

    /// The formats, in configuration order.
    pub fn formats(&self) -> &[Format] {
        &self.formats
    }

    /// The field counts, for error messages.
    pub fn counts(&self) -> Vec<usize> {
        self.formats.iter().map(Format::len).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_spellings_agree() {
        let a = Format::parse("${version} ${account-id} ${srcaddr}").unwrap();
        let b = Format::parse("version account-id srcaddr").unwrap();
        let c = Format::parse("version account_id srcaddr").unwrap();
        let d = Format::parse("${version}${account-id}${srcaddr}").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(c, d);
        assert_eq!(a.fields()[1].key(), "account_id");
        assert_eq!(a.roles().srcaddr, Some(2));
    }

    #[test]
    fn unknown_fields_are_text() {
        let format = Format::parse("version future-field").unwrap();
        assert!(!format.fields()[1].known);
        assert_eq!(format.fields()[1].kind, FieldKind::Text);
        assert_eq!(format.fields()[1].key(), "future_field");
    }

    #[test]
    fn bad_formats() {
        assert_eq!(Format::parse("  "), Err(FormatError::Empty));
        assert_eq!(
            Format::parse("version Account"),
            Err(FormatError::InvalidToken {
                token: "Account".into()
            })
        );
        assert_eq!(
            Format::parse("${version"),
            Err(FormatError::InvalidToken {
                token: "${version".into()
            })
        );
        assert_eq!(
            Format::parse("srcaddr src_addr srcaddr"),
            Err(FormatError::DuplicateField {
                name: "srcaddr".into()
            })
        );
        // Spellings are folded before the duplicate check.
        assert_eq!(
            Format::parse("account-id account_id"),
            Err(FormatError::DuplicateField {
                name: "account-id".into()
            })
        );
    }

    #[test]
    fn header_detection() {
        assert!(is_header(DEFAULT_FORMAT.split(' ')));
        assert!(is_header(["instance-id", "interface-id", "srcaddr"]));
        assert!(is_header(["${version}", "brand-new-field"]));
        assert!(!is_header(["brand-new-field"]));
        assert!(!is_header(["ingress", "wavelength"]));
        assert!(!is_header(["2", "123456789010", "eni-1"]));
        assert!(!is_header(["i-0123", "eni-1235b8ca", "10.0.1.5"]));
        assert!(!is_header(["-", "eni-1235b8ca"]));
    }

    #[test]
    fn format_set_by_count() {
        let set = FormatSet::new(&["version srcaddr", "a-b c-d e-f"]).unwrap();
        assert_eq!(set.by_count(2).unwrap().fields()[1].name, "srcaddr");
        assert_eq!(set.by_count(3).unwrap().len(), 3);
        assert!(set.by_count(4).is_none());
        assert_eq!(
            FormatSet::new(&["version srcaddr", "srcaddr dstaddr"]).unwrap_err(),
            ConfigError::AmbiguousFormats {
                first: 0,
                second: 1,
                field_count: 2
            }
        );
        assert_eq!(FormatSet::new::<&str>(&[]).unwrap().counts(), vec![14]);
    }
}
