//! Bonds defined in distribution network-config files: `bondd --ifcfg PATH/ifcfg-bond0`
//! (DESIGN.md §4).
//!
//! Two flavours are read, told apart by their keys:
//! - **sysconfig** (SUSE, `/etc/sysconfig/network`) when the file sets `BONDING_MODULE_OPTS`,
//!   `STARTMODE` or any `BONDING_SLAVE<n>`: the bond must say `BONDING_MASTER='yes'`, its options
//!   are `BONDING_MODULE_OPTS`, its ports `BONDING_SLAVE<n>` (also wicked's `BONDING_SLAVE_<n>`)
//!   in numeric order of `n` (gaps allowed), its name is the file-name suffix
//!   (`ifcfg-bond0` → `bond0`), and `STARTMODE='off'` or `'ignore'` is refused, because SUSE
//!   ignores such a file.
//! - **initscripts** (Red Hat/Fedora, `/etc/sysconfig/network-scripts`) otherwise: the name is
//!   `DEVICE=` (else the file-name suffix), the options are `BONDING_OPTS`, and the ports are the
//!   sibling `ifcfg-*` files with `MASTER=<name>` and `SLAVE=yes`, found as initscripts finds them
//!   (a `MASTER=` line, backup files such as `*.bak`, `*.rpmsave` and `*~` skipped) and returned
//!   in file-name byte order, which is the order initscripts enslaves them in (`LANG=C` glob).
//!   The port's name is its `DEVICE=`, else its file-name suffix.
//!
//! A file is an initscripts bond if `TYPE=Bond` (or `Bonding`, any case), `BONDING_MASTER=yes`,
//! or, with no `TYPE` at all, `BONDING_OPTS` is set or the name is `bond<N>` (what initscripts
//! itself goes by: it loads the bonding driver for `BONDING_OPTS` or a `bond<N>` modprobe alias,
//! and never reads `TYPE`; the plain seed example relies on the name). `TYPE=bond0`, a typo that
//! some HOWTOs print, is read as `TYPE=Bond` with a warning; any other `TYPE` is not a bond.
//!
//! Files are read with the part of shell syntax that ifcfg files use: `KEY=value`, `KEY="..."`,
//! `KEY='...'` (and concatenations), backslash escapes (inside double quotes only before
//! `$ \` " \`), `export KEY=...`, `#` comments on their own line or after the value, blank lines,
//! CRLF line ends. The last assignment of a key wins and an empty value counts as unset, as in
//! the shell; unknown keys are ignored. Nothing is executed, so what needs a shell is refused
//! with a precise error rather than guessed at: `$`/backquote expansion, operators (`;`, `|`,
//! ...), a second word after an unquoted space (`BONDING_OPTS=mode=1 miimon=100` would silently
//! drop `miimon` in the shell), line continuations, and quotes that do not close on their line.
//! Yes/no values accept what initscripts' `is_true` does (`yes`, `true`, `on`, `y`, `t`, `1`,
//! any case).
//!
//! Addresses: `IPADDR`, then numbered ones (initscripts `IPADDR0`, `IPADDR1`, ...; sysconfig
//! `IPADDR_<suffix>`), each with `/prefix` inline, else `PREFIX<n>` (sysconfig `PREFIXLEN_<x>`),
//! else a contiguous `NETMASK<n>`, else the classful default as `ipcalc` gives it (with a
//! warning). initscripts IPv6 comes from `IPV6ADDR` and `IPV6ADDR_SECONDARIES` when
//! `IPV6INIT=yes` (default prefix 64). With a dynamic `BOOTPROTO` (`dhcp`, `bootp`, `autoip`,
//! ...) the static IPv4 addresses are ignored, as the scripts do, and a warning says that bondd
//! runs no DHCP client. `MTU` (both flavours) sets the bond's MTU, which its ports take.
//!
//! [`load`] returns a complete [`BondFile`] or an [`IfcfgError`] naming the file, the line and
//! the problem; nothing is half-loaded.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use bond_core::options::{is_valid_ifname, OptionError};
use bond_core::Config;

/// The largest file read. Real ifcfg files are a few hundred bytes; anything this big is not
/// one, and is not worth holding in memory.
pub const MAX_FILE_LEN: u64 = 1 << 20;

/// Which distribution's network scripts a file is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Red Hat/Fedora initscripts (`/etc/sysconfig/network-scripts`): `BONDING_OPTS`, ports
    /// are sibling files with `MASTER=` and `SLAVE=yes`.
    Initscripts,
    /// SUSE sysconfig (`/etc/sysconfig/network`): `BONDING_MODULE_OPTS`, ports are
    /// `BONDING_SLAVE<n>`.
    Sysconfig,
}

/// A bond as an ifcfg file (and, for initscripts, its sibling port files) defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BondFile {
    /// The bond's interface name.
    pub name: String,
    /// The bonding options, parsed with Linux module-load rules
    /// ([`Config::parse_with_warnings`]).
    pub options: Config,
    /// What was accepted but deserves attention, each as `path:line: message` (or `path:
    /// message`), including the option parser's warnings.
    pub warnings: Vec<String>,
    /// The ports in the order the distribution enslaves them (see the [module docs](self)).
    pub ports: Vec<String>,
    /// Static addresses for the bond with their prefix lengths: `IPADDR`, the numbered ones in
    /// order, then IPv6.
    pub addresses: Vec<(IpAddr, u8)>,
    /// `MTU`: the bond's MTU, which its ports take too.
    pub mtu: Option<u32>,
    /// The file's flavour.
    pub flavour: Flavour,
}

/// Why a bond could not be loaded: the file at fault, the line where one line is at fault, and
/// what is wrong. Displays as `path:line: message`.
#[derive(Debug)]
pub struct IfcfgError {
    /// The file (or directory) at fault: the path given to [`load`], or a sibling port file in
    /// its directory.
    pub path: PathBuf,
    /// The 1-based line at fault, if one is.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: IfcfgErrorKind,
}

/// What is wrong with an ifcfg file; see [`IfcfgError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum IfcfgErrorKind {
    /// The file or directory could not be read.
    Io(io::Error),
    /// The file is larger than [`MAX_FILE_LEN`].
    TooLarge {
        /// Its length in bytes.
        len: u64,
    },
    /// A line that is not a comment is not UTF-8.
    NotUtf8,
    /// A line that is not `KEY=value`.
    NotAssignment {
        /// The line, without leading blanks.
        text: String,
        /// Whether the line would be an assignment without blanks before the `=`.
        spaced_equals: bool,
    },
    /// A quote that does not close on the line it opens on.
    UnterminatedQuote {
        /// The key being assigned.
        key: String,
        /// `"` or `'`.
        quote: char,
    },
    /// A value that needs a shell to mean anything (expansion, an operator, a second word, a
    /// line continuation).
    Syntax {
        /// The key being assigned.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// The file does not define a bond.
    NotABond {
        /// What it lacks or says instead.
        reason: String,
    },
    /// sysconfig ignores this file (`STARTMODE` `off` or `ignore`).
    Ignored {
        /// The `STARTMODE` value.
        startmode: String,
    },
    /// `BONDING_OPTS` (initscripts) in a file that is sysconfig by its other keys.
    MixedFlavours {
        /// The sysconfig key that decided the flavour.
        marker: String,
    },
    /// Neither `DEVICE=` nor an `ifcfg-<name>` file name gives the bond a name.
    NoName,
    /// A bond name that Linux would refuse.
    BadName {
        /// Where the name came from: `DEVICE` or `the file name`.
        origin: String,
        /// The name.
        name: String,
    },
    /// `BONDING_OPTS` or `BONDING_MODULE_OPTS` does not parse.
    Options {
        /// The key.
        key: &'static str,
        /// The option parser's error.
        error: OptionError,
    },
    /// A bad `IPADDR`, `NETMASK`, `PREFIX`, `PREFIXLEN` or `IPV6ADDR`.
    Address {
        /// The key.
        key: String,
        /// What is wrong with its value.
        message: String,
    },
    /// `MTU` is not a number from [`MTU_RANGE`].
    Mtu {
        /// The value.
        value: String,
    },
    /// No port is named.
    NoPorts {
        /// Where ports were looked for.
        hint: String,
    },
    /// Two entries name the same port.
    DuplicatePort {
        /// The port.
        port: String,
        /// The entry that named it first (a key or a file name).
        first: String,
    },
    /// A port with the bond's own name.
    SelfPort {
        /// The name.
        name: String,
    },
}

impl IfcfgError {
    fn new(path: &Path, line: Option<usize>, kind: IfcfgErrorKind) -> Self {
        Self {
            path: path.to_path_buf(),
            line,
            kind,
        }
    }

    fn address(path: &Path, key: &str, line: usize, message: String) -> Self {
        Self::new(
            path,
            Some(line),
            IfcfgErrorKind::Address {
                key: key.to_owned(),
                message,
            },
        )
    }
}

impl fmt::Display for IfcfgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Location(&self.path, self.line), self.kind)
    }
}

