//! Option table (placeholder until the table lands).
