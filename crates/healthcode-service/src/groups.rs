//! Group checks (复工专列, arrival buses). Seed 004: a bus of 148 Hubei workers checked on
//! arrival in Guangzhou; 1,631 workers on Zhejiang's first two return-to-work trains. An
//! employer or a transport operator sends the roster of a group travelling here, each
//! member with the code they showed at boarding, and learns each member's colour *here*:
//! what this region's rules make of everything it knows about them (its own evidence,
//! other regions' records through the national hub, the levels of the area they come
//! from) and of their arrival, with the management measure that follows.
//!
//! What keeps it from being a lookup service for anyone's health:
//! - **The code in hand is the consent.** Every member must come with a current code
//!   (their home region's, verified offline with the national trust list, or this
//!   region's) whose masked name matches the name given, and, for this region's codes,
//!   whose code id is that person's. An organiser without the member's code learns nothing
//!   about them.
//! - **The organiser learns colours, not reasons.** Why a worker is red (a close contact, a
//!   positive test) is theirs to see when they open their own code.
//! - **Nothing is recorded about the members** but, for those known here, the read itself,
//!   in their access log with the organiser and the roster (they see who checked them).
//!   A check registers nobody and stores no evidence: each member converts on arrival
//!   (`/visit`) and gets the same colour from the same data. The check's totals, without
//!   persons, are kept for auditors.

use std::collections::BTreeMap;
use std::sync::Arc;

use healthcode_domain::{
    access_decision, parse_event, AccessDecision, AreaCode, Colour, Event, EventBody, Evidence, HomeCode, IdDocument,
    PersonId, PresentedBy, Timestamp, ValidationError, VenueCategory,
};
use healthcode_log::Entry;
use healthcode_store::{Account, EvidenceStore, FederationStore};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::documents::Documents;
use crate::{Codes, ServiceError, Tokens};

/// The most members one roster may hold: a return-to-work train (seed 004: 1,631 workers
/// on two trains), checked in one request.
pub const MAX_GROUP_MEMBERS: usize = 2_000;
/// The longest organiser's reference for a roster (a train number and date, a bus plate).
pub const MAX_REFERENCE: usize = 100;

/// One member as the organiser sends them: their papers, their name as on the papers,
/// and the code they showed (`HC1:…`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupMember {
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    /// The code the member showed: their home region's, or this region's.
    pub code: String,
}

/// A roster: the organiser's reference, where the group comes from, and its members.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// The organiser's own reference (a train number and date, a bus plate).
    pub reference: String,
    /// Where the group boarded: an area of another region, or of this one.
    pub origin: AreaCode,
    /// When it left (now if not given): the members were at `origin` then, and the
    /// level this region knows for that area at that time counts.
    #[serde(default)]
    pub departed_at: Option<Timestamp>,
    pub members: Vec<GroupMember>,
}

/// A member's home code as this region read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeShown {
    pub issuer: String,
    pub colour: Colour,
    /// Whether this region recognises codes of that region now (an agreement in force, or
    /// its own): `recognised` or `no_agreement`.
    pub counts_as: HomeCode,
}

/// One member's outcome: their colour here and the measure, or why the line was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberOutcome {
    /// The member's place in the roster, from 1.
    pub row: usize,
    /// `checked`, or `refused` (with `field` and `error`).
    pub status: MemberStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub masked_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub shown: Option<CodeShown>,
    /// The colour this region's rules give the member on arrival.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub colour: Option<Colour>,
    /// What the management measures say for that colour at work (a general venue).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub decision: Option<AccessDecision>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub field: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Checked,
    Refused,
}

/// A roster's outcome: one line per member, and the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupReport {
    pub id: String,
    pub reference: String,
    pub origin: AreaCode,
    pub checked_at: Timestamp,
    pub checked: usize,
    pub refused: usize,
    /// Members checked, by colour here.
    pub colours: BTreeMap<Colour, usize>,
    pub members: Vec<MemberOutcome>,
}

/// What auditors see of a check: who sent which roster, when, and its totals; no person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupCheckRecord {
    pub id: String,
    pub organiser: String,
    pub reference: String,
    pub origin: AreaCode,
    pub checked_at: Timestamp,
    pub members: usize,
    pub refused: usize,
    pub colours: BTreeMap<Colour, usize>,
}

const KIND: &str = "group_check";
/// Which person another region's code was first shown for (by issuer and code id): kept
/// as long as check-ins, and destroyed with the personal data.
pub(crate) const HOLDER: &str = "group_code_holder";

/// The person another region's code was first shown for in a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CodeHolder {
    person: PersonId,
}

/// Group checks. Holds the signed codes (members' codes, verified offline), the evaluator
/// (this region's rules and designations), the evidence and federation stores (what is
/// known about a member, here or parked from the hub), the pseudonymiser, the access log
/// and the documents (the checks' totals).
pub struct Groups {
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) federation: Arc<dyn FederationStore>,
    pub(crate) pseudonyms: crate::Pseudonymiser,
    pub(crate) accesses: Arc<crate::accesses::Accesses>,
    pub(crate) documents: Documents,
}

