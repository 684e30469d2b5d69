//! The crate's error type: an OS error with the context that explains it, or a refusal.

use std::fmt;
use std::io;

/// Why an operation of the daemon failed.
#[derive(Debug)]
pub enum Error {
    /// A system call failed; `context` says what we were doing (and to which interface).
    Io {
        /// What was being done, e.g. `open AF_PACKET socket on veth0`.
        context: String,
        /// The OS error.
        source: io::Error,
    },
    /// A request or a configuration was refused; the text says why.
    Refused(String),
}

impl Error {
    /// An [`Error::Io`] with `context`.
    pub fn io(context: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Self::Io {
            context: context.into(),
            source: source.into(),
        }
    }

    /// An [`Error::Refused`].
    pub fn refused(text: impl Into<String>) -> Self {
        Self::Refused(text.into())
    }

    /// The OS error number, if this is an OS error.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Self::Io { source, .. } => source.raw_os_error(),
            Self::Refused(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { context, source } => write!(f, "{context}: {source}"),
            Self::Refused(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Refused(_) => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to `io::Result`s (and rustix results, which convert into them).
pub(crate) trait Context<T> {
    /// Wrap the error with `context`.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
