//! Real places: China's administrative divisions, from provinces down to townships
//! nationwide and to villages in the home province, with their names (Chinese and an
//! English form), the editions that list them and, for retired codes, their successors.
//!
//! The list is data (`data/divisions.tsv`, rebuilt from the npm registry by
//! `data/vendor-divisions.sh`), embedded at compile time: like the rules, this crate does
//! no I/O and reads no clock, so a date is always a parameter.
//!
//! How an old code is still understood: every code listed by any edition since 2019 is
//! kept, with the last edition that listed it. Evidence dated before the next edition's
//! cut-off may name it (a stay in 下城区 in 2020 is valid; 下城区 was merged into 拱墅区 in
//! 2021); afterwards it is refused with its successors suggested. Stored evidence that
//! names it keeps its name, shown as retired with its successors.

mod divisions;
mod search;
mod suggest;

pub use divisions::written;
pub use divisions::{Division, Divisions, Edition, Level, ParseError, Place};
pub use suggest::UnknownArea;
