// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_domain::{AreaCode, Timestamp};
use healthcode_places::{Divisions, Level};
use proptest::prelude::*;

fn area(code: &str) -> AreaCode {
    AreaCode::parse(code).unwrap()
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[test]
fn the_embedded_list_holds_the_country_and_the_home_provinces_villages() {
    let list = Divisions::embedded();
    assert!(list.len() > 70_000, "{} divisions", list.len());
    assert_eq!(list.home(), "33");
    assert_eq!(list.latest(), 2023);
    assert_eq!(list.children("").len(), 31, "31 provinces");
    assert!(list.get("330106002051").is_some(), "Zhejiang's villages are listed");
    assert_eq!(list.get("33").unwrap().name, "浙江省");
}

#[test]
fn names_carry_every_level_and_skip_placeholders() {
    let list = Divisions::embedded();
    let xihu = list.place(&area("330106"));
    assert_eq!(xihu.name, "浙江省杭州市西湖区");
    assert_eq!(xihu.name_en, "Xihu District, Hangzhou City, Zhejiang Province");
    assert_eq!(xihu.level, Some(Level::County));
    assert_eq!(list.place(&area("110101")).name, "北京市东城区", "市辖区 is left out");
    assert_eq!(list.place(&area("330100")).name, "浙江省杭州市", "written forms are understood");
    assert_eq!(list.place(&area("330106002")).name, "浙江省杭州市西湖区北山街道");
    assert_eq!(list.place(&area("330106002")).label(false), "浙江省杭州市西湖区北山街道 (330106002)");
    assert_eq!(list.place(&area("330106")).label(true), "Xihu District, Hangzhou City, Zhejiang Province (330106)");
    assert_eq!(list.place(&area("990000")).label(false), "990000", "a code the list does not know");
}

#[test]
fn children_go_through_placeholders() {
    let list = Divisions::embedded();
    let zhejiang: Vec<&str> = list.children("33").iter().map(|d| d.name.as_str()).collect();
    assert_eq!(zhejiang.len(), 11);
    assert_eq!(zhejiang[0], "杭州市");
    let beijing = list.children("11");
    assert!(beijing.iter().any(|d| d.name == "东城区"), "{beijing:?}");
    let hangzhou: Vec<&str> = list.children("3301").iter().map(|d| d.name.as_str()).collect();
    assert!(hangzhou.contains(&"西湖区") && hangzhou.contains(&"临平区"));
    assert!(!hangzhou.contains(&"下城区"), "retired codes are not offered");
}

#[test]
fn searching_a_name_finds_it_and_the_streets_under_it() {
    let list = Divisions::embedded();
    let found = list.search("西湖", 40);
    assert_eq!(found[0].code, "330106", "{:?}", found.iter().map(|d| d.full_name()).collect::<Vec<_>>());
    assert!(found.iter().any(|d| d.code == "330106002"), "北山街道 is under 西湖区");
    assert!(list.search("北山街道", 10).iter().any(|d| d.code == "330106002"));
    assert_eq!(list.search("xihu district", 5)[0].code, "330106");
    assert_eq!(list.search("330106", 1)[0].code, "330106");
    assert!(list.search("  ", 5).is_empty());
}

#[test]
fn a_retired_code_is_valid_for_evidence_of_its_time_and_then_points_to_its_successor() {
    let list = Divisions::embedded();
    let xiacheng = area("330103");
    let place = list.check(&xiacheng, at("2020-03-01T10:00:00+08:00")).unwrap();
    assert_eq!(place.name, "浙江省杭州市下城区");
    assert_eq!(place.retired_after, Some(2020));
    assert_eq!(place.successors, ["330105"], "下城区 was merged into 拱墅区");
    let refused = list.check(&xiacheng, at("2022-03-01T10:00:00+08:00")).unwrap_err();
    assert_eq!(refused.suggestions[0].0, "330105");
    assert!(refused.to_string().contains("拱墅区"), "{refused}");
    assert!(list.check_current(&xiacheng).is_err());
    let jianggan = list.get("330104").unwrap();
    assert_eq!(jianggan.successors, ["330102", "330114"], "江干区 went to 上城区 and 钱塘区");
}

#[test]
fn an_unknown_code_is_refused_with_the_nearest_valid_codes() {
    let list = Divisions::embedded();
    let refused = list.check_current(&area("330106001")).unwrap_err();
    let codes: Vec<&str> = refused.suggestions.iter().map(|(c, _)| c.as_str()).collect();
    assert!(codes.contains(&"330106002"), "{codes:?}");
    assert!(codes.contains(&"330106"), "{codes:?}");
    assert!(refused.to_string().contains("北山街道"), "{refused}");
    let typo = list.check_current(&area("330160")).unwrap_err();
    assert!(typo.suggestions.iter().any(|(c, _)| c == "330106"), "{typo}");
    let nowhere = list.check_current(&area("990000")).unwrap_err();
    assert!(nowhere.to_string().contains("990000"));
}

#[test]
fn villages_outside_the_home_province_are_known_by_their_township() {
    let list = Divisions::embedded();
    let place = list.check_current(&area("110101001001")).unwrap();
    assert!(!place.listed);
    assert!(place.name.starts_with("北京市东城区东华门街道"), "{}", place.name);
    assert!(list.check_current(&area("330106002999")).is_err(), "the home province's villages are all listed");
}

#[test]
fn a_damaged_list_is_refused_with_its_line() {
    let bad = "# editions: 2023=2023-06-30 (x)\n33\t浙江省\tZhejiang Province\t2023\n";
    assert_eq!(Divisions::parse(bad).unwrap_err().line, 2);
    let unordered = "# editions: 2023=2023-06-30 (x)\n34\ta\t\t2023\t2023\t\n33\tb\t\t2023\t2023\t\n";
    assert!(Divisions::parse(unordered).unwrap_err().message.contains("out of order"));
}

proptest! {
    #[test]
    fn every_suggestion_is_a_current_division(code in "[1-6][0-9]{5}") {
        let list = Divisions::embedded();
        match list.check_current(&area(&code)) {
            Ok(place) => prop_assert!(place.listed),
            Err(refused) => {
                for (suggested, _) in &refused.suggestions {
                    prop_assert!(list.check_current(&area(suggested)).is_ok(), "{suggested} suggested for {code}");
                }
            }
        }
    }
}

/// `data/vendor-divisions.sh` checks the file it rebuilds against this digest; the
/// committed file must be the one it produces.
#[test]
fn the_committed_list_is_the_one_the_vendor_script_expects() {
    use sha2::{Digest, Sha256};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let script = std::fs::read_to_string(dir.join("vendor-divisions.sh")).unwrap();
    let expected = script.lines().find_map(|l| l.strip_prefix("expected=")).unwrap();
    let digest = Sha256::digest(std::fs::read(dir.join("divisions.tsv")).unwrap());
    let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(actual, expected, "divisions.tsv differs from what vendor-divisions.sh produces: run it");
}
