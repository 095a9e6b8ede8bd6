#![doc = include_str!("../README.md")]

mod accesses;
mod accounts;
mod admission;
mod alarms;
mod approvals;
mod attachments;
mod cards;
mod clock;
mod code_cards;
mod codes;
mod complaints;
mod conversions;
mod coordination;
mod corrections;
mod credit_records;
mod decisions;
mod declarations;
mod designations;
mod documents;
mod door;
mod erasure;
mod error;
mod explain;
mod extended;
pub mod faults;
mod feeds;
mod governance;
mod groups;
mod ingest;
mod keyring;
mod knowledge;
pub mod national;
mod notices;
mod overview;
mod personal;
mod places;
mod pseudonym;
mod redact;
mod refresh;
mod research;
mod residents;
mod retractions;
mod rule_changes;
mod secrets;
mod service;
mod tokens;
mod tracing_contacts;
mod transparency;
mod venues;
mod verify_batch;
mod waiting_declarations;

/// Crate-private parsers of untrusted input, public only for the fuzz targets in
/// `fuzz/` (issue 17): not part of the service's API, and not to be used elsewhere.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::feeds::CsvRecords;
    pub use crate::redact::{kept_input, mask_numbers};
}

pub use accounts::{create_account, issue_api_key, Accounts, NewAccount};
pub use admission::{AtPolicy, Source};
pub use alarms::{Alarms, COLOUR_BURST_MIN_PERSONS, FRESH_APPROVER_HOURS};
pub use attachments::{MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES};
pub use cards::{CardRecord, IssuedCard};
pub use clock::{Clock, ManualClock, SystemClock};
pub use code_cards::CODE_CARD_CACHE_MAX;
pub use codes::Codes;
pub use complaints::{ComplaintForm, Filed, MAX_OPEN_COMPLAINTS, NORMAL_COMPLAINT_HOURS, URGENT_COMPLAINT_HOURS};
pub use conversions::{Conversion, Conversions, Converted, HomeCodeSeen};
pub use coordination::{Coordination, SCHEDULER_LEASE, SCHEDULER_LEASE_LENGTH};
pub use corrections::{CorrectionView, FollowUp};
pub use credit_records::{CreditAppeal, CreditRecord, CreditStatus, CREDIT_APPEAL_DAYS};
pub use decisions::{
    DecisionView, NewDecision, DRIP_PERSONS_PER_DAY, MASS_DECISION_ALARM_PERSONS, MAX_DECISION_PERSONS,
};
pub use declarations::{Declaration, Declared, DeclaredStay};
pub use designations::DesignationProposal;
pub use door::{DoorDecision, Doors, GateAnswer, Presented, FORWARDED_SCANS_ALARM, MAX_COMPANIONS};
pub use erasure::ErasureReport;
pub use error::ServiceError;
pub use explain::{EvidenceSummary, Explanation, ReasonExplained, RetractedRecord, RulesUsed};
pub use extended::{NewThirdParty, ThirdParty, ThirdPartyAnswer, THIRD_PARTY_FIELDS};
pub use feeds::{
    check_batch_id, CsvHeader, FeedFormat, FeedProgress, FeedReport, FeedUpload, LineSplitter, RawLine, UploadSummary,
    CSV_COLUMNS, FEED_CHUNK_ROWS, LISTED_REJECTIONS, MAX_LINE_BYTES,
};
pub use governance::Governance;
pub use groups::{
    CodeShown, GroupCheckRecord, GroupMember, GroupReport, Groups, MemberOutcome, MemberStatus, Roster,
    MAX_GROUP_MEMBERS,
};
pub use ingest::{operator_rejections, Evidence, IngestReport, RowOutcome, RowStatus};
pub use keyring::{KeyRing, KeyRingError, ManagedKey, RETIRED_KEY_GRACE_SECS, VENUE_WINDOW_SECS};
pub use knowledge::{KnowledgeEntry, NewKnowledge, KNOWLEDGE_RESULTS};
pub use notices::{IncidentNotice, NOTICE_CACHE_SECS};
pub use overview::{CountyFigures, Overview, Stats};
pub use personal::{check_phone, DestructionReport, PersonalDetails, CHECKIN_RETENTION_DAYS};
pub use places::name_the_area;
pub use pseudonym::Pseudonymiser;
pub use refresh::RefreshReport;
pub use research::{ExportCell, Research, ResearchExport, ResearchRequest, MAX_RESEARCH_DAYS};
pub use residents::{
    ClaimCode, Family, KeyHolder, Reader, Registered, Residents, SeenBy, CLAIM_CODE_DAYS, COLLECTION_NOTICE_VERSION,
    COUNTER_KEYS_ALARM, GUARDIAN_CONSENT_UNDER_YEARS, MAX_DEPENDANTS, MAX_PROXIES, RESIDENT_KEY_CACHE_SECS,
    RESIDENT_KEY_PREFIX,
};
pub use rule_changes::{RuleProposal, RuleProposalStatus};
pub use service::{HealthService, Registration, ServiceKeys, DEFAULT_LOG_ORIGIN, DEFAULT_REGION};
pub use tokens::{IssuedCode, IssuedVenueCode, Tokens, VerifiedCode};
pub use tracing_contacts::{CaseVisit, Contact, Trace, TraceConfirmation, VisitsStep};
pub use transparency::{hashes_base64, PersonLog, PersonLogEntry, TransparencyLog};
pub use venues::{
    NewVenue, RegisteredDevice, RegisteredVenue, Venues, GATE_CODES_PER_MINUTE, GATE_ID_CARDS_PER_MINUTE,
};
pub use verify_batch::MAX_VERIFY_BATCH;
pub use waiting_declarations::{DeclaredRecord, OpenedDeclaration, WaitingDeclaration, WaitingStatus};
