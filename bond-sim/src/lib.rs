//! Deterministic simulation of bonds, links and switches in virtual time.
