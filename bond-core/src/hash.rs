//! Transmit hash policies (placeholder until the bit-exact implementation lands).