impl std::error::Error for IfcfgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            IfcfgErrorKind::Io(e) => Some(e),
            IfcfgErrorKind::Options { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for IfcfgErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read: {e}"),
            Self::TooLarge { len } => write!(
                f,
                "{len} bytes is too large for an ifcfg file (at most {MAX_FILE_LEN})"
            ),
            Self::NotUtf8 => f.write_str("not UTF-8 text"),
            Self::NotAssignment {
                text,
                spaced_equals,
            } => {
                write!(f, "expected KEY=value, found {}", Quoted(text))?;
                if *spaced_equals {
                    f.write_str(" (no blanks are allowed around '=')")?;
                }
                Ok(())
            }
            Self::UnterminatedQuote { key, quote } => {
                let which = if *quote == '"' { "double" } else { "single" };
                write!(
                    f,
                    "{key}: unterminated {which} quote ({quote}): a quoted value must end on \
                     the line it starts on"
                )
            }
            Self::Syntax { key, message } => write!(f, "{key}: {message}"),
            Self::NotABond { reason } => write!(f, "not a bond: {reason}"),
            Self::Ignored { startmode } => write!(
                f,
                "STARTMODE={}: the configuration is ignored (sysconfig skips files with \
                 STARTMODE off or ignore)",
                Quoted(startmode)
            ),
            Self::MixedFlavours { marker } => write!(
                f,
                "BONDING_OPTS is the initscripts key, but {marker} makes this a sysconfig \
                 file: put the options in BONDING_MODULE_OPTS"
            ),
            Self::NoName => f.write_str(
                "cannot tell the bond's name: no DEVICE= and the file name does not start \
                 with \"ifcfg-\"",
            ),
            Self::BadName { origin, name } => write!(
                f,
                "{origin}: {} is not a valid interface name (1 to 15 bytes, no '/', ':' or \
                 whitespace)",
                Quoted(name)
            ),
            Self::Options { key, error } => write!(f, "{key}: {error}"),
            Self::Address { key, message } => write!(f, "{key}: {message}"),
            Self::Mtu { value } => write!(
                f,
                "MTU: {} is not an MTU ({} to {})",
                Quoted(value),
                MTU_RANGE.start(),
                MTU_RANGE.end()
            ),
            Self::NoPorts { hint } => write!(f, "no ports: {hint}"),
            Self::DuplicatePort { port, first } => {
                write!(f, "port {} is named twice (first by {first})", Quoted(port))
            }
            Self::SelfPort { name } => {
                write!(f, "{} cannot be a port of itself", Quoted(name))
            }
        }
    }
}

/// `path` or `path:line`, the prefix of errors and warnings.
struct Location<'a>(&'a Path, Option<usize>);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())?;
        match self.1 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// User text in double quotes, escaped so that a hostile file cannot forge terminal sequences or
/// extra log lines, and cut short so that one long line does not flood the message.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX_CHARS: usize = 64;
        f.write_str("\"")?;
        for (i, c) in self.0.chars().enumerate() {
            if i == MAX_CHARS {
                f.write_str("…")?;
                break;
            }
            write!(f, "{}", c.escape_debug())?;
        }
        f.write_str("\"")
    }
}

/// Load the bond defined by `path` (an `ifcfg-<name>` file of either flavour; for
/// initscripts, the port files are read from the same directory).
pub fn load(path: &Path) -> Result<BondFile, IfcfgError> {
    let vars = read_vars(path)?;
    let mut warnings = Warnings(Vec::new());
    let (flavour, name) = match sysconfig_marker(&vars) {
        Some(marker) => (
            Flavour::Sysconfig,
            sysconfig_header(path, &vars, marker, &mut warnings)?,
        ),
        None => (
            Flavour::Initscripts,
            initscripts_header(path, &vars, &mut warnings)?,
        ),
    };
    let (options, options_line) = options(path, &vars, flavour, &mut warnings)?;
    let addresses = addresses(path, &vars, flavour, &mut warnings)?;
    let mtu = match vars.get("MTU") {
        None => None,
        Some(var) => Some(
            var.value
                .parse::<u32>()
                .ok()
                .filter(|m| MTU_RANGE.contains(m))
                .ok_or_else(|| {
                    IfcfgError::new(
                        path,
                        Some(var.line),
                        IfcfgErrorKind::Mtu {
                            value: var.value.clone(),
                        },
                    )
                })?,
        ),
    };
    let ports = match flavour {
        Flavour::Sysconfig => sysconfig_ports(path, &vars, &name, &mut warnings)?,
        Flavour::Initscripts => initscripts_ports(path, &name, &mut warnings)?,
    };
    // Linux accepts a primary that is not (yet) a port, but in a file that lists every port it
    // is almost certainly a typo.
    let named = [
        ("primary", options.primary.as_ref()),
        ("active_slave", options.active_slave.as_ref()),
    ];
    for (option, port) in named {
        if let Some(port) = port.filter(|p| !ports.iter().any(|q| q == p.as_str())) {
            let key = options_key(flavour);
            warnings.push(
                path,
                options_line,
                format_args!(
                    "{key}: {option} {} is not one of the ports",
                    Quoted(port.as_str())
                ),
            );
        }
    }
    Ok(BondFile {
        name,
        options,
        warnings: warnings.0,
        ports,
        addresses,
        mtu,
        flavour,
    })
}

/// MTUs `MTU` may give: IPv4's minimum to the largest an Ethernet device takes.
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;

/// Warnings collected while loading, already formatted with their location.
struct Warnings(Vec<String>);

impl Warnings {
    fn push(&mut self, path: &Path, line: Option<usize>, message: impl fmt::Display) {
        self.0.push(format!("{}: {message}", Location(path, line)));
    }
}

// ---------------------------------------------------------------------------------------------
// Shell-style assignments.

/// One assignment: its value and the line of the last assignment of the key.
#[derive(Debug)]
struct Var {
    value: String,
    line: usize,
}

/// A file's assignments, by key.
#[derive(Debug, Default)]
struct Vars(BTreeMap<String, Var>);

impl Vars {
    /// The assignment of `key`, if it has a non-empty value: for the scripts (`[ -n "$KEY" ]`)
    /// an empty value is the same as none, and `KEY=""` is how files unset a key.
    fn get(&self, key: &str) -> Option<&Var> {
        self.0.get(key).filter(|v| !v.value.is_empty())
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.value.as_str())
    }

    /// Non-empty assignments whose key starts with `prefix`, with the rest of the key.
    fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str, &'a Var)> + 'a {
        self.0.iter().filter_map(move |(key, var)| {
            let suffix = key.strip_prefix(prefix)?;
            (!var.value.is_empty()).then_some((key.as_str(), suffix, var))
        })
    }
}

const BLANKS: [char; 2] = [' ', '\t'];

/// Read and parse one file.
fn read_vars(path: &Path) -> Result<Vars, IfcfgError> {
    let bytes = read_capped(path)?;
    parse_text(&bytes).map_err(|(line, kind)| IfcfgError::new(path, Some(line), kind))
}

fn read_capped(path: &Path) -> Result<Vec<u8>, IfcfgError> {
    let io_error = |e| IfcfgError::new(path, None, IfcfgErrorKind::Io(e));
    let file = fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit rather than trusting the length in the metadata, which a
    // growing file or a special file would get wrong.
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        let len = fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(IfcfgError::new(
            path,
            None,
            IfcfgErrorKind::TooLarge { len },
        ));
    }
    Ok(bytes)
}

/// Parse a whole file; an error comes with its 1-based line.
fn parse_text(bytes: &[u8]) -> Result<Vars, (usize, IfcfgErrorKind)> {
    // Editors on other systems may add a byte-order mark; the shell would choke on it, but it
    // is not worth refusing a file for.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut vars = Vars::default();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = raw
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(raw.len());
        let raw = &raw[start..];
        // Comments are skipped before decoding: they are often in a local 8-bit encoding.
        if raw.is_empty() || raw[0] == b'#' {
            continue;
        }
        let text = std::str::from_utf8(raw).map_err(|_| (line, IfcfgErrorKind::NotUtf8))?;
        let (key, value) = parse_assignment(text).map_err(|kind| (line, kind))?;
        vars.0.insert(key.to_owned(), Var { value, line });
    }
    Ok(vars)
}

/// `[export] KEY=value [# comment]`, with leading blanks already removed.
fn parse_assignment(line: &str) -> Result<(&str, String), IfcfgErrorKind> {
    let body = match line.strip_prefix("export") {
        Some(rest) if rest.starts_with(BLANKS) => rest.trim_start_matches(BLANKS),
        _ => line,
    };
    let key_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (key, rest) = body.split_at(key_len);
    let is_name = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    match rest.strip_prefix('=') {
        Some(text) if is_name => Ok((key, lex_value(key, text)?)),
        _ => Err(IfcfgErrorKind::NotAssignment {
            text: line.to_owned(),
            spaced_equals: is_name && rest.trim_start_matches(BLANKS).starts_with('='),
        }),
    }
}

