//! Admits events from untrusted JSON. Every refusal names the field and says how to fix
//! it; unknown fields are refused too, because a misspelt field would otherwise be
//! silently ignored and change a colour.

use serde_json::{Map, Value};

use super::*;

/// Fields any event may carry besides its own: who it is about, and annotations that the
/// rules never read.
pub const ENVELOPE_FIELDS: &[&str] =
    &["id", "at", "type", "person_id", "id_type", "id_number", "source", "note", "comment", "description"];

/// The fields of an `area_risk` designation besides the envelope's.
pub const AREA_RISK_FIELDS: &[&str] = &["area", "level", "escalate_to_red"];

/// Parses one event. `default_at` is the recording time to use when the input has no
/// `at` (the server's clock); an input `at` always wins.
pub fn parse_event(value: &Value, default_at: Timestamp) -> Result<IncomingEvent, ValidationError> {
    let object = value.as_object().ok_or_else(|| {
        ValidationError::new("expected a JSON object describing one event, e.g. {\"type\": \"fever\", …}")
    })?;
    let fields = Fields { object };
    let type_name = fields.required_str("type")?;
    let id = fields.optional_str("id")?.map(EventId::parse).transpose()?;
    let supplied_at = fields.optional_str("at")?.map(|t| Timestamp::parse_field("at", t)).transpose()?;
    let at = supplied_at.unwrap_or(default_at);
    let person = parse_person_ref(&fields)?;

    let (body, allowed): (EventBody, &[&str]) = if type_name == "area_risk" {
        if person.is_some() {
            return Err(ValidationError::new(
                "an `area_risk` designation is global: remove `person_id`, `id_type` and `id_number`",
            ));
        }
        (EventBody::AreaRisk(parse_area_risk(&fields)?), AREA_RISK_FIELDS)
    } else {
        let kind = EvidenceKind::parse(type_name).ok_or_else(|| {
            ValidationError::field(
                "type",
                format!(
                    "unknown event type `{}`; expected one of {}, `area_risk`",
                    clip(type_name),
                    EvidenceKind::choices()
                ),
            )
        })?;
        (EventBody::Evidence(parse_evidence(kind, &fields, at)?), evidence_fields(kind))
    };
    fields.refuse_unknown(type_name, allowed)?;
    Ok(IncomingEvent { id, at, at_supplied: supplied_at.is_some(), person, body })
}

fn evidence_fields(kind: EvidenceKind) -> &'static [&'static str] {
    match kind {
        EvidenceKind::Fever => &["onset_at"],
        EvidenceKind::FeverResolved | EvidenceKind::ContactCleared => &[],
        EvidenceKind::Test => &["result", "sampled_at"],
        EvidenceKind::Diagnosis => &["status"],
        EvidenceKind::CloseContact => &["exposure_at"],
        EvidenceKind::Entry => &["country", "entered_at"],
        EvidenceKind::Stay => &["area", "from", "to"],
        EvidenceKind::QuarantineOrder => &["mode", "days"],
        EvidenceKind::QuarantineRelease => &["mode"],
        EvidenceKind::ManagementDecision => &["color", "until", "basis", "approvers"],
        EvidenceKind::Retraction => &["retracts", "reason"],
        EvidenceKind::Declaration => &["item", "since"],
        EvidenceKind::Arrival => &["origin", "home_code", "arrived_at"],
    }
}

