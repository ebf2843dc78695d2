//! Shared inputs for the trailsight benchmarks.