/// The value of `key`: one shell word, quotes removed and escapes resolved.
fn lex_value(key: &str, text: &str) -> Result<String, IfcfgErrorKind> {
    let syntax = |message: String| IfcfgErrorKind::Syntax {
        key: key.to_owned(),
        message,
    };
    let unterminated = |quote| IfcfgErrorKind::UnterminatedQuote {
        key: key.to_owned(),
        quote,
    };
    let expansion = |c: char| {
        syntax(format!(
            "shell expansion ({c}) is not supported: escape it (\\{c}) or use single quotes"
        ))
    };
    let operator = |c: char| {
        syntax(format!(
            "shell operator '{c}' is not supported: one KEY=value per line"
        ))
    };
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' => {
                // The word ends here; only a comment may follow.
                let rest = text[at..].trim_start_matches(BLANKS);
                return match rest.chars().next() {
                    None | Some('#') => Ok(out),
                    Some(c @ (';' | '&' | '|' | '<' | '>' | '(' | ')')) => Err(operator(c)),
                    Some(_) => Err(syntax(format!(
                        "the value ends at an unquoted blank, before {}: quote the whole value",
                        Quoted(rest)
                    ))),
                };
            }
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, c)) => out.push(c),
                    None => return Err(unterminated('\'')),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    // Inside double quotes a backslash only escapes these; elsewhere it stays.
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c @ ('$' | '`' | '"' | '\\'))) => out.push(c),
                        Some((_, c)) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => return Err(unterminated('"')),
                    },
                    Some((_, c @ ('$' | '`'))) => return Err(expansion(c)),
                    Some((_, c)) => out.push(c),
                    None => return Err(unterminated('"')),
                }
            },
            '\\' => match chars.next() {
                Some((_, c)) => out.push(c),
                None => {
                    return Err(syntax(
                        "a backslash at the end of a line continues it in the shell; line \
                         continuations are not supported"
                            .to_owned(),
                    ))
                }
            },
            '$' | '`' => return Err(expansion(c)),
            ';' | '&' | '|' | '<' | '>' | '(' | ')' => return Err(operator(c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// initscripts' `is_true`.
fn is_true(value: &str) -> bool {
    ["yes", "true", "on", "y", "t", "1"]
        .iter()
        .any(|word| value.eq_ignore_ascii_case(word))
}

/// `bond<N>`, in any case.
fn is_bond_name(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("bond"))
        && name.len() > 4
        && name.bytes().skip(4).all(|b| b.is_ascii_digit())
}

/// Orders the suffixes of `IPADDR<n>` and `BONDING_SLAVE<n>`: none first, then numbers by value
/// (2 before 10, as the scripts count), then anything else by bytes.
fn suffix_order(suffix: &str) -> (u8, usize, &str) {
    let digits = suffix.strip_prefix('_').unwrap_or(suffix);
    if suffix.is_empty() {
        (0, 0, "")
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Compare by length then bytes, so that no number is too long to order.
        let significant = digits.trim_start_matches('0');
        (1, significant.len(), significant)
    } else {
        (2, 0, suffix)
    }
}

// ---------------------------------------------------------------------------------------------
// Flavour, name and options.

/// The first key that makes a file sysconfig, if any.
fn sysconfig_marker(vars: &Vars) -> Option<&str> {
    ["BONDING_MODULE_OPTS", "STARTMODE"]
        .into_iter()
        .find(|key| vars.get(key).is_some())
        .or_else(|| {
            vars.with_prefix("BONDING_SLAVE")
                .map(|(key, ..)| key)
                .next()
        })
}

/// The name of the interface an `ifcfg-<name>` file configures.
fn file_suffix(path: &Path) -> Option<&str> {
    path.file_name()?
        .to_str()?
        .strip_prefix("ifcfg-")
        .filter(|s| !s.is_empty())
}

fn sysconfig_header(
    path: &Path,
    vars: &Vars,
    marker: &str,
    warnings: &mut Warnings,
) -> Result<String, IfcfgError> {
    if let Some(var) = vars.get("STARTMODE") {
        match var.value.to_ascii_lowercase().as_str() {
            "off" | "ignore" => {
                return Err(IfcfgError::new(
                    path,
                    Some(var.line),
                    IfcfgErrorKind::Ignored {
                        startmode: var.value.clone(),
                    },
                ))
            }
            "hotplug" => warnings.push(
                path,
                Some(var.line),
                "STARTMODE=\"hotplug\" is not a valid choice for a bonding device: a bond gets \
                 no hotplug event, so sysconfig never starts it",
            ),
            "onboot" | "auto" | "manual" | "ifplugd" | "nfsroot" | "link" => {}
            _ => warnings.push(
                path,
                Some(var.line),
                format_args!(
                    "STARTMODE={} is not one of onboot, auto, manual, hotplug, ifplugd, \
                     nfsroot, off, ignore",
                    Quoted(&var.value)
                ),
            ),
        }
    }
    if let Some(var) = vars.get("BONDING_OPTS") {
        return Err(IfcfgError::new(
            path,
            Some(var.line),
            IfcfgErrorKind::MixedFlavours {
                marker: marker.to_owned(),
            },
        ));
    }
    match vars.get("BONDING_MASTER") {
        Some(var) if is_true(&var.value) => {}
        other => {
            return Err(IfcfgError::new(
                path,
                other.map(|v| v.line),
                IfcfgErrorKind::NotABond {
                    reason: match other {
                        Some(v) => format!(
                            "BONDING_MASTER={} (sysconfig needs BONDING_MASTER='yes')",
                            Quoted(&v.value)
                        ),
                        None => "BONDING_MASTER='yes' is missing".to_owned(),
                    },
                },
            ))
        }
    }
    // sysconfig names the interface after the file only.
    let name =
        file_suffix(path).ok_or_else(|| IfcfgError::new(path, None, IfcfgErrorKind::NoName))?;
    check_name(path, None, "the file name", name)?;
    Ok(name.to_owned())
}

fn initscripts_header(
    path: &Path,
    vars: &Vars,
    warnings: &mut Warnings,
) -> Result<String, IfcfgError> {
    let (name, name_line) = match vars.get("DEVICE") {
        Some(var) => (var.value.as_str(), Some(var.line)),
        None => (
            file_suffix(path).ok_or_else(|| IfcfgError::new(path, None, IfcfgErrorKind::NoName))?,
            None,
        ),
    };
    let not_a_bond =
        |line, reason| IfcfgError::new(path, line, IfcfgErrorKind::NotABond { reason });
    match vars.get("TYPE") {
        Some(var)
            if var.value.eq_ignore_ascii_case("bond")
                || var.value.eq_ignore_ascii_case("bonding") => {}
        Some(var) if is_bond_name(&var.value) => warnings.push(
            path,
            Some(var.line),
            format_args!(
                "TYPE={} is not a type (a typo found in some HOWTOs): read as TYPE=Bond",
                Quoted(&var.value)
            ),
        ),
        Some(var) => {
            return Err(not_a_bond(
                Some(var.line),
                format!("TYPE={} (a bond has TYPE=Bond)", Quoted(&var.value)),
            ))
        }
        None => {
            let bond = vars.value("BONDING_MASTER").is_some_and(is_true)
                || vars.get("BONDING_OPTS").is_some()
                || is_bond_name(name);
            if !bond {
                return Err(not_a_bond(
                    None,
                    format!(
                        "no TYPE=Bond, BONDING_MASTER=yes or BONDING_OPTS, and {} is not \
                         named bond<N>",
                        Quoted(name)
                    ),
                ));
            }
        }
    }
    let source = if name_line.is_some() {
        "DEVICE"
    } else {
        "the file name"
    };
    check_name(path, name_line, source, name)?;
    Ok(name.to_owned())
}

/// The bond's name must be one Linux accepts: bondd creates an interface with it.
fn check_name(
    path: &Path,
    line: Option<usize>,
    source: &str,
    name: &str,
) -> Result<(), IfcfgError> {
    if is_valid_ifname(name) {
        return Ok(());
    }
    Err(IfcfgError::new(
        path,
        line,
        IfcfgErrorKind::BadName {
            origin: source.to_owned(),
            name: name.to_owned(),
        },
    ))
}

fn options_key(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Initscripts => "BONDING_OPTS",
        Flavour::Sysconfig => "BONDING_MODULE_OPTS",
    }
}

/// The bonding options and the line they are on.
fn options(
    path: &Path,
    vars: &Vars,
    flavour: Flavour,
    warnings: &mut Warnings,
) -> Result<(Config, Option<usize>), IfcfgError> {
    let key = options_key(flavour);
    let (text, line) = match vars.get(key) {
        Some(var) => (var.value.as_str(), Some(var.line)),
        None => {
            // Old initscripts took the options from `options bond0 ...` in modprobe.conf.
            warnings.push(
                path,
                None,
                format_args!(
                    "{key} is not set: the bonding driver's defaults apply (options in \
                     modprobe configuration files are not read)"
                ),
            );
            ("", None)
        }
    };
    let (config, parse_warnings) = Config::parse_with_warnings(text)
        .map_err(|error| IfcfgError::new(path, line, IfcfgErrorKind::Options { key, error }))?;
    for warning in &parse_warnings {
        warnings.push(path, line, format_args!("{key}: {warning}"));
    }
    Ok((config, line))
}

// ---------------------------------------------------------------------------------------------
// Addresses.

/// `BOOTPROTO` values under which the scripts configure IPv4 dynamically and ignore `IPADDR`.
const DYNAMIC_BOOTPROTO: [&str; 7] = [
    "dhcp",
    "dhcp4",
    "dhcp6",
    "bootp",
    "autoip",
    "dhcp+autoip",
    "ibft",
];

fn addresses(
    path: &Path,
    vars: &Vars,
    flavour: Flavour,
    warnings: &mut Warnings,
) -> Result<Vec<(IpAddr, u8)>, IfcfgError> {
    // initscripts numbers extra addresses IPADDR0, IPADDR1...; sysconfig suffixes them with
    // IPADDR_<anything>.
    let mut keys: Vec<(&str, &str, &Var)> = vars
        .with_prefix("IPADDR")
        .filter(|(_, suffix, _)| match flavour {
            Flavour::Initscripts => suffix.bytes().all(|b| b.is_ascii_digit()),
            Flavour::Sysconfig => suffix.is_empty() || suffix.starts_with('_'),
        })
        .collect();
    keys.sort_by(|a, b| suffix_order(a.1).cmp(&suffix_order(b.1)).then(a.0.cmp(b.0)));

    let mut out = Vec::new();
    let dynamic = vars.get("BOOTPROTO").filter(|var| {
        DYNAMIC_BOOTPROTO
            .iter()
            .any(|p| var.value.eq_ignore_ascii_case(p))
    });
    if let Some(var) = dynamic {
        warnings.push(
            path,
            Some(var.line),
            format_args!(
                "BOOTPROTO={}: bondd runs no DHCP or autoconfiguration client; run one on \
                 the bond's interface",
                Quoted(&var.value)
            ),
        );
        for (key, _, ip) in &keys {
            warnings.push(
                path,
                Some(ip.line),
                format_args!("{key} is ignored with BOOTPROTO={}", Quoted(&var.value)),
            );
        }
    } else {
        if let Some(var) = vars.get("BOOTPROTO") {
            if !["none", "static"]
                .iter()
                .any(|p| var.value.eq_ignore_ascii_case(p))
            {
                warnings.push(
                    path,
                    Some(var.line),
                    format_args!(
                        "BOOTPROTO={} is not none, static, dhcp, bootp or autoip: addresses \
                         are read as for static",
                        Quoted(&var.value)
                    ),
                );
            }
        }
        for (key, suffix, var) in keys {
            let address = static_address(path, vars, flavour, key, suffix, var, warnings)?;
            push_address(&mut out, address, path, key, var.line, warnings);
        }
    }
    if flavour == Flavour::Initscripts {
        ipv6_addresses(path, vars, &mut out, warnings)?;
    }
    Ok(out)
}

