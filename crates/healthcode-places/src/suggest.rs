//! What to say when a code is not a division (or no longer one): the nearest valid codes.

use healthcode_domain::AreaCode;

use crate::divisions::parent;
use crate::{Division, Divisions};

/// A code the list does not accept, with what to use instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UnknownArea {
    pub code: String,
    /// The nearest valid codes (written in full) with their names, best first.
    pub suggestions: Vec<(String, String)>,
    message: String,
}

const SUGGESTIONS: usize = 5;

impl UnknownArea {
    pub(crate) fn unknown(list: &Divisions, area: &AreaCode) -> Self {
        let suggestions = named(list.suggest(area.normal(), SUGGESTIONS));
        let mut message = format!(
            "`{}` is not an administrative division in the list (GB/T 2260 codes, editions {}–{})",
            area.as_str(),
            list.editions.first().map_or(0, |e| e.year),
            list.latest()
        );
        push_suggestions(&mut message, "did you mean", &suggestions);
        UnknownArea { code: area.as_str().to_string(), suggestions, message }
    }

    pub(crate) fn retired(list: &Divisions, area: &AreaCode, division: &Division) -> Self {
        let mut instead: Vec<&Division> = division.successors.iter().filter_map(|s| list.get(s)).collect();
        if instead.is_empty() {
            instead = list.suggest(area.normal(), SUGGESTIONS);
        }
        let suggestions = named(instead);
        let mut message = format!(
            "`{}` ({}) was last listed in the {} edition and is no longer a division for this date",
            area.as_str(),
            division.full_name(),
            division.last
        );
        push_suggestions(&mut message, "it became", &suggestions);
        UnknownArea { code: area.as_str().to_string(), suggestions, message }
    }
}

fn named(divisions: Vec<&Division>) -> Vec<(String, String)> {
    divisions.into_iter().map(|d| (d.written(), d.full_name().to_string())).collect()
}

fn push_suggestions(message: &mut String, lead: &str, suggestions: &[(String, String)]) {
    if suggestions.is_empty() {
        message.push_str("; pick the place from the list of divisions instead");
        return;
    }
    let listed: Vec<String> = suggestions.iter().map(|(code, name)| format!("{code} {name}")).collect();
    message.push_str(&format!("; {lead}: {}", listed.join(", ")));
}

impl Divisions {
    /// The current divisions nearest to a code the list does not hold: codes of the same
    /// length one digit off or with two neighbouring digits swapped (a typo), then the
    /// nearest codes under its closest listed ancestor, then that ancestor.
    pub fn suggest(&self, normal: &str, limit: usize) -> Vec<&Division> {
        let mut ancestor = parent(normal);
        while let Some(code) = ancestor {
            if self.get(code).is_some_and(|d| self.is_current(d)) {
                break;
            }
            ancestor = parent(code);
        }
        // Looked up, not scanned for: a feed full of bad codes costs a few hundred lookups
        // a row, not a pass over the whole list.
        let usable = |d: &&Division| self.is_current(d) && !d.is_placeholder();
        let mut typos: Vec<&Division> = typos_of(normal).iter().filter_map(|c| self.get(c)).filter(usable).collect();
        typos.sort_by(|a, b| a.code.cmp(&b.code));
        typos.truncate(limit);
        let mut near: Vec<&Division> = Vec::new();
        if let Some(up) = ancestor {
            let target: u64 = normal.parse().unwrap_or(0);
            near = self.descendants_at(up, normal.len()).into_iter().filter(usable).collect();
            near.sort_by_key(|d| d.code.parse::<u64>().unwrap_or(0).abs_diff(target));
        }
        // Two of each kind first, then the ancestor, then the rest of each.
        let mut out: Vec<&Division> = near.iter().take(2).chain(typos.iter().take(2)).copied().collect();
        out.extend(ancestor.and_then(|up| self.get(up)));
        out.extend(near.iter().skip(2).take(limit).chain(typos.iter().skip(2)).copied());
        let mut seen = std::collections::HashSet::new();
        out.retain(|d| seen.insert(d.code.clone()));
        out.truncate(limit);
        out
    }
}

/// Every code one digit off `code`, or with two neighbouring digits swapped.
fn typos_of(code: &str) -> Vec<String> {
    let digits = code.as_bytes();
    let mut out = Vec::with_capacity(digits.len() * 10);
    for i in 0..digits.len() {
        for d in b'0'..=b'9' {
            if d != digits[i] {
                let mut typo = digits.to_vec();
                typo[i] = d;
                out.extend(String::from_utf8(typo).ok());
            }
        }
        if i + 1 < digits.len() && digits[i] != digits[i + 1] {
            let mut typo = digits.to_vec();
            typo.swap(i, i + 1);
            out.extend(String::from_utf8(typo).ok());
        }
    }
    out
}

/// One digit changed, or two neighbouring digits swapped.
#[cfg(test)]
fn is_typo_of(candidate: &str, code: &str) -> bool {
    let (a, b) = (candidate.as_bytes(), code.as_bytes());
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    match differ[..] {
        [_] => true,
        [i, j] => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_typos_are_exactly_the_codes_a_typo_away() {
        let code = "330160";
        let typos = typos_of(code);
        assert!(typos.iter().all(|t| is_typo_of(t, code)));
        assert!(typos.contains(&"330106".to_string()), "two neighbours swapped");
        assert!(typos.contains(&"330161".to_string()), "one digit off");
        assert_eq!(typos.len(), 6 * 9 + 4, "six digits, nine others each, four distinct neighbour pairs");
    }
}
