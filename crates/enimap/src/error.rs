//! Why a file could not be added.

use std::fmt;

/// Why a describe-network-interfaces file could not be added.
///
/// Every message starts with the file's name. JSON errors give the line and
/// column; errors in one network interface give its position
/// (`NetworkInterfaces[i]`, counted within its document, with `document N: `
/// before it when the file holds several concatenated documents and the error
/// is not in the first), its id when known, the field and the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is not well-formed JSON, or not shaped like
    /// describe-network-interfaces output (the message says where).
    #[error("{file}: {source}")]
    Json {
        /// The file's name.
        file: String,
        /// serde_json's error, which carries the line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file is empty or holds only whitespace.
    #[error("{file}: holds no describe-network-interfaces output (it is empty or blank)")]
    Empty {
        /// The file's name.
        file: String,
    },
    /// The file is UTF-16 with an odd length or unpaired surrogates.
    #[error("{file}: invalid UTF-16 ({detail})")]
    Utf16 {
        /// The file's name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A network interface has no (or an empty) `NetworkInterfaceId`.
    #[error("{file}: {}NetworkInterfaces[{index}]: NetworkInterfaceId is missing or empty", Doc(*document))]
    MissingId {
        /// The file's name.
        file: String,
        /// Which concatenated document (1-based).
        document: usize,
        /// The interface's position in its document's list (0-based).
        index: usize,
    },
    /// A field that must hold an address or prefix holds something else.
    #[error("{0}")]
    BadValue(Box<BadValue>),
    /// Rendering a resource as JSON failed (not expected to happen).
    #[error("{file}: {interface_id}: cannot render the resource as JSON: {source}")]
    Render {
        /// The file's name.
        file: String,
        /// The interface's `NetworkInterfaceId`.
        interface_id: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// The map would hold more ENIs (or shared-address lists) than it can
    /// index (2^31 - 1).
    #[error("{file}: too many network interfaces in all")]
    TooMany {
        /// The file's name.
        file: String,
    },
}

/// A field of one interface that must hold an address or prefix holds
/// something else (boxed in [`Error::BadValue`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}NetworkInterfaces[{index}] ({interface_id}): {field}: {value:?} is not {expected}", Doc(*document))]
pub struct BadValue {
    /// The file's name.
    pub file: String,
    /// Which concatenated document (1-based).
    pub document: usize,
    /// The interface's position in its document's list (0-based).
    pub index: usize,
    /// The interface's `NetworkInterfaceId`.
    pub interface_id: String,
    /// The field's path within the interface, e.g.
    /// `PrivateIpAddresses[1].PrivateIpAddress`.
    pub field: String,
    /// The value found.
    pub value: String,
    /// What was expected, e.g. `an IP address`.
    pub expected: &'static str,
}

/// `document N: ` for documents after the first; nothing for the first.
struct Doc(usize);

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(f, "document {}: ", self.0)
        } else {
            Ok(())
        }
    }
}