/// Adds `address` unless its IP is already there (the scripts skip an address the interface
/// already has).
fn push_address(
    out: &mut Vec<(IpAddr, u8)>,
    address: (IpAddr, u8),
    path: &Path,
    key: &str,
    line: usize,
    warnings: &mut Warnings,
) {
    if out.iter().any(|(ip, _)| *ip == address.0) {
        warnings.push(
            path,
            Some(line),
            format_args!("{key}: {} is given twice; the copy is skipped", address.0),
        );
    } else {
        out.push(address);
    }
}

/// One `IPADDR<suffix>` with its prefix: inline `/n`, else `PREFIX<suffix>` (`PREFIXLEN` in
/// sysconfig), else `NETMASK<suffix>`, else the classful default.
fn static_address(
    path: &Path,
    vars: &Vars,
    flavour: Flavour,
    key: &str,
    suffix: &str,
    var: &Var,
    warnings: &mut Warnings,
) -> Result<(IpAddr, u8), IfcfgError> {
    let fail = |key: &str, line, message| IfcfgError::address(path, key, line, message);
    let (text, inline) = match var.value.split_once('/') {
        Some((text, prefix)) => (text, Some(prefix)),
        None => (var.value.as_str(), None),
    };
    let ip: IpAddr = text.parse().map_err(|_| {
        fail(
            key,
            var.line,
            format!("{} is not an IP address", Quoted(text)),
        )
    })?;
    if ip.is_ipv6() && flavour == Flavour::Initscripts {
        return Err(fail(
            key,
            var.line,
            format!("{ip} is an IPv6 address: initscripts takes those in IPV6ADDR"),
        ));
    }
    check_usable(ip).map_err(|m| fail(key, var.line, m))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let inline = match inline {
        Some(p) => Some(parse_prefix(p, max).ok_or_else(|| {
            fail(
                key,
                var.line,
                format!("{} is not a prefix length (0..{max})", Quoted(p)),
            )
        })?),
        None => None,
    };

    let prefix_key = match flavour {
        Flavour::Initscripts => format!("PREFIX{suffix}"),
        Flavour::Sysconfig => format!("PREFIXLEN{suffix}"),
    };
    let netmask_key = format!("NETMASK{suffix}");
    // Both are validated even when another source wins, so that a typo never passes silently.
    let from_prefix = match vars.get(&prefix_key) {
        Some(v) => Some((
            parse_prefix(&v.value, max).ok_or_else(|| {
                fail(
                    &prefix_key,
                    v.line,
                    format!("{} is not a prefix length (0..{max})", Quoted(&v.value)),
                )
            })?,
            prefix_key.as_str(),
            v.line,
        )),
        None => None,
    };
    let from_mask = match vars.get(&netmask_key) {
        Some(v) if ip.is_ipv4() => Some((
            netmask_prefix(&v.value).map_err(|m| fail(&netmask_key, v.line, m))?,
            netmask_key.as_str(),
            v.line,
        )),
        Some(v) => {
            warnings.push(
                path,
                Some(v.line),
                format_args!("{netmask_key} applies to IPv4 only: ignored for {ip}"),
            );
            None
        }
        None => None,
    };
    // PREFIX wins over NETMASK, as in initscripts' expand_config and in sysconfig.
    let explicit = match (from_prefix, from_mask) {
        (Some(p), Some(m)) => {
            if p.0 != m.0 {
                warnings.push(
                    path,
                    Some(m.2),
                    format_args!("{} (/{}) is ignored: {}={} wins", m.1, m.0, p.1, p.0),
                );
            }
            Some(p)
        }
        (p, m) => p.or(m),
    };
    let prefix = match (inline, explicit) {
        (Some(p), Some((q, source, line))) => {
            if p != q {
                warnings.push(
                    path,
                    Some(line),
                    format_args!("{source} (/{q}) is ignored: {key} carries /{p}"),
                );
            }
            p
        }
        (Some(p), None) | (None, Some((p, ..))) => p,
        (None, None) => {
            let p = default_prefix(ip);
            warnings.push(
                path,
                Some(var.line),
                format_args!(
                    "{key}: no {prefix_key} or {netmask_key}: using /{p}, the {} default",
                    if ip.is_ipv4() { "classful" } else { "IPv6" }
                ),
            );
            p
        }
    };
    Ok((ip, prefix))
}

/// initscripts' `IPV6ADDR` and `IPV6ADDR_SECONDARIES`, which apply only with `IPV6INIT=yes`.
fn ipv6_addresses(
    path: &Path,
    vars: &Vars,
    out: &mut Vec<(IpAddr, u8)>,
    warnings: &mut Warnings,
) -> Result<(), IfcfgError> {
    let mut given = Vec::new();
    for key in ["IPV6ADDR", "IPV6ADDR_SECONDARIES"] {
        if let Some(var) = vars.get(key) {
            given.extend(
                var.value
                    .split_ascii_whitespace()
                    .map(|t| (key, var.line, t)),
            );
        }
    }
    let Some(&(first, line, _)) = given.first() else {
        return Ok(());
    };
    if !vars.value("IPV6INIT").is_some_and(is_true) {
        warnings.push(
            path,
            Some(line),
            format_args!("{first} is ignored: IPV6INIT is not yes"),
        );
        return Ok(());
    }
    for (key, line, token) in given {
        let (text, prefix) = match token.split_once('/') {
            Some((text, prefix)) => (text, Some(prefix)),
            None => (token, None),
        };
        let ip: IpAddr = match text.parse() {
            Ok(ip @ IpAddr::V6(_)) => ip,
            _ => {
                return Err(IfcfgError::address(
                    path,
                    key,
                    line,
                    format!("{} is not an IPv6 address", Quoted(text)),
                ))
            }
        };
        check_usable(ip).map_err(|m| IfcfgError::address(path, key, line, m))?;
        let prefix = match prefix {
            Some(p) => parse_prefix(p, 128).ok_or_else(|| {
                IfcfgError::address(
                    path,
                    key,
                    line,
                    format!("{} is not a prefix length (0..128)", Quoted(p)),
                )
            })?,
            // initscripts documents 64 as the default for IPV6ADDR.
            None => 64,
        };
        push_address(out, (ip, prefix), path, key, line, warnings);
    }
    Ok(())
}

/// An address an interface can have: not unspecified, multicast or the IPv4 broadcast.
fn check_usable(ip: IpAddr) -> Result<(), String> {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if ip.is_unspecified() || ip.is_multicast() || broadcast {
        return Err(format!("{ip} is not a usable interface address"));
    }
    Ok(())
}

/// A prefix length of at most `max`, in decimal.
fn parse_prefix(text: &str, max: u8) -> Option<u8> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|p| *p <= max)
}

/// The prefix length of a dotted-quad netmask, which must be contiguous (ones, then zeros).
fn netmask_prefix(text: &str) -> Result<u8, String> {
    let mask: std::net::Ipv4Addr = text
        .parse()
        .map_err(|_| format!("{} is not an IPv4 netmask", Quoted(text)))?;
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    // Shifting the leading ones out must leave nothing; `checked_shl` is None for a full mask.
    if bits.checked_shl(ones).unwrap_or(0) != 0 {
        return Err(format!(
            "{mask} is not a contiguous netmask (its one bits must all come first)"
        ));
    }
    Ok(ones as u8)
}

/// The prefix `ipcalc` gives an address without one: its class for IPv4, 64 for IPv6.
fn default_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(v4) => match v4.octets()[0] {
            0..=127 => 8,
            128..=191 => 16,
            _ => 24,
        },
        IpAddr::V6(_) => 64,
    }
}

// ---------------------------------------------------------------------------------------------
// Ports.

fn sysconfig_ports(
    path: &Path,
    vars: &Vars,
    bond: &str,
    warnings: &mut Warnings,
) -> Result<Vec<String>, IfcfgError> {
    let mut slaves: Vec<(&str, &str, &Var)> = Vec::new();
    for (key, suffix, var) in vars.with_prefix("BONDING_SLAVE") {
        let digits = suffix.strip_prefix('_').unwrap_or(suffix);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            warnings.push(
                path,
                Some(var.line),
                format_args!("{key} is not BONDING_SLAVE<n> or BONDING_SLAVE_<n>: ignored"),
            );
            continue;
        }
        slaves.push((key, suffix, var));
    }
    slaves.sort_by(|a, b| suffix_order(a.1).cmp(&suffix_order(b.1)).then(a.0.cmp(b.0)));
    let mut ports: Vec<(String, &str)> = Vec::new();
    for (key, _, var) in slaves {
        let port = &var.value;
        check_port(path, Some(var.line), bond, port, &ports, warnings, key)?;
        ports.push((port.clone(), key));
    }
    if ports.is_empty() {
        return Err(IfcfgError::new(
            path,
            None,
            IfcfgErrorKind::NoPorts {
                hint: "no BONDING_SLAVE<n> is set".to_owned(),
            },
        ));
    }
    Ok(ports.into_iter().map(|(port, _)| port).collect())
}

