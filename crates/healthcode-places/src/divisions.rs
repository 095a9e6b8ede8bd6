//! The division list: parsing the embedded TSV, lookups by code, names and hierarchy.

use std::collections::HashMap;
use std::sync::OnceLock;

use healthcode_domain::{AreaCode, Timestamp};
use serde::Serialize;

use crate::suggest::UnknownArea;

const EMBEDDED: &str = include_str!("../data/divisions.tsv");

/// One edition of the National Bureau of Statistics' codes: its year and cut-off date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edition {
    pub year: u16,
    /// The end of the cut-off day (China time): the edition describes divisions as of then.
    pub cutoff: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
    Township,
    Village,
}

impl Level {
    /// The level of a code in normal form, by its length.
    pub fn of(normal: &str) -> Option<Level> {
        Some(match normal.len() {
            2 => Level::Province,
            4 => Level::City,
            6 => Level::County,
            9 => Level::Township,
            12 => Level::Village,
            _ => return None,
        })
    }

    pub fn below(self) -> Option<Level> {
        Some(match self {
            Level::Province => Level::City,
            Level::City => Level::County,
            Level::County => Level::Township,
            Level::Township => Level::Village,
            Level::Village => return None,
        })
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::City => "地级",
            Level::County => "县级",
            Level::Township => "乡级",
            Level::Village => "村级",
        }
    }
}

/// One division as the list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// The code in normal form (`AreaCode::normal`): 2, 4, 6, 9 or 12 digits.
    pub code: String,
    pub name: String,
    /// English form (`Xihu District`); empty for placeholders such as 市辖区.
    pub en: String,
    pub first: u16,
    pub last: u16,
    /// For a retired code: the codes that took its place, most likely first.
    pub successors: Vec<String>,
    full_name: String,
    full_name_en: String,
}

impl Division {
    pub fn level(&self) -> Level {
        Level::of(&self.code).unwrap_or(Level::Village)
    }

    /// The name with every level above it: 浙江省杭州市西湖区北山街道.
    pub fn full_name(&self) -> &str {
        &self.full_name
    }

    /// The English form with every level above it, narrowest first.
    pub fn full_name_en(&self) -> &str {
        &self.full_name_en
    }

    /// A level that only groups (市辖区, 县, 省直辖县级行政区划): it is left out of names
    /// and pickers go straight through it.
    pub fn is_placeholder(&self) -> bool {
        is_placeholder(&self.name)
    }

    /// The code written in full (6, 9 or 12 digits), as forms and feeds write it.
    pub fn written(&self) -> String {
        written(&self.code)
    }
}

fn is_placeholder(name: &str) -> bool {
    name == "市辖区" || name == "县" || name.ends_with("直辖县级行政区划")
}

/// A normal-form code written as an area code: 33 → 330000, 3301 → 330100.
pub fn written(normal: &str) -> String {
    if normal.len() < 6 {
        format!("{normal:0<6}")
    } else {
        normal.to_string()
    }
}

/// The code one level up: 330106 → 3301.
pub(crate) fn parent(normal: &str) -> Option<&str> {
    match normal.len() {
        4 => Some(&normal[..2]),
        6 => Some(&normal[..4]),
        9 => Some(&normal[..6]),
        12 => Some(&normal[..9]),
        _ => None,
    }
}

/// How a code reads to a person, for answers and pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    /// The code as the evidence wrote it.
    pub code: String,
    /// 浙江省杭州市西湖区 (every level), or the code itself when the list does not know it.
    pub name: String,
    pub name_en: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub level: Option<Level>,
    /// Whether the list names this exact code (a village outside the home province is
    /// known by its township only).
    pub listed: bool,
    /// For a code no longer in the latest edition: the last edition that listed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_after: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<String>,
}

