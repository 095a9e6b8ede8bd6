use serde::{Deserialize, Serialize};

/// The colour a code shows. `Orange` is what an international code (国际版) shows where a
/// domestic one shows red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Green,
    Yellow,
    Orange,
    Red,
}

/// The colour a rule gives when it holds. Rules speak only of red and yellow; orange is
/// a matter of display for international codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RuleColour {
    Yellow,
    Red,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Orange => "orange",
            Colour::Red => "red",
        }
    }

    pub fn parse(text: &str) -> Option<Colour> {
        match text {
            "green" => Some(Colour::Green),
            "yellow" => Some(Colour::Yellow),
            "orange" => Some(Colour::Orange),
            "red" => Some(Colour::Red),
            _ => None,
        }
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
