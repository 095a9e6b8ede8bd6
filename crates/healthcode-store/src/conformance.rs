//! The story every backend runs. A backend's test calls `run_all` with a function that
//! makes a fresh, empty store.

// Filled in by the backend work: see the promises on `Store`.