impl Place {
    /// `浙江省杭州市西湖区 (330106)` (or its English form), as explanations and pages print
    /// it; the code alone when the list has no name for it.
    pub fn label(&self, english: bool) -> String {
        let name = if english { &self.name_en } else { &self.name };
        if name.is_empty() || *name == self.code {
            self.code.clone()
        } else {
            format!("{name} ({})", self.code)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("division list, line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// The whole list, indexed.
#[derive(Debug)]
pub struct Divisions {
    pub(crate) rows: Vec<Division>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
    pub(crate) editions: Vec<Edition>,
    /// The province whose villages are listed (and that pickers and searches put first).
    pub(crate) home: String,
}

impl Divisions {
    /// The list compiled into the program (`data/divisions.tsv`), parsed once.
    pub fn embedded() -> &'static Divisions {
        static LIST: OnceLock<Divisions> = OnceLock::new();
        LIST.get_or_init(|| {
            Divisions::parse(EMBEDDED).expect("the embedded division list parses (checked by its tests)")
        })
    }

    pub fn parse(text: &str) -> Result<Divisions, ParseError> {
        let mut editions = Vec::new();
        let mut home = String::new();
        let mut rows: Vec<Division> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let error = |message: String| ParseError { line: index + 1, message };
            if let Some(list) = line.strip_prefix("# editions: ") {
                editions = parse_editions(list).map_err(error)?;
                continue;
            }
            if let Some(rest) = line.strip_prefix("# villages of: ") {
                home = rest.split(';').next().unwrap_or_default().trim().to_string();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let [code, name, en, first, last, successors] = cells[..] else {
                return Err(error(format!("expected 6 tab-separated cells, found {}", cells.len())));
            };
            if Level::of(code).is_none() || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error(format!("`{code}` is not a code in normal form")));
            }
            if rows.last().is_some_and(|previous| previous.code.as_str() >= code) {
                return Err(error(format!("`{code}` is out of order")));
            }
            let year = |cell: &str| cell.parse::<u16>().map_err(|_| error(format!("`{cell}` is not an edition year")));
            rows.push(Division {
                code: code.to_string(),
                name: name.to_string(),
                en: en.to_string(),
                first: year(first)?,
                last: year(last)?,
                successors: successors.split_whitespace().map(str::to_string).collect(),
                full_name: String::new(),
                full_name_en: String::new(),
            });
        }
        if editions.is_empty() {
            return Err(ParseError { line: 0, message: "no `# editions:` line".into() });
        }
        let by_code: HashMap<String, usize> = rows.iter().enumerate().map(|(i, d)| (d.code.clone(), i)).collect();
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            if let Some(up) = parent(&row.code) {
                children.entry(up.to_string()).or_default().push(i);
            }
        }
        // Rows are sorted, so a parent comes before its children: full names build top down.
        for i in 0..rows.len() {
            let (above_zh, above_en) = match parent(&rows[i].code).and_then(|up| by_code.get(up)) {
                Some(&up) => (rows[up].full_name.clone(), rows[up].full_name_en.clone()),
                None => (String::new(), String::new()),
            };
            let row = &mut rows[i];
            let own_zh = if is_placeholder(&row.name) { "" } else { row.name.as_str() };
            row.full_name = format!("{above_zh}{own_zh}");
            row.full_name_en = match (row.en.is_empty(), above_en.is_empty()) {
                (true, _) => above_en,
                (false, true) => row.en.clone(),
                (false, false) => format!("{}, {above_en}", row.en),
            };
        }
        Ok(Divisions { rows, by_code, children, editions, home })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn editions(&self) -> &[Edition] {
        &self.editions
    }

    /// The latest edition's year: a code it lists is current.
    pub fn latest(&self) -> u16 {
        self.editions.last().map_or(0, |e| e.year)
    }

    /// The province whose villages the list holds.
    pub fn home(&self) -> &str {
        &self.home
    }

    /// A division by its code in normal form.
    pub fn get(&self, normal: &str) -> Option<&Division> {
        self.by_code.get(normal).map(|&i| &self.rows[i])
    }

    pub fn is_current(&self, division: &Division) -> bool {
        division.last == self.latest()
    }

    /// The current divisions one level below `normal` (the provinces for ""), placeholders
    /// replaced by their own children: 北京市 lists its districts, not 市辖区.
    pub fn children(&self, normal: &str) -> Vec<&Division> {
        let direct: Vec<&Division> = if normal.is_empty() {
            self.rows.iter().filter(|d| d.code.len() == 2).collect()
        } else {
            self.children.get(normal).map(|ix| ix.iter().map(|&i| &self.rows[i]).collect()).unwrap_or_default()
        };
        let mut out = Vec::new();
        for d in direct.into_iter().filter(|d| self.is_current(d)) {
            if d.is_placeholder() {
                out.extend(self.children(&d.code));
            } else {
                out.push(d);
            }
        }
        out
    }

    /// Every division under `up` whose code has `length` digits (current or not), through
    /// the children index: the subtree, never the whole list.
    pub(crate) fn descendants_at(&self, up: &str, length: usize) -> Vec<&Division> {
        let mut out = Vec::new();
        let mut frontier = vec![up.to_string()];
        while let Some(code) = frontier.pop() {
            for &i in self.children.get(&code).map(Vec::as_slice).unwrap_or_default() {
                let child = &self.rows[i];
                if child.code.len() == length {
                    out.push(child);
                } else if child.code.len() < length {
                    frontier.push(child.code.clone());
                }
            }
        }
        out
    }

    /// The divisions from the province down to `normal`, placeholders left out.
    pub fn ancestry(&self, normal: &str) -> Vec<&Division> {
        let mut chain = Vec::new();
        let mut code = Some(normal);
        while let Some(c) = code {
            if let Some(d) = self.get(c) {
                if !d.is_placeholder() {
                    chain.push(d);
                }
            }
            code = parent(c);
        }
        chain.reverse();
        chain
    }

    /// The edition after `year`'s, whose cut-off ends the validity of a code `year` last listed.
    fn cutoff_after(&self, year: u16) -> Option<Timestamp> {
        self.editions.iter().find(|e| e.year > year).map(|e| e.cutoff)
    }

    /// How a code reads, whatever its state: listed, retired, a village known by its
    /// township, or unknown (then the code itself).
    pub fn place(&self, area: &AreaCode) -> Place {
        let normal = area.normal();
        if let Some(d) = self.get(normal) {
            let retired = !self.is_current(d);
            return Place {
                code: area.as_str().to_string(),
                name: d.full_name.clone(),
                name_en: d.full_name_en.clone(),
                level: Some(d.level()),
                listed: true,
                retired_after: retired.then_some(d.last),
                successors: if retired { d.successors.iter().map(|s| written(s)).collect() } else { Vec::new() },
            };
        }
        match self.unlisted_village_township(normal) {
            Some(township) => Place {
                code: area.as_str().to_string(),
                name: format!("{}（村 {}）", township.full_name, &normal[9..]),
                name_en: format!("village {}, {}", &normal[9..], township.full_name_en),
                level: Some(Level::Village),
                listed: false,
                retired_after: None,
                successors: Vec::new(),
            },
            None => Place {
                code: area.as_str().to_string(),
                name: area.as_str().to_string(),
                name_en: area.as_str().to_string(),
                level: Level::of(normal),
                listed: false,
                retired_after: None,
                successors: Vec::new(),
            },
        }
    }

    /// The township of a village code outside the home province, whose villages the list
    /// does not hold: such a code is understood down to its township.
    fn unlisted_village_township(&self, normal: &str) -> Option<&Division> {
        if normal.len() != 12 || normal.starts_with(&self.home) {
            return None;
        }
        self.get(&normal[..9])
    }

    /// Whether `area` may be named for a time: `Some(at)` for evidence of that time (the
    /// code is listed and was not yet retired then: it stays valid until the cut-off of
    /// the first edition that dropped it), `None` for something made now that must name
    /// a current division (a registration, a venue, a designation). A village outside the
    /// home province counts as its township. Costs a lookup when it holds: it is on the
    /// path of every stay a feed brings.
    pub fn validate(&self, area: &AreaCode, at: Option<Timestamp>) -> Result<(), UnknownArea> {
        let normal = area.normal();
        match self.get(normal).or_else(|| self.unlisted_village_township(normal)) {
            Some(d) if self.is_current(d) => Ok(()),
            Some(d) if at.is_some_and(|at| self.cutoff_after(d.last).is_some_and(|end| at <= end)) => Ok(()),
            Some(d) => Err(UnknownArea::retired(self, area, d)),
            None => Err(UnknownArea::unknown(self, area)),
        }
    }

    /// `validate` for evidence dated `at`, and how the code reads.
    pub fn check(&self, area: &AreaCode, at: Timestamp) -> Result<Place, UnknownArea> {
        self.validate(area, Some(at)).map(|()| self.place(area))
    }

    /// `validate` for a code that must be current, and how it reads.
    pub fn check_current(&self, area: &AreaCode) -> Result<Place, UnknownArea> {
        self.validate(area, None).map(|()| self.place(area))
    }
}

fn parse_editions(list: &str) -> Result<Vec<Edition>, String> {
    let mut editions = Vec::new();
    for item in list.split(", ") {
        let (year, rest) = item.split_once('=').ok_or_else(|| format!("`{item}`: expected YEAR=DATE"))?;
        let date = rest.split_whitespace().next().unwrap_or_default();
        let year: u16 = year.parse().map_err(|_| format!("`{year}` is not a year"))?;
        let cutoff = Timestamp::parse(&format!("{date}T23:59:59+08:00")).map_err(|e| format!("`{date}`: {e}"))?;
        editions.push(Edition { year, cutoff });
    }
    Ok(editions)
}
