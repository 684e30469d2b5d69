//! Examples of driving `bond-core`; see `host/` (run with `cargo run -p bond-examples --example
//! adapter_loop`). Firmware examples for Cortex-M arrive with the smoltcp/embassy adapter.
