//! Areas must be real places. Every area a person, an office or a source names is checked
//! against China's division list (`healthcode-places`): a new registration, venue,
//! jurisdiction or designation must name a current division; evidence may name one that
//! was valid when it happened (a stay in 下城区 in 2020), so history stays readable.

use healthcode_domain::{AreaCode, Timestamp, ValidationError};
use healthcode_places::Divisions;

use crate::ServiceError;

/// A code that must name a division today (a registration, a venue, a designation).
pub(crate) fn current(field: &str, area: &AreaCode) -> Result<(), ServiceError> {
    Divisions::embedded()
        .validate(area, None)
        .map_err(|refused| ServiceError::UnknownArea { field: field.to_string(), refused })
}

/// As `current`, for an optional field.
pub(crate) fn current_if_given(field: &str, area: Option<&AreaCode>) -> Result<(), ServiceError> {
    area.map(|a| current(field, a)).transpose().map(drop)
}

/// A code that must have named a division at `at` (the time the evidence is about); a
/// refused row keeps this message in the rejection log.
pub(crate) fn valid_at(field: &str, area: &AreaCode, at: Timestamp) -> Result<(), ValidationError> {
    Divisions::embedded().validate(area, Some(at)).map_err(|refused| ValidationError::field(field, refused.to_string()))
}

/// Beside a record's `area` code (evidence, a designation, a venue), its name
/// (`area_name`: 浙江省杭州市西湖区) and English form (`area_name_en`), so that answers
/// speak of places, not digits.
pub fn name_the_area(details: &mut serde_json::Value) {
    let Some(fields) = details.as_object_mut() else { return };
    let Some(area) = fields.get("area").and_then(|a| a.as_str()).and_then(|a| AreaCode::parse(a).ok()) else {
        return;
    };
    let place = Divisions::embedded().place(&area);
    fields.insert("area_name".into(), place.name.into());
    fields.insert("area_name_en".into(), place.name_en.into());
}