fn parse_evidence(kind: EvidenceKind, f: &Fields, at: Timestamp) -> Result<Evidence, ValidationError> {
    Ok(match kind {
        EvidenceKind::Fever => Evidence::Fever { onset_at: f.optional_time("onset_at")?.unwrap_or(at) },
        EvidenceKind::FeverResolved => Evidence::FeverResolved,
        EvidenceKind::Test => Evidence::Test {
            result: f.required_enum("result", TestResult::parse, TestResult::choices)?,
            sampled_at: f.required_time("sampled_at")?,
        },
        EvidenceKind::Diagnosis => {
            Evidence::Diagnosis { status: f.required_enum("status", DiagnosisStatus::parse, DiagnosisStatus::choices)? }
        }
        EvidenceKind::CloseContact => Evidence::CloseContact { exposure_at: f.required_time("exposure_at")? },
        EvidenceKind::ContactCleared => Evidence::ContactCleared,
        EvidenceKind::Entry => {
            let country = f.required_str("country")?.trim();
            if country.is_empty() || country.chars().count() > 64 {
                return Err(ValidationError::field(
                    "country",
                    "field `country`: name the country, preferably by its ISO 3166 code (e.g. GB)",
                ));
            }
            let is_code = (2..=3).contains(&country.len()) && country.bytes().all(|b| b.is_ascii_alphabetic());
            let country = if is_code { country.to_ascii_uppercase() } else { country.to_string() };
            Evidence::Entry { country, entered_at: f.required_time("entered_at")? }
        }
        EvidenceKind::Stay => {
            let area = f.required_area("area")?;
            let from = f.required_time("from")?;
            let to = f.optional_time("to")?;
            if let Some(to) = to {
                if to < from {
                    return Err(ValidationError::field(
                        "to",
                        format!("a stay cannot end ({to}) before it starts ({from}); check `from` and `to`"),
                    ));
                }
            }
            Evidence::Stay { area, from, to }
        }
        EvidenceKind::QuarantineOrder => {
            let mode = f.required_enum("mode", QuarantineMode::parse, QuarantineMode::choices)?;
            let days = f.required_u64("days")?;
            if !(1..=365).contains(&days) {
                return Err(ValidationError::field("days", "field `days`: a quarantine lasts 1 to 365 days"));
            }
            Evidence::QuarantineOrder { mode, days: days as u32 }
        }
        EvidenceKind::QuarantineRelease => Evidence::QuarantineRelease {
            mode: f.required_enum("mode", QuarantineMode::parse, QuarantineMode::choices)?,
        },
        EvidenceKind::ManagementDecision => parse_decision(f, at)?,
        EvidenceKind::Declaration => Evidence::Declaration {
            item: f.required_enum("item", DeclaredItem::parse, DeclaredItem::choices)?,
            since: f.optional_time("since")?.unwrap_or(at),
        },
        EvidenceKind::Arrival => Evidence::Arrival {
            origin: f.required_area("origin")?,
            home_code: f.required_enum("home_code", HomeCode::parse, HomeCode::choices)?,
            arrived_at: f.optional_time("arrived_at")?.unwrap_or(at),
        },
        EvidenceKind::Retraction => {
            let retracts = EventId::parse(f.required_str("retracts")?).map_err(|_| {
                ValidationError::field("retracts", "field `retracts`: the `id` of the record to retract")
            })?;
            let reason = f.required_str("reason")?.trim();
            let length = reason.chars().count();
            if !(5..=500).contains(&length) {
                return Err(ValidationError::field(
                    "reason",
                    "field `reason`: say in 5 to 500 characters why the record is withdrawn (e.g. \"sample mislabelled: \
                     belongs to another person\")",
                ));
            }
            Evidence::Retraction { retracts, reason: reason.to_string() }
        }
    })
}

fn parse_decision(f: &Fields, at: Timestamp) -> Result<Evidence, ValidationError> {
    let color = f.required_enum("color", DecisionColour::parse, DecisionColour::choices)?;
    let until = f.required_time("until")?;
    if until <= at {
        return Err(ValidationError::field(
            "until",
            format!("field `until`: a decision must expire after it is recorded ({at}); `until` is {until}"),
        ));
    }
    let basis = f.required_str("basis")?.trim();
    if basis.is_empty() {
        return Err(ValidationError::field("basis", "field `basis`: state the legal basis of the decision"));
    }
    let approvers = match f.object.get("approvers") {
        None | Some(Value::Null) => return Err(ValidationError::missing("approvers")),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().filter(|a| !a.chars().any(char::is_control)).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ValidationError::field(
                    "approvers",
                    "field `approvers`: expected a list of approver names (text without control characters)",
                )
            })?,
        Some(_) => {
            return Err(ValidationError::field("approvers", "field `approvers`: expected a list of approver names"))
        }
    };
    let distinct = distinct_approvers(&approvers);
    if distinct < 2 {
        return Err(ValidationError::field(
            "approvers",
            format!(
                "a management decision needs at least two distinct approvers; it names {distinct} \
                 (the same person approving twice counts once)"
            ),
        ));
    }
    Ok(Evidence::ManagementDecision { color, until, basis: basis.to_string(), approvers })
}