/// A member whose code checked out, before their colour here is computed.
struct Admitted {
    person: PersonId,
    /// Another region's code's issuer and code id, which name its holder across rosters.
    foreign_code: Option<String>,
    document: IdDocument,
    shown: CodeShown,
    masked_name: String,
}

impl Groups {
    /// Checks a roster: each member's code, then their colour here on arrival from
    /// `origin`. A line that is wrong is refused with its field and reason; the others are
    /// checked. The organiser is a `group_organiser` account.
    pub async fn check(&self, organiser: &Account, roster: Roster) -> Result<GroupReport, ServiceError> {
        let reference = roster.reference.trim().to_string();
        if reference.is_empty() || reference.chars().count() > MAX_REFERENCE {
            return Err(ValidationError::field(
                "reference",
                format!("give the roster your own reference (a train number and date, a bus plate), 1 to {MAX_REFERENCE} characters"),
            )
            .into());
        }
        if roster.members.is_empty() || roster.members.len() > MAX_GROUP_MEMBERS {
            return Err(ValidationError::field(
                "members",
                format!(
                    "a roster holds 1 to {MAX_GROUP_MEMBERS} members ({} given); split a larger group by carriage or bus",
                    roster.members.len()
                ),
            )
            .into());
        }
        crate::places::current("origin", &roster.origin)?;
        let now = self.codes.clock.now();
        let departed_at = roster.departed_at.unwrap_or(now);
        if departed_at > now {
            return Err(
                ValidationError::field("departed_at", "a group is checked once it has left: give a past time").into()
            );
        }
        let from_elsewhere = !roster.origin.normal().starts_with(self.tokens.key_ring().region());
        let mut outcomes = Vec::with_capacity(roster.members.len());
        let mut admitted = Vec::new();
        for (i, member) in roster.members.iter().enumerate() {
            let read = match self.read_member(member) {
                Ok(m) => self.held_by(m, now).await?,
                Err(e) => Err(e),
            };
            match read {
                Ok(m) => admitted.push((i + 1, m)),
                Err(e) => outcomes.push(refused(i + 1, e)),
            }
        }
        let known: std::collections::HashSet<PersonId> = {
            let persons: Vec<PersonId> = admitted.iter().map(|(_, m)| m.person.clone()).collect();
            self.evidence_store.persons(&persons).await?.into_iter().map(|p| p.id).collect()
        };
        let shared = self.codes.shared();
        let mut colours: BTreeMap<Colour, usize> = BTreeMap::new();
        for (row, member) in admitted {
            let mut events = if known.contains(&member.person) {
                self.evidence_store.evidence_for(&member.person).await?
            } else {
                self.parked_evidence(&member).await?
            };
            // What the roster attests, counted as evidence would be, and never stored: the
            // member was at the origin when the group left, and arrives now.
            events.push(event(boarding(&member, &roster.origin, departed_at), now)?);
            if from_elsewhere {
                events.push(event(arrival(&member, &roster.origin), now)?);
            }
            events.sort_by_key(|e| e.order_key());
            let kind = member.document.id_type().person_kind();
            let colour = shared.rules.evaluate(kind, &events, &shared.areas, now).colour;
            *colours.entry(colour).or_default() += 1;
            outcomes.push(MemberOutcome {
                row,
                status: MemberStatus::Checked,
                masked_name: Some(member.masked_name),
                shown: Some(member.shown),
                colour: Some(colour),
                decision: Some(access_decision(colour, VenueCategory::General, PresentedBy::Code)),
                field: None,
                error: None,
            });
        }
        outcomes.sort_by_key(|o| o.row);
        let id = crate::secrets::new_id("grp");
        let checked = outcomes.iter().filter(|o| o.status == MemberStatus::Checked).count();
        let known: Vec<PersonId> = known.into_iter().collect();
        let purpose = format!("group check `{reference}` by {} ({id})", organiser.username);
        self.accesses.record_staff(organiser, &known, &purpose, "colour on arrival").await?;
        let record = GroupCheckRecord {
            id: id.clone(),
            organiser: organiser.username.clone(),
            reference: reference.clone(),
            origin: roster.origin.clone(),
            checked_at: now,
            members: roster.members.len(),
            refused: roster.members.len() - checked,
            colours: colours.clone(),
        };
        self.documents.save(KIND, &id, now, &record).await?;
        Ok(GroupReport {
            id,
            reference,
            origin: roster.origin,
            checked_at: now,
            checked,
            refused: roster.members.len() - checked,
            colours,
            members: outcomes,
        })
    }

    /// The latest checks' totals (auditors, the provincial office).
    pub async fn checks(&self) -> Result<Vec<GroupCheckRecord>, ServiceError> {
        let mut checks: Vec<GroupCheckRecord> = self.documents.load_all(KIND).await?;
        checks.sort_by_key(|c| std::cmp::Reverse(c.checked_at));
        Ok(checks)
    }

