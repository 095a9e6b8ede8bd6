use super::*;
use AccessOutcome::{Allow, AllowWithMask as Mask, Deny};

/// The management measures of seed 001 section 二, written out for every category: the
/// outcome for a code shown on a phone, then for an ID card, in the order
/// green, yellow, orange, red.
#[rustfmt::skip]
const TABLE: &[(&str, [AccessOutcome; 4], [AccessOutcome; 4])] = &[
    //                                    code: G      Y     O     R      id card: G  Y     O     R
    ("school",                        [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("elderly_care_home",             [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("welfare_home",                  [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("mental_health_institution",     [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("prison",                        [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("agricultural_wholesale_market", [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("farmers_market",                [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("supermarket",                   [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("library",                       [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("museum",                        [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("art_gallery",                   [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("exhibition_hall",               [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("cinema_theatre",                [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("game_hall",                     [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("enclosed_entertainment",        [Allow, Deny, Deny, Deny], [Mask, Deny, Deny, Deny]),
    ("bus",                           [Allow, Mask, Deny, Deny], [Mask, Mask, Deny, Deny]),
    ("taxi",                          [Allow, Mask, Deny, Deny], [Mask, Mask, Deny, Deny]),
    ("general",                       [Allow, Allow, Deny, Deny], [Mask, Mask, Deny, Deny]),
];

const COLOURS: [Colour; 4] = [Colour::Green, Colour::Yellow, Colour::Orange, Colour::Red];

#[test]
fn every_category_and_colour_follows_the_management_measures() {
    assert_eq!(TABLE.len(), VenueCategory::ALL.len(), "the table covers every category");
    for (name, by_code, by_id_card) in TABLE {
        let category = VenueCategory::parse(name).unwrap();
        for (i, colour) in COLOURS.into_iter().enumerate() {
            let code = access_decision(colour, category, PresentedBy::Code);
            assert_eq!(code.outcome, by_code[i], "{name}, {colour}, code");
            let card = access_decision(colour, category, PresentedBy::IdCard);
            assert_eq!(card.outcome, by_id_card[i], "{name}, {colour}, ID card");
        }
    }
}

#[test]
fn every_decision_gives_the_reason_that_matches_it() {
    for &category in VenueCategory::ALL {
        for colour in COLOURS {
            for by in [PresentedBy::Code, PresentedBy::IdCard] {
                let d = access_decision(colour, category, by);
                let expected = match (colour, d.outcome) {
                    (Colour::Red | Colour::Orange, _) => AccessReason::RedCodeBarred,
                    (Colour::Yellow, Deny) => AccessReason::YellowRestrictedVenue,
                    (Colour::Yellow, Mask) if category.is_public_transport() => AccessReason::YellowTransportWithMask,
                    (_, Mask) => AccessReason::IdCardWithMask,
                    (Colour::Yellow, Allow) => AccessReason::YellowUnrestrictedVenue,
                    (Colour::Green, _) => AccessReason::GreenCode,
                };
                assert_eq!(d.reason, expected, "{category} {colour} {by:?}");
                let (zh, en) = d.reason.message();
                assert!(!zh.is_empty() && !en.is_empty());
            }
        }
    }
}

#[test]
fn categories_round_trip_and_unknown_ones_are_refused_with_the_choices() {
    for &c in VenueCategory::ALL {
        assert_eq!(VenueCategory::parse(c.as_str()).unwrap(), c);
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    let e = VenueCategory::parse("casino").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("category"));
    assert!(e.message.contains("supermarket") && e.message.contains("casino"), "{}", e.message);
}

#[test]
fn names_are_masked_for_the_door() {
    for (name, masked) in [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳小明", "欧**明"),
        ("王", "*"),
        (" 李四 ", "李*"),
        ("John Smith", "J*** S****"),
        ("", ""),
    ] {
        assert_eq!(mask_name(name), masked, "{name:?}");
    }
}

#[test]
fn names_are_checked() {
    assert_eq!(check_name(" 张三 ").unwrap(), "张三");
    assert!(check_name("").is_err());
    assert!(check_name("a\u{7}b").is_err());
    assert!(check_name(&"名".repeat(65)).is_err());
}