fn parse_area_risk(f: &Fields) -> Result<AreaRisk, ValidationError> {
    let area = f.required_area("area")?;
    let level = f.required_enum("level", RiskLevel::parse, RiskLevel::choices)?;
    let escalate_to_red = match f.object.get("escalate_to_red") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ValidationError::field("escalate_to_red", "field `escalate_to_red`: expected true or false"))
        }
    };
    Ok(AreaRisk { area, level, escalate_to_red })
}

fn parse_person_ref(f: &Fields) -> Result<Option<PersonRef>, ValidationError> {
    let person_id = f.optional_str("person_id")?;
    let id_type = f.optional_str("id_type")?;
    let id_number = f.optional_str("id_number")?;
    match (person_id, id_type, id_number) {
        (None, None, None) => Ok(None),
        (Some(id), None, None) => Ok(Some(PersonRef::Id(PersonId::parse(id)?))),
        (None, Some(t), Some(n)) => Ok(Some(PersonRef::Document(IdDocument::parse(t, n)?))),
        (Some(_), _, _) => {
            Err(ValidationError::new("name the person either by `person_id` or by `id_type` and `id_number`, not both"))
        }
        (None, _, _) => Err(ValidationError::new("`id_type` and `id_number` go together: give both")),
    }
}

struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn optional_str(&self, name: &str) -> Result<Option<&str>, ValidationError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().any(char::is_control) => Err(ValidationError::field(
                name,
                format!("field `{name}`: contains a control character (such as NUL or a line break); remove it"),
            )),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ValidationError::field(
                name,
                format!("field `{name}`: expected a string, got {}", json_kind(other)),
            )),
        }
    }

    fn required_str(&self, name: &str) -> Result<&str, ValidationError> {
        self.optional_str(name)?.ok_or_else(|| ValidationError::missing(name))
    }

    fn optional_time(&self, name: &str) -> Result<Option<Timestamp>, ValidationError> {
        self.optional_str(name)?.map(|t| Timestamp::parse_field(name, t)).transpose()
    }

    fn required_time(&self, name: &str) -> Result<Timestamp, ValidationError> {
        Timestamp::parse_field(name, self.required_str(name)?)
    }

    fn required_area(&self, name: &str) -> Result<AreaCode, ValidationError> {
        AreaCode::parse(self.required_str(name)?)
            .map_err(|m| ValidationError::field(name, format!("field `{name}`: {m}")))
    }

    fn required_u64(&self, name: &str) -> Result<u64, ValidationError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Err(ValidationError::missing(name)),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or_default()),
            Some(other) => Err(ValidationError::field(
                name,
                format!("field `{name}`: expected a whole number, got {}", json_kind(other)),
            )),
        }
    }

    fn required_enum<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        choices: fn() -> String,
    ) -> Result<T, ValidationError> {
        let text = self.required_str(name)?;
        parse(text).ok_or_else(|| {
            ValidationError::field(name, format!("field `{name}`: `{}` is not one of {}", clip(text), choices()))
        })
    }

    fn refuse_unknown(&self, type_name: &str, allowed: &[&str]) -> Result<(), ValidationError> {
        let mut unknown =
            self.object.keys().filter(|k| !ENVELOPE_FIELDS.contains(&k.as_str()) && !allowed.contains(&k.as_str()));
        match unknown.next() {
            None => Ok(()),
            Some(key) => Err(ValidationError::field(
                key.as_str(),
                format!(
                    "unknown field `{}` for an event of type `{type_name}`; its fields are {}",
                    clip(key),
                    if allowed.is_empty() {
                        "none beyond id, at and the person".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )),
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests;