    /// A member's papers and code, checked: the code genuine and current, its masked name
    /// the name given, and a code of this region that person's own.
    fn read_member(&self, member: &GroupMember) -> Result<Admitted, ValidationError> {
        let document = IdDocument::parse(&member.id_type, &member.id_number)?;
        if member.name.trim().is_empty() {
            return Err(ValidationError::field("name", "give the member's name as on their papers"));
        }
        let (claims, recognised) = self.tokens.verify_shown(
            &member.code,
            "code",
            "the member's code",
            "ask them to show a current code from their app",
        )?;
        crate::tokens::check_masked_name(&claims, &member.name)?;
        let person = self.pseudonyms.person_id(&document);
        let own = self.tokens.key_ring().region().to_string();
        if claims.issuer == own && claims.code_id != self.pseudonyms.code_id(&person) {
            return Err(ValidationError::field(
                "code",
                "this region's code shown is not the code of the person these papers name: each member shows their own",
            ));
        }
        let counts_as = if recognised { HomeCode::Recognised } else { HomeCode::NoAgreement };
        Ok(Admitted {
            foreign_code: (claims.issuer != own).then(|| format!("{}:{}", claims.issuer, claims.code_id)),
            person,
            document,
            shown: CodeShown { issuer: claims.issuer, colour: claims.colour, counts_as },
            masked_name: claims.display_name,
        })
    }

    /// Another region's code names its holder only by a masked name, so many ID numbers
    /// fit one code (every 王 with a two-character name fits 王*). The first roster that
    /// shows a code binds it to the papers it came with; a later roster showing it with
    /// other papers is refused, so that one worker's code is not a key to everyone of the
    /// same surname. This region's codes are bound already (their code id is the person's).
    async fn held_by(
        &self,
        member: Admitted,
        now: Timestamp,
    ) -> Result<Result<Admitted, ValidationError>, ServiceError> {
        let Some(code) = &member.foreign_code else { return Ok(Ok(member)) };
        match self.documents.load::<CodeHolder>(HOLDER, code).await? {
            Some(holder) if holder.person != member.person => Ok(Err(ValidationError::field(
                "code",
                "this code was shown for someone else in an earlier roster: each member shows their own code",
            ))),
            Some(_) => Ok(Ok(member)),
            None => {
                self.documents.save(HOLDER, code, now, &CodeHolder { person: member.person.clone() }).await?;
                Ok(Ok(member))
            }
        }
    }

    /// What the hub published about a member not known here (kept, parked, until they
    /// come), as the evidence it will become when they register.
    async fn parked_evidence(&self, member: &Admitted) -> Result<Vec<Event<Evidence>>, ServiceError> {
        let Some(national_id) = self.pseudonyms.national_id(&member.document) else { return Ok(Vec::new()) };
        let parked = self.federation.parked_records(&[national_id]).await?;
        let mut events = Vec::new();
        for (i, p) in parked.iter().enumerate() {
            let Ok(Entry::NationalRecord(record)) = Entry::from_leaf_bytes(p.entry.as_bytes()) else { continue };
            let Some(row) = crate::national::exchange::evidence_row(&record, &member.person) else { continue };
            events.extend(as_event(&row, Timestamp::from_millis(record.at), i as i64));
        }
        Ok(events)
    }
}

/// The member's presence at the origin when the group left, as a stay.
fn boarding(member: &Admitted, origin: &AreaCode, departed_at: Timestamp) -> serde_json::Value {
    json!({"id": "hc-group-boarding", "person_id": member.person.as_str(), "type": "stay", "area": origin.as_str(),
           "from": departed_at.to_rfc3339(), "to": departed_at.to_rfc3339()})
}

/// The member's arrival from another region, with the code they showed.
fn arrival(member: &Admitted, origin: &AreaCode) -> serde_json::Value {
    json!({"id": "hc-group-arrival", "person_id": member.person.as_str(), "type": "arrival",
           "origin": origin.as_str(), "home_code": member.shown.counts_as.as_str()})
}

/// One of a check's own rows as the event the rules read, recorded now, after everything
/// stored.
fn event(row: serde_json::Value, now: Timestamp) -> Result<Event<Evidence>, ServiceError> {
    as_event(&row, now, i64::MAX)
        .ok_or_else(|| ServiceError::Background(format!("a group check's own record does not parse: {row}")))
}

/// An evidence row (JSON) as the event the rules read, recorded at `at`.
fn as_event(row: &serde_json::Value, at: Timestamp, seq: i64) -> Option<Event<Evidence>> {
    let incoming = parse_event(row, at).ok()?;
    match incoming.body {
        EventBody::Evidence(body) => Some(Event { id: incoming.id?, at, seq, body }),
        EventBody::AreaRisk(_) => None,
    }
}

fn refused(row: usize, e: ValidationError) -> MemberOutcome {
    MemberOutcome {
        row,
        status: MemberStatus::Refused,
        masked_name: None,
        shown: None,
        colour: None,
        decision: None,
        field: e.field,
        error: Some(e.message),
    }
}
