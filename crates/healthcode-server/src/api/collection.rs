//! The published collection rules (收集规则): what is collected, why, how it is kept,
//! how long, and who receives what. Public, so anyone can hold the system to them.

use axum::Json;
use healthcode_service::{CHECKIN_RETENTION_DAYS, THIRD_PARTY_FIELDS};
use serde_json::{json, Value};

pub(crate) async fn rules() -> Json<Value> {
    Json(json!({
        "fields": [
            {"field": "id_type and id_number", "purpose": "a pseudonym (keyed hash) that ties evidence to the person",
             "kept_as": "never kept; only the pseudonym", "retention": "until the epidemic is declared over"},
            {"field": "name", "purpose": "checkpoints show it masked (张*丰); health officers reach close contacts",
             "kept_as": "masked in the clear; whole only sealed with the person's own data key",
             "retention": "until the epidemic is declared over", "required": false},
            {"field": "phone", "purpose": "health officers reach close contacts",
             "kept_as": "sealed with the person's own data key", "retention": "until the epidemic is declared over",
             "required": false},
            {"field": "residence_area", "purpose": "routing to the local office; aggregate statistics",
             "kept_as": "area code", "retention": "until the epidemic is declared over", "required": false},
            {"field": "check-ins", "purpose": "entry decisions at venues; contact tracing confirmed by a health officer",
             "kept_as": "venue, time, colour and outcome", "retention": format!("{CHECKIN_RETENTION_DAYS} days")},
            {"field": "contact lists (tracing)", "purpose": "a health officer confirming close contacts",
             "kept_as": "the persons listed and their check-in times", "retention": format!("{CHECKIN_RETENTION_DAYS} days")},
            {"field": "evidence (tests, diagnoses, contact lists, entries, stays)",
             "purpose": "computing the colour under the published rules", "kept_as": "as the department sent it",
             "retention": "until the epidemic is declared over"}
        ],
        "who_receives": [
            {"who": "venues, gates and verifiers", "what": "colour and masked name, nothing else"},
            {"who": "local and provincial epidemic offices, complaint handlers",
             "what": "a person's code, history and contact details, within their jurisdiction, each read with a purpose the person sees"},
            {"who": "third-party systems of an extended function the person switched on",
             "what": format!("only their registered fields, at most {}", THIRD_PARTY_FIELDS.join(" and "))},
            {"who": "researchers", "what": "counts by area and day with differential privacy and small cells withheld; never a per-person row"},
            {"who": "anyone", "what": "the transparency log: salted commitments, never a person's identity"}
        ],
        "consent": {
            "health_code": "given at registration, after this notice",
            "extended_functions": ["citizen_card", "transport_card", "parking", "access_control"],
            "extended_functions_rule": "each off until the person switches it on; off again at any time, with immediate effect"
        },
        "access_log": "every read of a person's data by anyone else is recorded with who, role, purpose and time, and shown to the person",
        "destruction": "when the epidemic is declared over, every personal row and the keys that open it are destroyed, and the destruction is recorded in the transparency log"
    }))
}
