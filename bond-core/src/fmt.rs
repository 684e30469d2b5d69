//! Logging shim: `log`, `defmt`, or nothing. Must be declared before the modules that use it.
#![allow(unused_macros)]

macro_rules! bond_log {
    ($level:ident, $($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::$level!($($arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::$level!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        { let _ = ($($arg)*,); }
    }};
}

macro_rules! info { ($($arg:tt)*) => { bond_log!(info, $($arg)*) }; }
macro_rules! warn { ($($arg:tt)*) => { bond_log!(warn, $($arg)*) }; }
macro_rules! debug { ($($arg:tt)*) => { bond_log!(debug, $($arg)*) }; }
