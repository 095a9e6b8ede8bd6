//! Finding divisions by name: what a picker's search box does.

use crate::{Division, Divisions};

impl Divisions {
    /// Current divisions whose name, English form or code matches `query`, at most
    /// `limit`: the divisions named so first, then the ones under them (searching 西湖 finds
    /// 西湖区 and the streets under it, because their full names hold it), the home
    /// province first, broader levels before narrower ones. Placeholders are left out.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Division> {
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let lowered = query.to_lowercase();
        let by_code = query.bytes().all(|b| b.is_ascii_digit());
        let mut found: Vec<(u8, bool, &Division)> = self
            .rows
            .iter()
            .filter(|d| self.is_current(d) && !d.is_placeholder())
            .filter_map(|d| {
                let score = if by_code {
                    d.written().starts_with(query).then_some(0)?
                } else {
                    match_score(d, query, &lowered)?
                };
                Some((score, !d.code.starts_with(&self.home), d))
            })
            .collect();
        found.sort_by(|a, b| {
            (a.1, a.0.min(1), a.2.level(), a.0, &a.2.code).cmp(&(b.1, b.0.min(1), b.2.level(), b.0, &b.2.code))
        });
        found.into_iter().take(limit).map(|(_, _, d)| d).collect()
    }
}

/// 0: the name is the query; 1: the name holds it; 2: the English form holds it;
/// 3: a division above holds it.
fn match_score(d: &Division, query: &str, lowered: &str) -> Option<u8> {
    if d.name == query {
        Some(0)
    } else if d.name.contains(query) {
        Some(1)
    } else if d.en.to_lowercase().contains(lowered) {
        Some(2)
    } else if d.full_name().contains(query) || d.full_name_en().to_lowercase().contains(lowered) {
        Some(3)
    } else {
        None
    }
}
