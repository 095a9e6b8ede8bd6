//! Venues (场所) and the management measures by colour (分类管理, seed 001 section 二):
//! who may enter which kind of place. Pure: the verifier at a door, the gate and the
//! server all decide with `access_decision`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Colour, ValidationError};

macro_rules! categories {
    ($($variant:ident = $text:literal, $zh:literal, $en:literal, $restricted:literal, $transport:literal;)+) => {
        /// The kind of a venue, as registered. The first group is the special, market,
        /// cultural and entertainment places the notice bars yellow codes from.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum VenueCategory {
            $(#[serde(rename = $text)] $variant),+
        }

        impl VenueCategory {
            pub const ALL: &'static [VenueCategory] = &[$(VenueCategory::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(VenueCategory::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Result<Self, ValidationError> {
                match text {
                    $($text => Ok(VenueCategory::$variant),)+
                    other => Err(ValidationError::field(
                        "category",
                        format!(
                            "field `category`: `{}` is not a venue category; use one of {}",
                            other.chars().take(40).collect::<String>(),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }

            /// The category's name in Chinese and English, for pages and gates.
            pub fn title(self) -> (&'static str, &'static str) {
                match self { $(VenueCategory::$variant => ($zh, $en)),+ }
            }

            /// A place the notice bars yellow codes from.
            pub fn bars_yellow(self) -> bool {
                match self { $(VenueCategory::$variant => $restricted),+ }
            }

            /// Public transport, which a yellow code may ride wearing a mask.
            pub fn is_public_transport(self) -> bool {
                match self { $(VenueCategory::$variant => $transport),+ }
            }
        }

        // Written out rather than derived: utoipa's derive does not read a `rename` whose
        // text comes from a macro, and would name the variants instead of their texts.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for VenueCategory {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .description(Some("the kind of a venue, as registered"))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for VenueCategory {}
    };
}

categories! {
    School = "school", "学校", "school", true, false;
    ElderlyCareHome = "elderly_care_home", "养老院", "elderly-care home", true, false;
    WelfareHome = "welfare_home", "福利院", "welfare home", true, false;
    MentalHealthInstitution = "mental_health_institution", "精神卫生医疗机构", "mental-health institution", true, false;
    Prison = "prison", "监狱", "prison", true, false;
    AgriculturalWholesaleMarket = "agricultural_wholesale_market", "农产品批发市场", "agricultural wholesale market", true, false;
    FarmersMarket = "farmers_market", "农贸市场", "farmers' market", true, false;
    Supermarket = "supermarket", "超市", "supermarket", true, false;
    Library = "library", "图书馆", "library", true, false;
    Museum = "museum", "博物馆", "museum", true, false;
    ArtGallery = "art_gallery", "美术馆", "art gallery", true, false;
    ExhibitionHall = "exhibition_hall", "展览馆", "exhibition hall", true, false;
    CinemaTheatre = "cinema_theatre", "影剧院", "cinema or theatre", true, false;
    GameHall = "game_hall", "游艺厅", "game hall", true, false;
    EnclosedEntertainment = "enclosed_entertainment", "封闭式娱乐休闲场所", "enclosed entertainment venue", true, false;
    Bus = "bus", "公交车", "bus", false, true;
    Taxi = "taxi", "出租车", "taxi", false, true;
    General = "general", "一般场所", "general venue", false, false;
}

impl fmt::Display for VenueCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a person proved their code at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresentedBy {
    /// A signed code shown on a phone (or a printed code card).
    Code,
    /// An ID card read at a gate: people without a smartphone, often elderly.
    IdCard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    Allow,
    AllowWithMask,
    Deny,
}

/// Why a door decided as it did: a stable code for devices, words for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessReason {
    GreenCode,
    /// Red and orange codes are barred from every venue and ride only point to point.
    RedCodeBarred,
    YellowRestrictedVenue,
    YellowTransportWithMask,
    YellowUnrestrictedVenue,
    /// Verified by ID card without a smartphone: admitted wearing a mask, briefly.
    IdCardWithMask,
}

impl AccessReason {
    pub fn code(self) -> &'static str {
        match self {
            AccessReason::GreenCode => "green_code",
            AccessReason::RedCodeBarred => "red_code_barred",
            AccessReason::YellowRestrictedVenue => "yellow_restricted_venue",
            AccessReason::YellowTransportWithMask => "yellow_transport_with_mask",
            AccessReason::YellowUnrestrictedVenue => "yellow_unrestricted_venue",
            AccessReason::IdCardWithMask => "id_card_with_mask",
        }
    }

    /// What the person at the door is told, in Chinese and English.
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            AccessReason::GreenCode => ("绿码，通行", "green code: go ahead"),
            AccessReason::RedCodeBarred => (
                "红码/橙码人员不得进入任何场所，仅可点对点转运",
                "red or orange code: no entry to any venue; point-to-point transport only",
            ),
            AccessReason::YellowRestrictedVenue => {
                ("黄码人员不得进入此类场所", "yellow code: this kind of venue is closed to yellow codes")
            }
            AccessReason::YellowTransportWithMask => {
                ("黄码人员全程正确佩戴口罩可乘坐", "yellow code: may ride wearing a mask the whole way")
            }
            AccessReason::YellowUnrestrictedVenue => {
                ("黄码，此类场所未受限制", "yellow code: this kind of venue is not restricted")
            }
            AccessReason::IdCardWithMask => (
                "已核验身份证，佩戴口罩后可短时进入或乘坐",
                "ID card verified: may enter briefly or ride, wearing a mask",
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessDecision {
    pub outcome: AccessOutcome,
    pub reason: AccessReason,
}

/// The management measures: may a person with `colour`, presented `by`, enter a venue of
/// `category`?
///
/// - red / orange: barred everywhere;
/// - yellow: barred from the listed places, allowed on buses and taxis wearing a mask,
///   not restricted elsewhere;
/// - green: no restriction;
/// - verified by ID card (no smartphone): the colour still bars whom it bars, and anyone
///   admitted is admitted wearing a mask.
pub fn access_decision(colour: Colour, category: VenueCategory, by: PresentedBy) -> AccessDecision {
    use AccessOutcome::*;
    let by_colour = match colour {
        Colour::Red | Colour::Orange => AccessDecision { outcome: Deny, reason: AccessReason::RedCodeBarred },
        Colour::Yellow if category.bars_yellow() => {
            AccessDecision { outcome: Deny, reason: AccessReason::YellowRestrictedVenue }
        }
        Colour::Yellow if category.is_public_transport() => {
            AccessDecision { outcome: AllowWithMask, reason: AccessReason::YellowTransportWithMask }
        }
        Colour::Yellow => AccessDecision { outcome: Allow, reason: AccessReason::YellowUnrestrictedVenue },
        Colour::Green => AccessDecision { outcome: Allow, reason: AccessReason::GreenCode },
    };
    match (by, by_colour.outcome) {
        (PresentedBy::IdCard, Allow) => AccessDecision { outcome: AllowWithMask, reason: AccessReason::IdCardWithMask },
        _ => by_colour,
    }
}

/// A person's name as a checkpoint may show it (张三丰 → 张*丰, 张三 → 张*): enough for
/// the person at the door to match the face to the code, not enough to identify anyone.
/// Names written with spaces (Latin script) keep each word's first letter.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.contains(char::is_whitespace) {
        return name
            .split_whitespace()
            .map(|word| {
                let mut chars = word.chars();
                let first = chars.next().map(String::from).unwrap_or_default();
                first + &"*".repeat(chars.count())
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// A name as a person registers it: 1 to 64 characters of text, no control characters.
pub fn check_name(name: &str) -> Result<String, ValidationError> {
    let trimmed = name.trim();
    let count = trimmed.chars().count();
    if count == 0 || count > 64 || trimmed.chars().any(char::is_control) {
        return Err(ValidationError::field(
            "name",
            "field `name`: write the name as on the ID document, 1 to 64 characters, no control characters",
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests;