/// Refuses the bond itself and a port named twice; warns about a name that is not an
/// interface name (sysconfig also takes hardware descriptions such as `bus-pci-0000:06:08.1`,
/// which bondd cannot open).
fn check_port(
    path: &Path,
    line: Option<usize>,
    bond: &str,
    port: &str,
    earlier: &[(String, impl fmt::Display)],
    warnings: &mut Warnings,
    source: &str,
) -> Result<(), IfcfgError> {
    if port == bond {
        return Err(IfcfgError::new(
            path,
            line,
            IfcfgErrorKind::SelfPort {
                name: port.to_owned(),
            },
        ));
    }
    if let Some((_, first)) = earlier.iter().find(|(p, _)| p == port) {
        return Err(IfcfgError::new(
            path,
            line,
            IfcfgErrorKind::DuplicatePort {
                port: port.to_owned(),
                first: first.to_string(),
            },
        ));
    }
    if !is_valid_ifname(port) {
        warnings.push(
            path,
            line,
            format_args!(
                "{source}: {} is not an interface name, and bondd opens ports by interface name",
                Quoted(port)
            ),
        );
    }
    Ok(())
}

/// Backup files that initscripts skips (`__sed_discard_ignored_files`).
const IGNORED_SUFFIXES: [&str; 7] = [
    "~", ".bak", ".old", ".orig", ".rpmnew", ".rpmorig", ".rpmsave",
];

fn initscripts_ports(
    path: &Path,
    bond: &str,
    warnings: &mut Warnings,
) -> Result<Vec<String>, IfcfgError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    // `Path::parent` of a bare file name is "", which names no directory to list.
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let own = path.file_name();
    let io_error = |e| IfcfgError::new(listed, None, IfcfgErrorKind::Io(e));
    let mut names = Vec::new();
    for entry in fs::read_dir(listed).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        // A name that is not UTF-8 cannot be an `ifcfg-<interface>` file of any use.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with("ifcfg-")
            && own != Some(std::ffi::OsStr::new(&name))
            && !IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            names.push(name);
        }
    }
    // The order initscripts enslaves in: its `ifcfg-*` glob under LANG=C, whatever order the
    // directory lists.
    names.sort();

    let mut ports: Vec<(String, String)> = Vec::new();
    for name in names {
        let sibling = dir.join(&name);
        // Like the scripts' glob and grep, skip what is not a regular file (a directory, a
        // dangling link). A file that cannot be read is an error: it may be a port.
        if !fs::metadata(&sibling).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let bytes = read_capped(&sibling)?;
        // Select port files as initscripts does (a `MASTER=<bond>` line) before parsing them,
        // so that an unrelated file with shell syntax we refuse cannot break the bond, while a
        // port file with a mistake is an error rather than a silently missing port.
        if !names_master(&bytes, bond) {
            continue;
        }
        let vars = parse_text(&bytes)
            .map_err(|(line, kind)| IfcfgError::new(&sibling, Some(line), kind))?;
        // A later assignment may have moved the file to another master.
        let Some(master) = vars.get("MASTER").filter(|m| m.value == bond) else {
            continue;
        };
        if !vars.value("SLAVE").is_some_and(is_true) {
            warnings.push(
                &sibling,
                Some(master.line),
                format_args!(
                    "MASTER={bond} without SLAVE=yes: not a port (initscripts only enslaves \
                     with SLAVE=yes)"
                ),
            );
            continue;
        }
        let (port, line) = match vars.get("DEVICE") {
            Some(var) => (var.value.clone(), var.line),
            None => (
                name.strip_prefix("ifcfg-").unwrap_or(&name).to_owned(),
                master.line,
            ),
        };
        let source = if vars.get("DEVICE").is_some() {
            "DEVICE"
        } else {
            "the file name"
        };
        check_port(&sibling, Some(line), bond, &port, &ports, warnings, source)?;
        ports.push((port, name));
    }
    if ports.is_empty() {
        return Err(IfcfgError::new(
            path,
            None,
            IfcfgErrorKind::NoPorts {
                hint: format!(
                    "no ifcfg-* file in {} has MASTER={bond} and SLAVE=yes",
                    listed.display()
                ),
            },
        ));
    }
    Ok(ports.into_iter().map(|(port, _)| port).collect())
}

