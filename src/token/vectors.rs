//! Test vectors (placeholder).