/// Whether a line of `text` assigns `MASTER=<bond>`: initscripts' own test for a port file
/// (`grep "^[[:space:]]*MASTER=['\"]\?bond0['\"]\?\([[:space:]#]\|$\)"`), plus `export`.
fn names_master(text: &[u8], bond: &str) -> bool {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    text.split(|&b| b == b'\n').any(|line| {
        let line = &line[line.iter().take_while(|b| blank(b)).count()..];
        let line = match line.strip_prefix(b"export") {
            Some(rest) if rest.first().is_some_and(blank) => {
                &rest[rest.iter().take_while(|b| blank(b)).count()..]
            }
            _ => line,
        };
        let Some(value) = line.strip_prefix(b"MASTER=") else {
            return false;
        };
        let value = value
            .strip_prefix(b"\"")
            .or_else(|| value.strip_prefix(b"'"))
            .unwrap_or(value);
        value.strip_prefix(bond.as_bytes()).is_some_and(|rest| {
            matches!(
                rest.first(),
                None | Some(b'"' | b'\'' | b' ' | b'\t' | b'#' | b'\r')
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bond_core::Mode;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "bond-linux-ifcfg-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            // A leftover of an earlier run that had the same process id.
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, text).unwrap();
            path
        }

        /// Writes `files` (in reverse, so that creation order differs from name order) and
        /// loads the first.
        fn load(&self, files: &[(&str, &str)]) -> Result<BondFile, IfcfgError> {
            for (name, text) in files.iter().rev() {
                self.write(name, text);
            }
            load(&self.0.join(files[0].0))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The error of loading the first of `files`: the file at fault, the line and the message.
    fn error_of(files: &[(&str, &str)]) -> (String, Option<usize>, String) {
        let dir = TempDir::new();
        let err = dir.load(files).unwrap_err();
        let file = err.path.file_name().unwrap().to_str().unwrap().to_owned();
        (file, err.line, err.kind.to_string())
    }

    /// `(file, line, message)` for an error in the bond file itself.
    fn at(line: Option<usize>, message: &str) -> (String, Option<usize>, String) {
        ("ifcfg-bond0".to_owned(), line, message.to_owned())
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse::<Ipv6Addr>().unwrap())
    }

    const ETH0: &str = "DEVICE=eth0\nMASTER=bond0\nSLAVE=yes\n";
    const ETH1: &str = "DEVICE=eth1\nMASTER=bond0\nSLAVE=yes\n";
    const NO_MONITOR: &str =
        "neither miimon nor arp_interval is set: bonding will not detect link failures";

    // The seed document's examples, verbatim.

    const SEED_SYSCONFIG_PORT: &str = "\
BOOTPROTO='none'
STARTMODE='off'
USERCTL='no'
UNIQUE='XNzu.WeZGOGF+4wE'
_nm_name='bus-pci-0001:61:01.0'
";

    const SEED_SYSCONFIG_BOND: &str = r#"BOOTPROTO="static"
BROADCAST="10.0.2.255"
IPADDR="10.0.2.10"
NETMASK="255.255.0.0"
NETWORK="10.0.2.0"
REMOTE_IPADDR=""
STARTMODE="onboot"
BONDING_MASTER="yes"
BONDING_MODULE_OPTS="mode=active-backup miimon=100"
BONDING_SLAVE0="eth0"
BONDING_SLAVE1="bus-pci-0000:06:08.1"
"#;

    const SEED_INITSCRIPTS_PORT: &str = "\
DEVICE=eth0
USERCTL=no
ONBOOT=yes
MASTER=bond0
SLAVE=yes
BOOTPROTO=none
";

    const SEED_INITSCRIPTS_BOND: &str = "\
DEVICE=bond0
IPADDR=192.168.1.1
NETMASK=255.255.255.0
NETWORK=192.168.1.0
BROADCAST=192.168.1.255
ONBOOT=yes
BOOTPROTO=none
USERCTL=no
";

    const SEED_VBOX_ETH0: &str = "\
DEVICE=eth0
BOOTPROTO=none
ONBOOT=yes
SLAVE=yes
MASTER=bond0
";

    const SEED_VBOX_ETH1: &str = "\
DEVICE=eth1
SLAVE=yes
MASTER=bond0
ONBOOT=yes
BOOTPROTO=none
";

    const SEED_VBOX_BOND: &str = r#"DEVICE=bond0
TYPE=bond
BOOTPROTO=none
ONBOOT=yes
IPADDR=192.168.1.1
NETMASK=255.255.255.0
#可以不指定，默认使用balance-rr
BONDING_OPTS="mode=0"
"#;

    #[test]
    fn seed_sysconfig_example() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                ("ifcfg-bond0", SEED_SYSCONFIG_BOND),
                ("ifcfg-eth0", SEED_SYSCONFIG_PORT),
            ])
            .unwrap();
        let path = dir.0.join("ifcfg-bond0");
        assert_eq!(bond.flavour, Flavour::Sysconfig);
        assert_eq!(bond.name, "bond0");
        assert_eq!(bond.ports, ["eth0", "bus-pci-0000:06:08.1"]);
        assert_eq!(bond.addresses, [(v4(10, 0, 2, 10), 16)]);
        assert_eq!(bond.options.mode, Mode::ActiveBackup);
        assert_eq!(bond.options.miimon, 100);
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:11: BONDING_SLAVE1: \"bus-pci-0000:06:08.1\" is not an interface name, and \
                 bondd opens ports by interface name",
                path.display()
            )]
        );
        // The seed's port file, loaded by itself, is one that sysconfig ignores.
        let err = load(&dir.0.join("ifcfg-eth0")).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(
            err.kind.to_string(),
            "STARTMODE=\"off\": the configuration is ignored (sysconfig skips files with \
             STARTMODE off or ignore)"
        );
    }

    #[test]
    fn seed_initscripts_virtualbox_example() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                ("ifcfg-bond0", SEED_VBOX_BOND),
                ("ifcfg-eth0", SEED_VBOX_ETH0),
                ("ifcfg-eth1", SEED_VBOX_ETH1),
            ])
            .unwrap();
        let path = dir.0.join("ifcfg-bond0");
        assert_eq!(bond.flavour, Flavour::Initscripts);
        assert_eq!(bond.name, "bond0");
        assert_eq!(bond.ports, ["eth0", "eth1"]);
        assert_eq!(bond.addresses, [(v4(192, 168, 1, 1), 24)]);
        assert_eq!(bond.options, Config::parse("mode=0").unwrap());
        assert_eq!(bond.options.mode, Mode::RoundRobin);
        assert_eq!(
            bond.warnings,
            [format!("{}:8: BONDING_OPTS: {NO_MONITOR}", path.display())]
        );
    }

    #[test]
    fn seed_initscripts_plain_example() {
        // No TYPE and no BONDING_OPTS: a bond by its name, with the driver's defaults.
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                ("ifcfg-bond0", SEED_INITSCRIPTS_BOND),
                ("ifcfg-eth0", SEED_INITSCRIPTS_PORT),
            ])
            .unwrap();
        let path = dir.0.join("ifcfg-bond0").display().to_string();
        assert_eq!(bond.flavour, Flavour::Initscripts);
        assert_eq!(bond.name, "bond0");
        assert_eq!(bond.ports, ["eth0"]);
        assert_eq!(bond.addresses, [(v4(192, 168, 1, 1), 24)]);
        assert_eq!(bond.options, Config::default());
        assert_eq!(
            bond.warnings,
            [
                format!(
                    "{path}: BONDING_OPTS is not set: the bonding driver's defaults apply \
                     (options in modprobe configuration files are not read)"
                ),
                format!("{path}: BONDING_OPTS: {NO_MONITOR}"),
            ]
        );
    }

    #[test]
    fn seed_type_typo_is_read_as_bond() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nTYPE=bond0\nBONDING_OPTS=\"mode=1 miimon=100\"\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        assert_eq!(bond.options.mode, Mode::ActiveBackup);
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:2: TYPE=\"bond0\" is not a type (a typo found in some HOWTOs): read as \
                 TYPE=Bond",
                dir.0.join("ifcfg-bond0").display()
            )]
        );
    }

    #[test]
    fn bond_markers() {
        for bond_file in [
            "DEVICE=bond0\nTYPE=Bond\nBONDING_OPTS='mode=1 miimon=100'\n",
            "DEVICE=bond0\nTYPE=BONDING\nBONDING_OPTS='mode=1 miimon=100'\n",
            "DEVICE=bond0\nBONDING_MASTER=yes\nBONDING_OPTS='mode=1 miimon=100'\n",
            // No marker but BONDING_OPTS, under a name that is not bond<N>.
            "DEVICE=uplink\nBONDING_OPTS='mode=1 miimon=100'\n",
        ] {
            let dir = TempDir::new();
            let ports = ETH0.replace("bond0", "uplink");
            let bond_file = bond_file.replace("DEVICE=bond0", "DEVICE=uplink");
            let bond = dir
                .load(&[("ifcfg-bond0", &bond_file), ("ifcfg-eth0", &ports)])
                .unwrap();
            assert_eq!(bond.name, "uplink", "{bond_file}");
            assert_eq!(bond.ports, ["eth0"]);
            assert!(bond.warnings.is_empty(), "{:?}", bond.warnings);
        }
    }

    #[test]
    fn quoting() {
        let text = r#"A=plain
B="double quoted"
C='single $ `quoted` \n'
D="esc \" \\ \$ \` \x"
E=a\ b\"c
F=""
G=x#y
H=value # comment
export I=exported
  	J=indented
K="a"'b'c
L=first
L=last
M='it'\''s'
N="x # not a comment"
O=
P=a=b=c
"#;
        let vars = parse_text(text.as_bytes()).unwrap();
        let value = |key: &str| vars.0[key].value.as_str();
        assert_eq!(value("A"), "plain");
        assert_eq!(value("B"), "double quoted");
        assert_eq!(value("C"), r"single $ `quoted` \n");
        assert_eq!(value("D"), r#"esc " \ $ ` \x"#);
        assert_eq!(value("E"), r#"a b"c"#);
        assert_eq!(value("F"), "");
        assert_eq!(value("G"), "x#y");
        assert_eq!(value("H"), "value");
        assert_eq!(value("I"), "exported");
        assert_eq!(value("J"), "indented");
        assert_eq!(value("K"), "abc");
        assert_eq!(value("L"), "last");
        assert_eq!(vars.0["L"].line, 13);
        assert_eq!(value("M"), "it's");
        assert_eq!(value("N"), "x # not a comment");
        assert_eq!(value("O"), "");
        assert_eq!(value("P"), "a=b=c");
        // An empty value is no value, as for the scripts' `[ -n "$KEY" ]`.
        assert!(vars.get("F").is_none() && vars.get("O").is_none());
        assert_eq!(vars.0.len(), 16);
    }

    #[test]
    fn comments_blank_lines_and_crlf() {
        let text = b"# comment\n\n   # indented comment\n\t\n#caf\xe9 in Latin-1\r\n\
                     DEVICE=bond0 # trailing\r\nTYPE=Bond\t#tab then comment\r\n";
        let vars = parse_text(text).unwrap();
        assert_eq!(vars.0.len(), 2);
        assert_eq!(vars.value("DEVICE"), Some("bond0"));
        assert_eq!(vars.0["DEVICE"].line, 6);
        assert_eq!(vars.value("TYPE"), Some("Bond"));

        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\r\nBONDING_OPTS=\"mode=1 miimon=100\"\r\n",
                ),
                ("ifcfg-eth0", "DEVICE=eth0\r\nMASTER=bond0\r\nSLAVE=yes\r\n"),
            ])
            .unwrap();
        assert_eq!(bond.ports, ["eth0"]);
        assert_eq!(bond.options.miimon, 100);
    }

    #[test]
    fn last_assignment_wins() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBONDING_OPTS=mode=0\nBONDING_OPTS='mode=4 lacp_rate=fast'\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        assert_eq!(bond.options.mode, Mode::Lacp);
        let path = dir.0.join("ifcfg-bond0");
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:3: BONDING_OPTS: mode 802.3ad needs link monitoring: miimon forced to 100 ms",
                path.display()
            )]
        );
    }

    #[test]
    fn syntax_errors() {
        let cases: [(&str, usize, &str); 11] = [
            (
                "DEVICE=bond0\nTYPE=Bond\nBONDING_OPTS=\"mode=1 miimon=100\n",
                3,
                "BONDING_OPTS: unterminated double quote (\"): a quoted value must end on the \
                 line it starts on",
            ),
            (
                "DEVICE=bond0\nIPADDR='10.0.0.1\n",
                2,
                "IPADDR: unterminated single quote ('): a quoted value must end on the line it \
                 starts on",
            ),
            (
                "DEVICE bond0\n",
                1,
                "expected KEY=value, found \"DEVICE bond0\"",
            ),
            (
                "DEVICE=bond0\n  TYPE = Bond\n",
                2,
                "expected KEY=value, found \"TYPE = Bond\" (no blanks are allowed around '=')",
            ),
            (
                "DEVICE=bond0\nTYPE=Bond\n/etc/init.d/network restar\n",
                3,
                "expected KEY=value, found \"/etc/init.d/network restar\"",
            ),
            (
                "1DEVICE=bond0\n",
                1,
                "expected KEY=value, found \"1DEVICE=bond0\"",
            ),
            (
                "DEVICE=bond0\nBONDING_OPTS=mode=1 miimon=100\n",
                2,
                "BONDING_OPTS: the value ends at an unquoted blank, before \"miimon=100\": quote \
                 the whole value",
            ),
            (
                "DEVICE=bond0\nIPADDR=$ADDR\n",
                2,
                "IPADDR: shell expansion ($) is not supported: escape it (\\$) or use single \
                 quotes",
            ),
            (
                "DEVICE=bond0\nBONDING_OPTS=\"`cat opts`\"\n",
                2,
                "BONDING_OPTS: shell expansion (`) is not supported: escape it (\\`) or use \
                 single quotes",
            ),
            (
                "DEVICE=bond0; ifup eth0\n",
                1,
                "DEVICE: shell operator ';' is not supported: one KEY=value per line",
            ),
            (
                "DEVICE=bond0\nBONDING_OPTS=mode=1\\\n",
                2,
                "BONDING_OPTS: a backslash at the end of a line continues it in the shell; line \
                 continuations are not supported",
            ),
        ];
        for (text, line, message) in cases {
            assert_eq!(
                error_of(&[("ifcfg-bond0", text), ("ifcfg-eth0", ETH0)]),
                at(Some(line), message),
                "{text}"
            );
        }
    }

    #[test]
    fn not_utf8() {
        let dir = TempDir::new();
        let path = dir.write("ifcfg-bond0", b"TYPE=Bond\nDEVICE=bond\xff0\n");
        let err = load(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}:2: not UTF-8 text", path.display())
        );
    }

    #[test]
    fn not_a_bond() {
        assert_eq!(
            error_of(&[("ifcfg-bond0", "DEVICE=eth0\nBOOTPROTO=none\n")]),
            at(
                None,
                "not a bond: no TYPE=Bond, BONDING_MASTER=yes or BONDING_OPTS, and \"eth0\" is \
                 not named bond<N>"
            )
        );
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "DEVICE=bond0\nTYPE=Ethernet\nBONDING_OPTS=mode=1\n"
            )]),
            at(
                Some(2),
                "not a bond: TYPE=\"Ethernet\" (a bond has TYPE=Bond)"
            )
        );
        assert_eq!(
            error_of(&[("ifcfg-bond0", "STARTMODE='auto'\nBONDING_SLAVE0='eth0'\n")]),
            at(None, "not a bond: BONDING_MASTER='yes' is missing")
        );
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER='no'\nBONDING_SLAVE0='eth0'\n"
            )]),
            at(
                Some(1),
                "not a bond: BONDING_MASTER=\"no\" (sysconfig needs BONDING_MASTER='yes')"
            )
        );
    }

    #[test]
    fn bonding_opts_invalid() {
        let dir = TempDir::new();
        let bond = "# bond0\nDEVICE=bond0\nTYPE=Bond\nBOOTPROTO=none\nONBOOT=yes\n\n\
                    BONDING_OPTS=\"mode=foo miimon=100\"\n";
        let err = dir
            .load(&[("ifcfg-bond0", bond), ("ifcfg-eth0", ETH0)])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:7: BONDING_OPTS: invalid value \"foo\" for option \"mode\": allowed values \
                 are balance-rr (0), active-backup (1), balance-xor (2), broadcast (3), \
                 802.3ad (4), balance-tlb (5), balance-alb (6)",
                dir.0.join("ifcfg-bond0").display()
            )
        );
        assert!(matches!(
            err.kind,
            IfcfgErrorKind::Options {
                key: "BONDING_OPTS",
                error: OptionError::InvalidValue { .. }
            }
        ));
        assert!(std::error::Error::source(&err).is_some());

        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER='yes'\nBONDING_MODULE_OPTS='miimon=100 bogus=1'\n\
                 BONDING_SLAVE0='eth0'\n"
            )]),
            at(Some(2), "BONDING_MODULE_OPTS: unknown option \"bogus\"")
        );
    }

    #[test]
    fn address_errors() {
        let cases: [(&str, usize, &str); 9] = [
            (
                "IPADDR=192.168.1.300",
                2,
                "IPADDR: \"192.168.1.300\" is not an IP address",
            ),
            (
                "IPADDR=2001:db8::1",
                2,
                "IPADDR: 2001:db8::1 is an IPv6 address: initscripts takes those in IPV6ADDR",
            ),
            (
                "IPADDR=0.0.0.0",
                2,
                "IPADDR: 0.0.0.0 is not a usable interface address",
            ),
            (
                "IPADDR=10.0.0.1/33",
                2,
                "IPADDR: \"33\" is not a prefix length (0..32)",
            ),
            (
                "IPADDR=10.0.0.1\nNETMASK=255.0.255.0",
                3,
                "NETMASK: 255.0.255.0 is not a contiguous netmask (its one bits must all come \
                 first)",
            ),
            (
                "IPADDR=10.0.0.1\nNETMASK=255.255.0",
                3,
                "NETMASK: \"255.255.0\" is not an IPv4 netmask",
            ),
            (
                "IPADDR=10.0.0.1\nPREFIX=33",
                3,
                "PREFIX: \"33\" is not a prefix length (0..32)",
            ),
            (
                // A bad NETMASK is an error even where PREFIX wins.
                "IPADDR=10.0.0.1\nPREFIX=8\nNETMASK=255.0.0.1",
                4,
                "NETMASK: 255.0.0.1 is not a contiguous netmask (its one bits must all come \
                 first)",
            ),
            (
                "IPV6INIT=yes\nIPV6ADDR=10.0.0.1",
                3,
                "IPV6ADDR: \"10.0.0.1\" is not an IPv6 address",
            ),
        ];
        for (lines, line, message) in cases {
            let bond = format!("DEVICE=bond0\n{lines}\nBONDING_OPTS='mode=1 miimon=100'\n");
            assert_eq!(
                error_of(&[("ifcfg-bond0", &bond), ("ifcfg-eth0", ETH0)]),
                at(Some(line), message),
                "{lines}"
            );
        }
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER=yes\nBONDING_SLAVE0=eth0\nIPADDR=10.0.2.10\nPREFIXLEN=x\n"
            )]),
            at(Some(4), "PREFIXLEN: \"x\" is not a prefix length (0..32)")
        );
    }

    #[test]
    fn mtu_is_read_and_checked() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nMTU=9000\nBONDING_OPTS='mode=1 miimon=100'\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        assert_eq!(bond.mtu, Some(9000));
        let sysconfig = "BONDING_MASTER=yes\nBONDING_SLAVE0=eth0\nMTU='1400'\n";
        assert_eq!(
            dir.load(&[("ifcfg-bond1", sysconfig)]).unwrap().mtu,
            Some(1400)
        );
        for bad in ["67", "65536", "9k", "-1"] {
            let bond = format!("DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100'\nMTU={bad}\n");
            assert_eq!(
                error_of(&[("ifcfg-bond0", &bond), ("ifcfg-eth0", ETH0)]),
                at(
                    Some(3),
                    &format!("MTU: {} is not an MTU (68 to 65535)", Quoted(bad))
                ),
            );
        }
    }

    #[test]
    fn no_ports() {
        let dir = TempDir::new();
        // A file for another bond, and one without SLAVE=yes, do not count.
        let err = dir
            .load(&[
                ("ifcfg-bond0", "DEVICE=bond0\nBONDING_OPTS=mode=1\n"),
                ("ifcfg-eth0", "DEVICE=eth0\nMASTER=bond1\nSLAVE=yes\n"),
                ("ifcfg-eth1", "DEVICE=eth1\nMASTER=bond0\n"),
            ])
            .unwrap_err();
        assert_eq!(err.line, None);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no ports: no ifcfg-* file in {} has MASTER=bond0 and SLAVE=yes",
                dir.0.join("ifcfg-bond0").display(),
                dir.0.display()
            )
        );
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER='yes'\nBONDING_MODULE_OPTS='mode=1'\nBONDING_SLAVE0=''\n"
            )]),
            at(None, "no ports: no BONDING_SLAVE<n> is set")
        );
    }

    #[test]
    fn port_named_twice() {
        assert_eq!(
            error_of(&[
                ("ifcfg-bond0", "DEVICE=bond0\nBONDING_OPTS=mode=1\n"),
                ("ifcfg-eth0", ETH0),
                ("ifcfg-eth0-copy", ETH0),
            ]),
            (
                "ifcfg-eth0-copy".to_owned(),
                Some(1),
                "port \"eth0\" is named twice (first by ifcfg-eth0)".to_owned()
            )
        );
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER=yes\nBONDING_SLAVE2=eth0\nBONDING_SLAVE0=eth0\n"
            )]),
            at(
                Some(2),
                "port \"eth0\" is named twice (first by BONDING_SLAVE0)"
            )
        );
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER=yes\nBONDING_SLAVE0=eth0\nBONDING_SLAVE1=bond0\n"
            )]),
            at(Some(3), "\"bond0\" cannot be a port of itself")
        );
    }

    #[test]
    fn startmode_off_or_ignore() {
        for (value, shown) in [("off", "off"), ("'ignore'", "ignore"), ("OFF", "OFF")] {
            let bond = format!("BONDING_MASTER='yes'\nBONDING_SLAVE0='eth0'\nSTARTMODE={value}\n");
            assert_eq!(
                error_of(&[("ifcfg-bond0", &bond)]),
                at(
                    Some(3),
                    &format!(
                        "STARTMODE=\"{shown}\": the configuration is ignored (sysconfig skips \
                         files with STARTMODE off or ignore)"
                    )
                )
            );
        }
        let dir = TempDir::new();
        let bond = dir
            .load(&[(
                "ifcfg-bond0",
                "BONDING_MASTER='yes'\nBONDING_SLAVE0='eth0'\nSTARTMODE='hotplug'\n\
                 BONDING_MODULE_OPTS='mode=1 miimon=100'\n",
            )])
            .unwrap();
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:3: STARTMODE=\"hotplug\" is not a valid choice for a bonding device: a bond \
                 gets no hotplug event, so sysconfig never starts it",
                dir.0.join("ifcfg-bond0").display()
            )]
        );
    }

    #[test]
    fn other_errors() {
        assert_eq!(
            error_of(&[(
                "ifcfg-bond0",
                "BONDING_MASTER='yes'\nBONDING_OPTS='mode=1'\nBONDING_SLAVE0='eth0'\n"
            )]),
            at(
                Some(2),
                "BONDING_OPTS is the initscripts key, but BONDING_SLAVE0 makes this a \
                 sysconfig file: put the options in BONDING_MODULE_OPTS"
            )
        );
        assert_eq!(
            error_of(&[("bond.conf", "TYPE=Bond\nBONDING_OPTS=mode=1\n")]),
            (
                "bond.conf".to_owned(),
                None,
                "cannot tell the bond's name: no DEVICE= and the file name does not start \
                 with \"ifcfg-\""
                    .to_owned()
            )
        );
        assert_eq!(
            error_of(&[("ifcfg-bond0", "DEVICE=bond:0\nTYPE=Bond\n")]),
            at(
                Some(1),
                "DEVICE: \"bond:0\" is not a valid interface name (1 to 15 bytes, no '/', ':' \
                 or whitespace)"
            )
        );

        let dir = TempDir::new();
        let missing = dir.0.join("ifcfg-bond9");
        let err = load(&missing).unwrap_err();
        assert!(matches!(&err.kind, IfcfgErrorKind::Io(e) if e.kind() == io::ErrorKind::NotFound));
        assert!(err
            .to_string()
            .starts_with(&format!("{}: cannot read: ", missing.display())));
    }

    #[test]
    fn broken_port_file_is_an_error_unrelated_one_is_not() {
        let bond = "DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100'\n";
        // A port file with a mistake: refusing beats a silently missing port.
        assert_eq!(
            error_of(&[
                ("ifcfg-bond0", bond),
                ("ifcfg-eth1", "MASTER=bond0\nSLAVE=yes\nDEVICE=\"eth1\n"),
            ]),
            (
                "ifcfg-eth1".to_owned(),
                Some(3),
                "DEVICE: unterminated double quote (\"): a quoted value must end on the line it \
                 starts on"
                    .to_owned()
            )
        );
        // Files that do not name the bond are never parsed.
        let dir = TempDir::new();
        let loaded = dir
            .load(&[
                ("ifcfg-bond0", bond),
                ("ifcfg-eth0", ETH0),
                ("ifcfg-ppp0", "PASSWORD=$(cat /secret)\nDEVICE ppp0\n"),
                ("ifcfg-wlan0", "\u{0}\u{ff}garbage\n"),
            ])
            .unwrap();
        assert_eq!(loaded.ports, ["eth0"]);
    }

    #[test]
    fn sysconfig_inline_prefix() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[(
                "ifcfg-bond0",
                "STARTMODE='onboot'\nBOOTPROTO='static'\nIPADDR=10.0.2.10/16\n\
                 IPADDR_second='2001:db8::5/64'\nBONDING_MASTER='yes'\n\
                 BONDING_MODULE_OPTS='mode=active-backup miimon=100'\n\
                 BONDING_SLAVE_0='eth0'\nBONDING_SLAVE_1='eth1'\n",
            )])
            .unwrap();
        assert_eq!(bond.flavour, Flavour::Sysconfig);
        assert_eq!(
            bond.addresses,
            [(v4(10, 0, 2, 10), 16), (v6("2001:db8::5"), 64)]
        );
        assert_eq!(bond.ports, ["eth0", "eth1"]);
        assert!(bond.warnings.is_empty(), "{:?}", bond.warnings);
    }

    #[test]
    fn netmasks() {
        assert_eq!(netmask_prefix("255.255.0.0"), Ok(16));
        assert_eq!(netmask_prefix("255.255.255.0"), Ok(24));
        assert_eq!(netmask_prefix("255.255.255.254"), Ok(31));
        assert_eq!(netmask_prefix("255.255.255.255"), Ok(32));
        assert_eq!(netmask_prefix("0.0.0.0"), Ok(0));
        assert_eq!(netmask_prefix("255.255.254.0"), Ok(23));
        assert_eq!(
            netmask_prefix("255.255.0.255"),
            Err(
                "255.255.0.255 is not a contiguous netmask (its one bits must all come first)"
                    .to_owned()
            )
        );
        assert_eq!(
            netmask_prefix("0.255.255.255"),
            Err(
                "0.255.255.255 is not a contiguous netmask (its one bits must all come first)"
                    .to_owned()
            )
        );
        assert_eq!(
            netmask_prefix("/24"),
            Err("\"/24\" is not an IPv4 netmask".to_owned())
        );
    }

    #[test]
    fn prefix_sources_and_numbered_addresses() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100'\n\
                     IPADDR=10.1.2.3\nPREFIX=24\nNETMASK=255.255.0.0\n\
                     IPADDR1=172.16.0.1\n\
                     IPADDR0=10.9.0.1/16\nNETMASK0=255.255.255.0\n\
                     IPADDR2=10.1.2.3/8\n\
                     IPV6INIT=yes\nIPV6ADDR=2001:db8::1/56\n\
                     IPV6ADDR_SECONDARIES=\"2001:db8::2 2001:db8::3/48\"\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        assert_eq!(
            bond.addresses,
            [
                (v4(10, 1, 2, 3), 24),
                (v4(10, 9, 0, 1), 16),
                (v4(172, 16, 0, 1), 16),
                (v6("2001:db8::1"), 56),
                (v6("2001:db8::2"), 64),
                (v6("2001:db8::3"), 48),
            ]
        );
        let path = dir.0.join("ifcfg-bond0").display().to_string();
        assert_eq!(
            bond.warnings,
            [
                format!("{path}:5: NETMASK (/16) is ignored: PREFIX=24 wins"),
                format!("{path}:8: NETMASK0 (/24) is ignored: IPADDR0 carries /16"),
                format!(
                    "{path}:6: IPADDR1: no PREFIX1 or NETMASK1: using /16, the classful default"
                ),
                format!("{path}:9: IPADDR2: 10.1.2.3 is given twice; the copy is skipped"),
            ]
        );
    }

    #[test]
    fn ipv6_needs_ipv6init() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100'\nIPV6ADDR=2001:db8::1\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        assert!(bond.addresses.is_empty());
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:3: IPV6ADDR is ignored: IPV6INIT is not yes",
                dir.0.join("ifcfg-bond0").display()
            )]
        );
    }

    #[test]
    fn dynamic_bootproto_ignores_static_addresses() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBOOTPROTO=dhcp\nIPADDR=10.0.0.1\n\
                     BONDING_OPTS='mode=1 miimon=100'\n",
                ),
                ("ifcfg-eth0", ETH0),
            ])
            .unwrap();
        let path = dir.0.join("ifcfg-bond0").display().to_string();
        assert!(bond.addresses.is_empty());
        assert_eq!(
            bond.warnings,
            [
                format!(
                    "{path}:2: BOOTPROTO=\"dhcp\": bondd runs no DHCP or autoconfiguration \
                     client; run one on the bond's interface"
                ),
                format!("{path}:3: IPADDR is ignored with BOOTPROTO=\"dhcp\""),
            ]
        );
    }

    #[test]
    fn sibling_ports_in_file_name_order() {
        let dir = TempDir::new();
        // Written in reverse of this order, and listed in whatever order the directory has.
        // Not a file: skipped.
        fs::create_dir(dir.0.join("ifcfg-dir")).unwrap();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100'\n",
                ),
                ("ifcfg-eth10", "DEVICE=eth10\nMASTER=bond0\nSLAVE=yes\n"),
                ("ifcfg-eth2", "DEVICE=eth2\nMASTER='bond0'\nSLAVE=yes\n"),
                (
                    "ifcfg-port-a",
                    "DEVICE=ens3\nMASTER=\"bond0\" # comment\nSLAVE=true\n",
                ),
                ("ifcfg-eth0", ETH0),
                ("ifcfg-eth1", "  export MASTER=bond0\nSLAVE=YES\n"),
                // Backups initscripts skips.
                ("ifcfg-eth3.bak", "DEVICE=eth3\nMASTER=bond0\nSLAVE=yes\n"),
                ("ifcfg-eth3~", "DEVICE=eth3\nMASTER=bond0\nSLAVE=yes\n"),
                // Not ports of bond0.
                ("ifcfg-eth4", "DEVICE=eth4\nMASTER=bond0\nSLAVE=no\n"),
                ("ifcfg-eth5", "DEVICE=eth5\nMASTER=bond01\nSLAVE=yes\n"),
                (
                    "ifcfg-eth6",
                    "DEVICE=eth6\nMASTER=bond0\nSLAVE=yes\nMASTER=bond1\n",
                ),
                ("ifcfg-eth7", "DEVICE=eth7\n#MASTER=bond0\nSLAVE=yes\n"),
                ("ifcfg-lo", "DEVICE=lo\nIPADDR=127.0.0.1\n"),
            ])
            .unwrap();
        // initscripts enslaves in `ifcfg-*` glob order under LANG=C: by file name, bytewise.
        assert_eq!(bond.ports, ["eth0", "eth1", "eth10", "eth2", "ens3"]);
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:2: MASTER=bond0 without SLAVE=yes: not a port (initscripts only enslaves \
                 with SLAVE=yes)",
                dir.0.join("ifcfg-eth4").display()
            )]
        );
    }

    #[test]
    fn sysconfig_ports_in_index_order() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[(
                "ifcfg-bond0",
                "BONDING_MASTER=yes\nBONDING_MODULE_OPTS='mode=1 miimon=100'\n\
                 BONDING_SLAVE10=eth10\nBONDING_SLAVE2=eth2\nBONDING_SLAVE_0=eth0\n\
                 BONDING_SLAVE1=''\nBONDING_SLAVEX=ethx\nBONDING_SLAVE007=eth7\n",
            )])
            .unwrap();
        assert_eq!(bond.ports, ["eth0", "eth2", "eth7", "eth10"]);
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:7: BONDING_SLAVEX is not BONDING_SLAVE<n> or BONDING_SLAVE_<n>: ignored",
                dir.0.join("ifcfg-bond0").display()
            )]
        );
    }

    #[test]
    fn primary_must_be_a_port() {
        let dir = TempDir::new();
        let bond = dir
            .load(&[
                (
                    "ifcfg-bond0",
                    "DEVICE=bond0\nBONDING_OPTS='mode=1 miimon=100 primary=eth5'\n",
                ),
                ("ifcfg-eth0", ETH0),
                ("ifcfg-eth1", ETH1),
            ])
            .unwrap();
        assert_eq!(
            bond.warnings,
            [format!(
                "{}:2: BONDING_OPTS: primary \"eth5\" is not one of the ports",
                dir.0.join("ifcfg-bond0").display()
            )]
        );
    }

    #[test]
    fn too_large() {
        let dir = TempDir::new();
        let text = format!("DEVICE=bond0\n#{}\n", "x".repeat(MAX_FILE_LEN as usize));
        let path = dir.write("ifcfg-bond0", text);
        let err = load(&path).unwrap_err();
        assert!(matches!(err.kind, IfcfgErrorKind::TooLarge { .. }));
        assert_eq!(err.line, None);
    }
}
