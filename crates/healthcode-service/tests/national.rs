//! The national exchange inside one process (issue 15): a hub and two regions, each its
//! own service over its own store. A close contact reported in Henan reaches a visitor
//! in Zhejiang as evidence Zhejiang's rules judge, kept until the visitor registers there;
//! the retraction follows; and a hub that rewrites its history, or shows two regions
//! different lists, is caught.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{Colour, Department, IdDocument, Timestamp};
use healthcode_log::NoteSigner;
use healthcode_rules::{RuleSet, NO_RECOGNISED_CODE_RULE, REFERENCE_RULES_TOML};
use healthcode_service::national::{Comparison, Received, Role, OTHER_REGIONS_KEYS_HOURS};
use healthcode_service::{
    AtPolicy, GateAnswer, HealthService, KeyRing, ManualClock, Presented, Pseudonymiser, Registration, ServiceError,
    ServiceKeys, Source, VisitsStep,
};
use healthcode_store_sqlite::SqliteStore;

const HUB_ORIGIN: &str = "healthcode/national-hub/log";
const NATIONAL_KEY: &[u8] = b"the national pseudonym key, 32 bytes or more";

fn now() -> Timestamp {
    Timestamp::parse("2022-05-01T08:00:00+08:00").unwrap()
}

struct Node {
    service: HealthService,
    clock: Arc<ManualClock>,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

async fn node(region: &str, role: Role, log_seed: [u8; 32]) -> Node {
    node_with(region, role, log_seed, RuleSet::reference()).await
}

async fn node_with(region: &str, role: Role, log_seed: [u8; 32], rules: RuleSet) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    let clock = Arc::new(ManualClock::new(now()));
    let service = server(&store, &clock, region, role, log_seed, rules).await;
    Node { service, clock, store, _dir: dir }
}

/// One server of `region` over `store`: a node's, or another over the same store.
async fn server(
    store: &Arc<SqliteStore>,
    clock: &Arc<ManualClock>,
    region: &str,
    role: Role,
    log_seed: [u8; 32],
    rules: RuleSet,
) -> HealthService {
    let origin = match role {
        Role::Hub => HUB_ORIGIN.to_string(),
        _ => format!("healthcode/{region}/log"),
    };
    let keys = ServiceKeys {
        signing: KeyRing::generate(region, now().as_millis() / 1000),
        log: NoteSigner::from_seed(&origin, log_seed).unwrap(),
        vault: healthcode_vault::Keyring::new(healthcode_vault::MasterKey::generate()),
    };
    let pseudonyms = Pseudonymiser::new(format!("local key of {region}").into_bytes()).with_national_key(NATIONAL_KEY);
    HealthService::open_with(store.clone(), clock.clone(), pseudonyms, rules, keys)
        .await
        .unwrap()
        .with_national_role(role)
}

fn hub_key(seed: [u8; 32]) -> healthcode_log::NoteVerifier {
    NoteSigner::from_seed(HUB_ORIGIN, seed).unwrap().verifier()
}

async fn region(code: &str, hub_seed: [u8; 32]) -> Node {
    region_with(code, hub_seed, RuleSet::reference()).await
}

async fn region_with(code: &str, hub_seed: [u8; 32], rules: RuleSet) -> Node {
    let role = Role::Region { region: code.into(), hub: Box::new(hub_key(hub_seed)) };
    node_with(code, role, [code.as_bytes()[0]; 32], rules).await
}

/// What the region's sync task does over HTTP, in process: submit what is queued, then
/// follow the hub checkpoint by checkpoint.
async fn sync(region: &Node, code: &str, hub: &Node) -> Result<Received, ServiceError> {
    let national = region.service.national();
    let queued = national.queued_submissions(10_000).await?;
    if !queued.is_empty() {
        let lines: Vec<String> = queued.iter().map(|q| q.line.clone()).collect();
        let lines = national.sign_lines(&lines, &region.service.tokens().key_ring());
        let report = hub.service.national().submit(code, &format!("region-{code}"), &lines).await?;
        assert_eq!(report.rejected, 0, "{report:?}");
        national.submitted(&queued.iter().map(|q| q.seq).collect::<Vec<_>>()).await?;
    }
    let mut total = Received::default();
    loop {
        let size = national.view().await?.size;
        let Some(next) = hub.service.log().checkpoints(size, 1).await?.into_iter().next() else { return Ok(total) };
        let leaves = leaves(hub, size, next.size).await;
        let received = national.receive(&next.note, &leaves).await?;
        total.admitted += received.admitted;
        total.parked += received.parked;
        total.withdrawn += received.withdrawn;
        total.dropped += received.dropped;
        total.not_withdrawn += received.not_withdrawn;
    }
}

/// What Henan reported reaches Zhejiang: Henan submits and follows, then Zhejiang follows.
async fn relay(hub: &Node, henan: &Node, zhejiang: &Node) {
    sync(henan, "41", hub).await.unwrap();
    sync(zhejiang, "33", hub).await.unwrap();
}

async fn leaves(hub: &Node, from: u64, to: u64) -> Vec<Vec<u8>> {
    hub.service.log().entries(from, (to - from) as usize).await.unwrap().into_iter().map(|(_, l)| l).collect()
}

fn document(number: &str) -> IdDocument {
    IdDocument::parse("resident_id", number).unwrap()
}

async fn report_as(department: Department, region: &Node, row: serde_json::Value) {
    let report = region
        .service
        .evidence()
        .ingest_from(Source::Department(department), &[1], &[row.to_string()], AtPolicy::ServerClock, "test")
        .await
        .unwrap();
    assert_eq!(report.accepted, 1, "{report:?}");
}

async fn report(region: &Node, row: serde_json::Value) {
    report_as(Department::Health, region, row).await
}

fn registration(number: &str, name: Option<&str>) -> Registration {
    Registration {
        document: document(number),
        residence_area: None,
        name: name.map(str::to_string),
        phone: None,
        international: false,
        accepted_notice: true,
    }
}

async fn register(region: &Node, number: &str) -> healthcode_domain::PersonId {
    region.service.residents().register(registration(number, None)).await.unwrap().0.id
}

const VISITOR: &str = "410105199001011233";

/// Where each colour change of a person's code came from, as the region's log says.
async fn origins_of(region: &Node, person: &healthcode_domain::PersonId) -> Vec<String> {
    let changes = region.service.residents().person_log(person).await.unwrap();
    changes
        .entries
        .iter()
        .filter_map(|e| match &e.entry {
            healthcode_log::Entry::ColourChange(c) => c.origin.clone(),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_close_contact_reported_in_henan_reaches_a_visitor_in_zhejiang_and_so_does_its_retraction() {
    let hub_seed = [7; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;

    report(
        &henan,
        serde_json::json!({"id": "cc-1", "type": "close_contact", "id_type": "resident_id", "id_number": VISITOR,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    // A stay never leaves the region.
    report_as(
        Department::Telecom,
        &henan,
        serde_json::json!({"id": "stay-1", "type": "stay", "id_type": "resident_id", "id_number": VISITOR,
                           "area": "410105", "from": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    sync(&henan, "41", &hub).await.unwrap();
    assert_eq!(hub.service.national().submit("41", "x", &[]).await.unwrap().log_size, 1, "one record published");

    // Zhejiang does not know the visitor yet: the record waits.
    sync(&zhejiang, "33", &hub).await.unwrap();
    let view = zhejiang.service.national().view().await.unwrap();
    assert_eq!(view.size, 1);
    assert!(view.synced_at.is_some() && view.checkpoint.is_some());
    // Retention keeps it for the visitor to come (it is within its days).
    assert_eq!(zhejiang.service.national().apply_retention().await.unwrap(), 0);

    // The visitor registers in Zhejiang: the record becomes evidence judged by Zhejiang's
    // rules, and the explanation says where it came from.
    let visitor = register(&zhejiang, VISITOR).await;
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert_ne!(code.colour, Colour::Green, "{code:?}");
    // The region's own log says where the colour came from.
    assert_eq!(origins_of(&zhejiang, &visitor).await, ["national:41:close_contact"]);
    let evidence: Vec<_> = code.reasons.iter().flat_map(|r| &r.evidence).collect();
    assert!(evidence.iter().any(|e| e.reported_by_region.as_deref() == Some("41") && e.kind == "close_contact"));
    assert!(evidence.iter().all(|e| e.kind != "stay"));
    // Zhejiang's health department cannot withdraw Henan's record: only Henan can.
    let withdraw = serde_json::json!({"id": "zj-r-1", "type": "retraction", "person_id": visitor.as_str(),
                                      "retracts": "hc-nat-41-cc-1", "reason": "we think not"});
    let refused = zhejiang
        .service
        .evidence()
        .ingest_from(
            Source::Department(Department::Health),
            &[1],
            &[withdraw.to_string()],
            AtPolicy::ServerClock,
            "test",
        )
        .await
        .unwrap();
    assert_eq!((refused.rejected, refused.rows[0].field.as_deref()), (1, Some("retracts")), "{refused:?}");

    // Henan withdraws the record; the correction travels.
    report(
        &henan,
        serde_json::json!({"id": "r-1", "type": "retraction", "id_type": "resident_id", "id_number": VISITOR,
                           "retracts": "cc-1", "reason": "another person of the same name"}),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert_eq!(code.colour, Colour::Green, "{code:?}");
    assert_eq!(code.retracted.len(), 1);

    // A region cannot withdraw another's record, nor publish under another's code.
    let foreign = r#"{"kind":"retraction","id":"r-x","retracts":"cc-1","reason":"not ours"}"#.to_string();
    let answer = hub.service.national().submit("33", "region-33", &[foreign]).await.unwrap();
    assert_eq!(answer.rejected, 1);
    assert_eq!(answer.rows[0].field.as_deref(), Some("retracts"));
    // Nor may a region be a hub.
    assert!(zhejiang.service.national().submit("33", "x", &[]).await.is_err());
}

#[tokio::test]
async fn a_hub_that_rewrites_history_or_shows_regions_different_lists_is_caught() {
    let hub_seed = [9; 32];
    // Two hubs with the same key: the one a region sees and the one another region sees.
    let honest = node("00", Role::Hub, hub_seed).await;
    let twin = node("00", Role::Hub, hub_seed).await;
    let henan = region("41", hub_seed).await;
    let zhejiang = region("33", hub_seed).await;
    let line = |id: &str, status: &str| {
        format!(
            r#"{{"kind":"key_person","id":"{id}","person":"n0123456789abcdef0123456789abcdef","status":"{status}","since":"2022-04-30T20:00:00+08:00"}}"#
        )
    };
    honest.service.national().submit("44", "gd", &[line("a", "confirmed")]).await.unwrap();
    twin.service.national().submit("44", "gd", &[line("a", "close_contact")]).await.unwrap();
    sync(&henan, "41", &honest).await.unwrap();
    sync(&zhejiang, "33", &twin).await.unwrap();

    // Comparing checkpoints: same size, different roots, both signed by the hub.
    let theirs = zhejiang.service.national().view().await.unwrap().checkpoint.unwrap();
    let found = henan.service.national().compare(&theirs, &[]).await.unwrap();
    assert!(matches!(found, Comparison::Equivocation { .. }), "{found:?}");
    let alarms = henan.service.alarms().list(0, 10).await.unwrap();
    assert!(alarms.iter().any(|a| a.alarm.kind == "hub_equivocation"), "{alarms:?}");

    // The twin's history served to Henan: it does not extend what Henan checked.
    twin.service.national().submit("44", "gd", &[line("b", "confirmed")]).await.unwrap();
    let next = twin.service.log().checkpoints(1, 1).await.unwrap().remove(0);
    let refused = henan.service.national().receive(&next.note, &leaves(&twin, 1, next.size).await).await;
    assert!(matches!(refused, Err(ServiceError::HubUntrusted(_))), "{refused:?}");
    let alarms = henan.service.alarms().list(0, 10).await.unwrap();
    assert!(alarms.iter().any(|a| a.alarm.kind == "hub_forked"), "{alarms:?}");
    assert_eq!(henan.service.national().view().await.unwrap().size, 1, "nothing of the forked history was used");

    // A checkpoint signed by another key is refused before anything is read.
    let stranger = node("00", Role::Hub, [1; 32]).await;
    stranger.service.national().submit("44", "gd", &[line("c", "confirmed")]).await.unwrap();
    let forged = stranger.service.log().checkpoints(0, 1).await.unwrap().remove(0);
    let refused = henan.service.national().receive(&forged.note, &[]).await;
    assert!(matches!(refused, Err(ServiceError::HubUntrusted(_))), "{refused:?}");

    // An honest hub's growth passes the comparison with the proof between the sizes.
    honest.service.national().submit("44", "gd", &[line("d", "confirmed")]).await.unwrap();
    let late = region("35", hub_seed).await;
    sync(&late, "35", &honest).await.unwrap();
    let theirs = late.service.national().view().await.unwrap();
    let proof = honest.service.log().consistency_proof(1, theirs.size).await.unwrap();
    let found = henan.service.national().compare(theirs.checkpoint.as_deref().unwrap(), &proof).await.unwrap();
    assert!(matches!(found, Comparison::Consistent { .. }), "{found:?}");
}

/// A gate at a supermarket in Hangzhou, approved by a provincial officer: its device key.
async fn gate_of(region: &Node) -> String {
    let venues = region.service.venues();
    let venue = venues
        .register(healthcode_service::NewVenue {
            name: "超市".into(),
            category: healthcode_domain::VenueCategory::Supermarket,
            area: Some(healthcode_domain::AreaCode::parse("330106").unwrap()),
        })
        .await
        .unwrap();
    let device = venues.register_device(&venue.venue.id, &venue.operator_key, "东门").await.unwrap();
    let officer = healthcode_store::Account {
        id: "a1".into(),
        username: "officer".into(),
        password_hash: None,
        role: healthcode_domain::Role::ProvincialOffice,
        jurisdiction: None,
        department: None,
        created_at: now(),
        disabled: false,
        acting_with_key_issued_at: None,
    };
    venues.approve_device(&officer, &device.device.id).await.unwrap();
    device.device_key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The colour of a person's code in a region now.
async fn colour_of(region: &Node, person: &healthcode_domain::PersonId) -> Colour {
    region.service.codes().current_code(person).await.unwrap().colour
}

/// The hub and two regions following it: Henan (41), which reports, and Zhejiang (33).
async fn hub_henan_zhejiang(hub_seed: [u8; 32]) -> (Node, Node, Node) {
    (node("00", Role::Hub, hub_seed).await, region("41", hub_seed).await, region("33", hub_seed).await)
}

/// Henan registered at the hub with its root key, and its keys published there.
async fn register_henan_with_keys(hub: &Node, henan: &Node) {
    let root = hex(&henan.service.tokens().key_ring().root_public());
    hub.service.national().register_region("41", &root).await.unwrap();
    publish_keys(hub, "41", henan).await;
}

/// A provincial officer of `region` (`code`) answering for the whole province.
async fn officer(region: &Node, code: &str, name: &str) -> healthcode_store::Account {
    let account = healthcode_service::NewAccount {
        username: name.into(),
        role: healthcode_domain::Role::ProvincialOffice,
        jurisdiction: Some(healthcode_domain::AreaCode::parse(&format!("{code}0000")).unwrap()),
        department: None,
        password: None,
    };
    region.service.accounts().create(account).await.unwrap()
}

/// Two of `region`'s provincial officers confirm the agreement the hub published for it
/// to recognise `issuing`'s codes (synced first): only then does it count there.
async fn confirm(region: &Node, code: &str, issuing: &str, hub: &Node) {
    sync(region, code, hub).await.unwrap();
    let (proposer, approver) = (
        officer(region, code, &format!("confirms-{issuing}-a")).await,
        officer(region, code, &format!("confirms-{issuing}-b")).await,
    );
    region.service.national().propose_confirmation(&proposer, issuing, None).await.unwrap();
    region.service.national().approve_confirmation(&approver, issuing).await.unwrap();
}

async fn publish_keys(hub: &Node, code: &str, region: &Node) -> healthcode_service::national::Published {
    let list = region.service.tokens().key_ring().signed_trust_list().to_json();
    hub.service.national().publish_trust_list(code, &list).await.unwrap()
}

#[tokio::test]
async fn another_regions_code_is_verified_offline_under_an_agreement_and_its_revoked_key_is_refused() {
    use healthcode_service::national::Published;
    use healthcode_token::VerifyError;

    let hub_seed = [5; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    for (code, region) in [("41", &henan), ("33", &zhejiang)] {
        let root = hex(&region.service.tokens().key_ring().root_public());
        hub.service.national().register_region(code, &root).await.unwrap();
    }
    assert_eq!(publish_keys(&hub, "41", &henan).await, Published::Published);
    assert_eq!(publish_keys(&hub, "41", &henan).await, Published::Unchanged, "the same list twice");
    // A list signed by another root is not Henan's.
    let forged = zhejiang.service.tokens().key_ring().signed_trust_list().to_json();
    assert!(hub.service.national().publish_trust_list("41", &forged).await.is_err());

    let worker = register(&henan, "410105199001011233").await;
    let code = henan.service.tokens().issue_code_token(&worker).await.unwrap().token;
    sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(zhejiang.service.national().trust().regions.len(), 1, "Henan's keys are known in Zhejiang");
    // Known keys, no agreement: refused, and the receiving region's own measures apply.
    assert_eq!(zhejiang.service.tokens().verify_code_token(&code), Err(VerifyError::NoAgreement("41".into())));

    hub.service.national().agree("33", "41", now(), None).await.unwrap();
    sync(&zhejiang, "33", &hub).await.unwrap();
    // The hub's agreement alone: Zhejiang has not confirmed it, so nothing changes.
    assert_eq!(zhejiang.service.tokens().verify_code_token(&code), Err(VerifyError::NoAgreement("41".into())));
    let national = zhejiang.service.national();
    let (qian, sun) = (officer(&zhejiang, "33", "qian").await, officer(&zhejiang, "33", "sun").await);
    let mut city = officer(&zhejiang, "33", "hangzhou-desk").await;
    city.jurisdiction = Some("3301".into());
    assert!(national.propose_confirmation(&city, "41", None).await.is_err(), "a city's officer decides no border");
    assert!(national.propose_confirmation(&qian, "37", None).await.is_err(), "no such agreement at the hub");
    national.propose_confirmation(&qian, "41", None).await.unwrap();
    assert!(national.approve_confirmation(&qian, "41").await.is_err(), "not the proposer");
    assert_eq!(zhejiang.service.tokens().verify_code_token(&code), Err(VerifyError::NoAgreement("41".into())));
    let standing = national.approve_confirmation(&sun, "41").await.unwrap();
    assert_eq!(standing.confirmed_by.iter().map(|a| a.by.as_str()).collect::<Vec<_>>(), ["qian", "sun"]);
    let size = zhejiang.service.log().size().await.unwrap();
    let logged = leaves(&zhejiang, 0, size).await;
    let confirmation = logged
        .iter()
        .filter_map(|l| healthcode_log::Entry::from_leaf_bytes(l).ok())
        .find_map(|e| match e {
            healthcode_log::Entry::AgreementConfirmation(c) => Some(c),
            _ => None,
        })
        .expect("the confirmation is in Zhejiang's log");
    assert_eq!((confirmation.issuing.as_str(), confirmation.approvers.len()), ("41", 2));
    assert!(national.approve_confirmation(&sun, "41").await.is_err(), "nothing waits any more");
    // The hub alone cannot widen what Zhejiang confirmed: a window of a day stays a day.
    let day = Timestamp::from_millis(now().as_millis() + 86_400_000);
    national.propose_confirmation(&sun, "41", Some(day)).await.unwrap();
    national.approve_confirmation(&qian, "41").await.unwrap();
    hub.service.national().agree("33", "41", now(), None).await.unwrap();
    sync(&zhejiang, "33", &hub).await.unwrap();
    let trust = national.trust();
    assert!(trust.recognises("33", "41", now()) && !trust.recognises("33", "41", day), "the confirmed window");
    let verified = zhejiang.service.tokens().verify_code_token(&code).unwrap();
    assert_eq!((verified.issuer.as_str(), verified.colour), ("41", Colour::Green));
    // At a gate in Zhejiang: the visitor's colour, Zhejiang's measures, the issuer named.
    let gate = gate_of(&zhejiang).await;
    let answer = zhejiang.service.doors().gate_check(&gate, Presented::Code(code.clone())).await.unwrap();
    let GateAnswer::Decided(decision) = answer else { panic!("{answer:?}") };
    assert_eq!((decision.issuer.as_deref(), decision.colour), (Some("41"), Colour::Green));
    // Batched verification (the API's default) gives the same answer.
    assert_eq!(zhejiang.service.tokens().verify_code_token_batched(&code).await.unwrap(), verified);
    // The agreement is one-way: Henan does not recognise Zhejiang's codes.
    let resident = register(&zhejiang, "330106198001011235").await;
    let zj_code = zhejiang.service.tokens().issue_code_token(&resident).await.unwrap().token;
    sync(&henan, "41", &hub).await.unwrap();
    assert!(henan.service.tokens().verify_code_token(&zj_code).is_err());

    // Henan revokes its key: once the new list reaches Zhejiang, its codes are refused.
    let before_revocation = henan.service.tokens().key_ring().signed_trust_list().to_json();
    let mut ring = (*henan.service.tokens().key_ring()).clone();
    let kid = ring.signing_key().unwrap().key_id().to_string();
    ring.rotate(now().as_millis() / 1000);
    ring.revoke(&kid, now().as_millis() / 1000).unwrap();
    henan.service.tokens().set_key_ring(ring);
    assert_eq!(publish_keys(&hub, "41", &henan).await, Published::Published);
    sync(&zhejiang, "33", &hub).await.unwrap();
    assert!(matches!(zhejiang.service.tokens().verify_code_token(&code), Err(VerifyError::RevokedKey(_))));
    // A hub (holding the hub's key) that publishes Henan's older list again, to undo the
    // revocation: the older list is not taken.
    let replayed = healthcode_log::Entry::NationalTrustList(healthcode_log::NationalTrustList {
        at: now().as_millis(),
        region: "41".into(),
        signed_list: before_revocation,
    })
    .leaf_bytes();
    let size = zhejiang.service.national().view().await.unwrap().size;
    let mut all = leaves(&hub, 0, size).await;
    all.push(replayed.clone());
    let hashes: Vec<_> = all.iter().map(|l| healthcode_log::leaf_hash(l)).collect();
    let note =
        healthcode_log::Checkpoint { origin: HUB_ORIGIN.into(), size: size + 1, root: healthcode_log::mth(&hashes) }
            .sign(&NoteSigner::from_seed(HUB_ORIGIN, hub_seed).unwrap())
            .unwrap();
    zhejiang.service.national().receive(&note, &[replayed]).await.unwrap();
    assert!(matches!(zhejiang.service.tokens().verify_code_token(&code), Err(VerifyError::RevokedKey(_))));
    // A code signed by the new key verifies.
    let fresh = henan.service.tokens().issue_code_token(&worker).await.unwrap().token;
    assert!(zhejiang.service.tokens().verify_code_token(&fresh).is_ok());
    // The hub stays out of it at the door: with what Zhejiang keeps, a restart without
    // the hub still verifies.
    let reloaded = zhejiang.service.national().load_trust().await.unwrap();
    assert_eq!(reloaded.agreements.len(), 1);
    assert!(zhejiang.service.tokens().verify_code_token(&fresh).is_ok());
}

/// An auditor's account, to read the rejection log.
fn auditor() -> healthcode_store::Account {
    healthcode_store::Account {
        id: "a2".into(),
        username: "auditor".into(),
        password_hash: None,
        role: healthcode_domain::Role::Auditor,
        jurisdiction: None,
        department: None,
        created_at: now(),
        disabled: false,
        acting_with_key_issued_at: None,
    }
}

#[tokio::test]
async fn an_entry_the_region_cannot_read_is_kept_with_its_reason_and_the_sync_goes_on() {
    let hub_seed = [3; 32];
    let zhejiang = region("33", hub_seed).await;
    let visitor = register(&zhejiang, VISITOR).await;
    let national_id =
        Pseudonymiser::new(b"x".to_vec()).with_national_key(NATIONAL_KEY).national_id(&document(VISITOR)).unwrap();
    // A hub (holding the hub's key) that publishes a leaf that is no entry, a record of a
    // kind nobody defined, and a good record.
    let record = |id: &str, kind: &str| {
        healthcode_log::Entry::NationalRecord(healthcode_log::NationalRecord {
            at: now().as_millis(),
            region: "41".into(),
            id: id.into(),
            kind: kind.into(),
            person: national_id.clone(),
            status: Some("confirmed".into()),
            since: Some(now().as_millis()),
            retracts: None,
            reason: None,
            area: None,
            level: None,
            result: None,
            venue: None,
            until: None,
            kid: None,
            signature: None,
        })
        .leaf_bytes()
    };
    let leaves = vec![
        b"{\"type\":\"colour_override\",\"colour\":\"red\"}".to_vec(),
        record("x", "colour"),
        record("c", "key_person"),
    ];
    let hashes: Vec<_> = leaves.iter().map(|l| healthcode_log::leaf_hash(l)).collect();
    let signer = NoteSigner::from_seed(HUB_ORIGIN, hub_seed).unwrap();
    let note = healthcode_log::Checkpoint { origin: HUB_ORIGIN.into(), size: 3, root: healthcode_log::mth(&hashes) }
        .sign(&signer)
        .unwrap();

    let received = zhejiang.service.national().receive(&note, &leaves).await.unwrap();
    assert_eq!((received.size, received.admitted), (3, 1), "{received:?}");
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 10).await.unwrap();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().all(|r| r.origin.starts_with("national hub entry")));
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert_eq!(code.colour, Colour::Red, "the good record was used: {code:?}");
}

#[tokio::test]
async fn a_region_publishing_a_crowd_of_key_persons_raises_an_alarm_at_the_hub() {
    let hub = node("00", Role::Hub, [4; 32]).await;
    let lines = |from: u64, count: u64| -> Vec<String> {
        (from..from + count)
            .map(|i| {
                format!(
                    r#"{{"kind":"key_person","id":"d-{i}","person":"n{i:032x}","status":"close_contact","since":"2022-04-30T20:00:00+08:00"}}"#
                )
            })
            .collect()
    };
    // A second hub server over the same store, as behind a balancer.
    let twin = server(&hub.store, &hub.clock, "00", Role::Hub, [4; 32], RuleSet::reference()).await;
    // Split into submissions spread over the two servers, the hour's count still passes
    // the threshold, once (each server counting its own would have seen 600 and 610).
    hub.service.national().submit("41", "henan", &lines(0, 600)).await.unwrap();
    assert!(hub.service.alarms().list(0, 10).await.unwrap().is_empty());
    twin.national().submit("41", "henan", &lines(600, 400)).await.unwrap();
    assert!(hub.service.alarms().list(0, 10).await.unwrap().is_empty(), "1,000 is not more than 1,000");
    twin.national().submit("41", "henan", &lines(1000, 200)).await.unwrap();
    hub.service.national().submit("41", "henan", &lines(1200, 10)).await.unwrap();
    let alarms = hub.service.alarms().list(0, 10).await.unwrap();
    let mass: Vec<_> = alarms.iter().filter(|a| a.alarm.kind == "national_mass_submission").collect();
    assert_eq!(mass.len(), 1, "{alarms:?}");
    assert_eq!(mass[0].alarm.jurisdiction, "41");
    assert!(mass[0].alarm.log_index.is_some(), "in the hub's public log");
}

#[tokio::test]
async fn the_hub_issues_the_national_code_for_a_region_without_one_and_regions_recognise_it() {
    let hub_seed = [6; 32];
    // The hub holds the national key too: it issues codes (region 00) to persons of
    // regions that have no code of their own.
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    let national = hub.service.national();
    national.publish_own_keys(&hub.service.tokens().key_ring()).await.unwrap();
    national.publish_own_keys(&hub.service.tokens().key_ring()).await.unwrap(); // idempotent

    // A worker from a region without a code registers at the hub; Henan reports them as a
    // close contact; the hub's national code, under its rules, turns.
    let worker = register(&hub, VISITOR).await;
    assert_eq!(hub.service.codes().current_code(&worker).await.unwrap().colour, Colour::Green);
    report(
        &henan,
        serde_json::json!({"id": "cc-9", "type": "close_contact", "id_type": "resident_id", "id_number": VISITOR,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    sync(&henan, "41", &hub).await.unwrap();
    let followed = national.follow_own_log().await.unwrap();
    assert_eq!(followed.admitted, 1, "{followed:?}");
    let code = hub.service.codes().current_code(&worker).await.unwrap();
    assert_ne!(code.colour, Colour::Green, "{code:?}");

    // Zhejiang recognises the national code under an agreement, offline.
    let root = hex(&zhejiang.service.tokens().key_ring().root_public());
    national.register_region("33", &root).await.unwrap();
    national.agree("33", "00", now(), None).await.unwrap();
    confirm(&zhejiang, "33", "00", &hub).await;
    let token = hub.service.tokens().issue_code_token(&worker).await.unwrap().token;
    let verified = zhejiang.service.tokens().verify_code_token(&token).unwrap();
    assert_eq!((verified.issuer.as_str(), verified.colour), ("00", code.colour));
}

#[tokio::test]
async fn a_region_signs_its_records_so_the_hub_cannot_publish_one_in_its_name() {
    let hub_seed = [8; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    let visitor = register(&zhejiang, VISITOR).await;
    let national_id =
        Pseudonymiser::new(b"x".to_vec()).with_national_key(NATIONAL_KEY).national_id(&document(VISITOR)).unwrap();

    // Henan's keys are published: the hub refuses a line without Henan's signature.
    let unsigned = format!(
        r#"{{"kind":"key_person","id":"u-1","person":"{national_id}","status":"confirmed","since":"2022-04-30T20:00:00+08:00"}}"#
    );
    let answer = hub.service.national().submit("41", "henan", std::slice::from_ref(&unsigned)).await.unwrap();
    assert_eq!((answer.rejected, answer.rows[0].field.as_deref()), (1, Some("signature")), "{answer:?}");
    // Nor one signed by another region's key.
    let by_zhejiang =
        zhejiang.service.national().sign_lines(std::slice::from_ref(&unsigned), &zhejiang.service.tokens().key_ring());
    let answer = hub.service.national().submit("41", "henan", &by_zhejiang).await.unwrap();
    assert_eq!(answer.rejected, 1, "{answer:?}");
    // Henan's own signature passes, and Zhejiang checks it again.
    let signed =
        henan.service.national().sign_lines(std::slice::from_ref(&unsigned), &henan.service.tokens().key_ring());
    assert_eq!(hub.service.national().submit("41", "henan", &signed).await.unwrap().accepted, 1);
    sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(zhejiang.service.codes().current_code(&visitor).await.unwrap().colour, Colour::Red);

    // A hub (holding the hub's key) that publishes a record in Henan's name without its
    // signature: the log checks out, the record does not; it is not used, and the alarm
    // says so.
    let forged = healthcode_log::Entry::NationalRecord(healthcode_log::NationalRecord {
        at: now().as_millis(),
        region: "41".into(),
        id: "u-1-retracted".into(),
        kind: "retraction".into(),
        person: national_id.clone(),
        status: None,
        since: None,
        retracts: Some("u-1".into()),
        reason: Some("forged".into()),
        area: None,
        level: None,
        result: None,
        venue: None,
        until: None,
        kid: None,
        signature: None,
    })
    .leaf_bytes();
    let size = zhejiang.service.national().view().await.unwrap().size;
    let mut all = leaves(&hub, 0, size).await;
    all.push(forged.clone());
    let hashes: Vec<_> = all.iter().map(|l| healthcode_log::leaf_hash(l)).collect();
    let note =
        healthcode_log::Checkpoint { origin: HUB_ORIGIN.into(), size: size + 1, root: healthcode_log::mth(&hashes) }
            .sign(&NoteSigner::from_seed(HUB_ORIGIN, hub_seed).unwrap())
            .unwrap();
    zhejiang.service.national().receive(&note, &[forged]).await.unwrap();
    assert_eq!(zhejiang.service.codes().current_code(&visitor).await.unwrap().colour, Colour::Red, "not withdrawn");
    let alarms = zhejiang.service.alarms().list(0, 10).await.unwrap();
    assert!(alarms.iter().any(|a| a.alarm.kind == "hub_forged_record"), "{alarms:?}");
}

/// A record about someone who never comes is not kept for ever: past its days, retention
/// deletes it, and a person registering later under that document gets nothing from it.
#[tokio::test]
async fn a_record_nobody_claims_is_deleted_after_its_retention() {
    let hub_seed = [9; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    report(
        &henan,
        serde_json::json!({"id": "cc-late", "type": "close_contact", "id_type": "resident_id", "id_number": VISITOR,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;

    let days = |n: i64| now().saturating_add(healthcode_domain::Duration::days(n));
    zhejiang.clock.set(days(healthcode_service::national::PARKED_RETENTION_DAYS - 1));
    assert_eq!(zhejiang.service.national().apply_retention().await.unwrap(), 0, "kept within its days");
    zhejiang.clock.set(days(healthcode_service::national::PARKED_RETENTION_DAYS + 1));
    assert_eq!(zhejiang.service.national().apply_retention().await.unwrap(), 1, "deleted past them");

    let visitor = register(&zhejiang, VISITOR).await;
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert!(code.reasons.iter().flat_map(|r| &r.evidence).all(|e| e.reported_by_region.is_none()), "{code:?}");
}

fn conversion(number: &str, name: Option<&str>, home_code: Option<&str>) -> healthcode_service::Conversion {
    healthcode_service::Conversion {
        registration: registration(number, name),
        origin: healthcode_domain::AreaCode::parse("410105").unwrap(),
        home_code: home_code.map(str::to_string),
        stays: Vec::new(),
    }
}

fn refused_field(result: Result<healthcode_service::Converted, ServiceError>) -> String {
    match result {
        Err(ServiceError::Invalid(e)) => e.field.unwrap_or_default(),
        other => panic!("expected a refusal naming a field, got {other:?}"),
    }
}

#[tokio::test]
async fn a_visitor_converts_the_home_code_and_the_receiving_regions_rules_judge_the_national_data() {
    use healthcode_domain::HomeCode;

    let hub_seed = [3; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    let shandong_rules = RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{NO_RECOGNISED_CODE_RULE}")).unwrap();
    let shandong = region_with("37", hub_seed, shandong_rules).await;
    for (code, region) in [("41", &henan), ("33", &zhejiang), ("37", &shandong)] {
        let root = hex(&region.service.tokens().key_ring().root_public());
        hub.service.national().register_region(code, &root).await.unwrap();
    }
    publish_keys(&hub, "41", &henan).await;
    // Zhejiang recognises Henan's codes; Shandong has no agreement with Henan.
    hub.service.national().agree("33", "41", now(), None).await.unwrap();
    confirm(&zhejiang, "33", "41", &hub).await;

    // Two Henan workers: one with nothing against them, one a close contact in Henan.
    const CLEAR: &str = "410105199001011233";
    const CONTACT: &str = "410105198502021232";
    let clear = henan.service.residents().register(registration(CLEAR, Some("张三丰"))).await.unwrap().0.id;
    let contact = henan.service.residents().register(registration(CONTACT, Some("李四"))).await.unwrap().0.id;
    report(
        &henan,
        serde_json::json!({"id": "cc-9", "type": "close_contact", "id_type": "resident_id", "id_number": CONTACT,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    let clear_code = henan.service.tokens().issue_code_token(&clear).await.unwrap();
    let contact_code = henan.service.tokens().issue_code_token(&contact).await.unwrap();
    assert_eq!(clear_code.colour, Colour::Green);
    assert_ne!(contact_code.colour, Colour::Green);
    sync(&henan, "41", &hub).await.unwrap();
    for (code, region) in [("33", &zhejiang), ("37", &shandong)] {
        sync(region, code, &hub).await.unwrap();
    }
    let conversions = zhejiang.service.conversions();

    // Refused before anything is recorded: a code that names someone else, no name to
    // check it against, this region's own code, an origin inside this region, a forged code.
    let someone_else = conversion(CLEAR, Some("王五"), Some(&clear_code.token));
    assert_eq!(refused_field(conversions.convert(someone_else).await), "name");
    assert_eq!(refused_field(conversions.convert(conversion(CLEAR, None, Some(&clear_code.token))).await), "name");
    let local = register(&zhejiang, "330106198001011235").await;
    let local_code = zhejiang.service.tokens().issue_code_token(&local).await.unwrap().token;
    let own = conversion("330106198001011235", Some("赵六"), Some(&local_code));
    assert_eq!(refused_field(conversions.convert(own).await), "home_code");
    let mut inside = conversion(CLEAR, Some("张三丰"), Some(&clear_code.token));
    inside.origin = healthcode_domain::AreaCode::parse("330106").unwrap();
    assert_eq!(refused_field(conversions.convert(inside).await), "origin");
    let forged = clear_code.token.replace('A', "B");
    assert_eq!(refused_field(conversions.convert(conversion(CLEAR, Some("张三丰"), Some(&forged))).await), "home_code");
    let clear_here = zhejiang.service.person_id_for(&document(CLEAR));
    assert!(zhejiang.service.codes().current_code(&clear_here).await.is_err(), "nobody was registered");

    // Zhejiang recognises Henan's code: the arrival counts as recognised, and its own
    // rules give green.
    let converted = conversions.convert(conversion(CLEAR, Some("张三丰"), Some(&clear_code.token))).await.unwrap();
    let home = converted.home.clone().unwrap();
    assert_eq!((home.issuer.as_str(), home.colour, home.shown), ("41", Colour::Green, HomeCode::Recognised));
    assert!(converted.resident_key.starts_with("hcr_"), "{}", converted.resident_key);
    assert_eq!(zhejiang.service.codes().current_code(&converted.person.id).await.unwrap().colour, Colour::Green);
    // Converting the same ID again gives no second key.
    let again = conversions.convert(conversion(CLEAR, Some("张三丰"), Some(&clear_code.token))).await;
    assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");

    // The close contact converts: the home code's colour is shown, not copied; the colour
    // here comes from Henan's record, which reached Zhejiang through the hub, judged by
    // Zhejiang's rules and explained.
    let converted = conversions.convert(conversion(CONTACT, Some("李四"), Some(&contact_code.token))).await.unwrap();
    assert_eq!(converted.home.unwrap().colour, contact_code.colour);
    let code = zhejiang.service.codes().current_code(&converted.person.id).await.unwrap();
    assert_ne!(code.colour, Colour::Green, "{code:?}");
    let evidence: Vec<_> = code.reasons.iter().flat_map(|r| &r.evidence).collect();
    assert!(evidence.iter().any(|e| e.reported_by_region.as_deref() == Some("41") && e.kind == "close_contact"));

    // Shandong has no agreement with Henan: the same green home code is not recognised, and
    // Shandong's own rule puts the visitor under 14 days of quarantine, explained.
    let converted = shandong
        .service
        .conversions()
        .convert(conversion(CLEAR, Some("张三丰"), Some(&clear_code.token)))
        .await
        .unwrap();
    assert_eq!(converted.home.unwrap().shown, HomeCode::NoAgreement);
    let code = shandong.service.codes().current_code(&converted.person.id).await.unwrap();
    assert_eq!((code.colour, code.reasons[0].rule.as_str()), (Colour::Red, "R-arrival"), "{code:?}");
    assert_eq!(code.reasons[0].evidence[0].kind, "arrival");

    // A visitor who shows no code declares where they stayed; the self-service page records
    // no "showed no code", which any stranger could type for any ID number: that measure
    // belongs to the checkpoint that sees the traveller arrive (a border feed's `arrival`).
    let mut declared = conversion("410105197703033331", None, None);
    declared.stays = vec![healthcode_service::DeclaredStay {
        area: "410105".into(),
        from: "2022-04-25T08:00:00+08:00".into(),
        to: Some("2022-04-30T08:00:00+08:00".into()),
    }];
    let converted = shandong.service.conversions().convert(declared).await.unwrap();
    assert!(converted.home.is_none());
    let code = shandong.service.codes().current_code(&converted.person.id).await.unwrap();
    assert_eq!(code.colour, Colour::Green, "{code:?}");
    report_as(
        Department::Border,
        &shandong,
        serde_json::json!({"id": "arr-1", "type": "arrival", "id_type": "resident_id",
                           "id_number": "410105197703033331", "origin": "410105", "home_code": "none"}),
    )
    .await;
    let code = shandong.service.codes().current_code(&converted.person.id).await.unwrap();
    assert_eq!(code.colour, Colour::Red, "{code:?}");

    // A home code past its lifetime is refused.
    zhejiang.clock.set(Timestamp::from_millis(now().as_millis() + 3_600_000));
    let late = conversion("410105196604044444", Some("张三丰"), Some(&clear_code.token));
    assert_eq!(refused_field(conversions.convert(late).await), "home_code");
}

/// Uploads NDJSON `text` as a department's bulk feed, in one piece.
async fn feed(region: &Node, department: Department, batch: &str, text: &str) -> healthcode_service::FeedReport {
    let source = Source::Department(department);
    let mut upload = region
        .service
        .evidence()
        .open_feed(source, "feed", batch, healthcode_service::FeedFormat::Ndjson, None)
        .await
        .unwrap();
    let mut splitter = healthcode_service::LineSplitter::new();
    let mut lines = Vec::new();
    splitter.push(text.as_bytes(), &mut lines);
    splitter.finish(&mut lines);
    for line in lines {
        upload.push(line).await.unwrap();
    }
    upload.finish().await.unwrap()
}

/// A close contact in a department's bulk feed travels like one sent alone: the person
/// is linked to their national pseudonym and the record queued for the hub; on the
/// receiving side, a bulk feed that names a person the hub told about admits the record
/// that waited for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_in_bulk_feeds_travel_and_admit_what_waited_for_their_persons() {
    let hub_seed = [2; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    const SECOND: &str = "410105198502021232";
    let text = [
        serde_json::json!({"id": "cc-b1", "type": "close_contact", "id_type": "resident_id", "id_number": VISITOR,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
        serde_json::json!({"id": "t-b1", "type": "test", "result": "negative", "id_type": "resident_id",
                           "id_number": SECOND, "sampled_at": "2022-04-30T20:00:00+08:00"}),
        serde_json::json!({"id": "cc-b2", "type": "close_contact", "id_type": "resident_id", "id_number": SECOND,
                           "exposure_at": "2022-04-30T21:00:00+08:00"}),
    ]
    .map(|row| row.to_string() + "\n")
    .concat();
    let report = feed(&henan, Department::Health, "b1", &text).await;
    assert_eq!(report.accepted, 3, "{report:?}");
    sync(&henan, "41", &hub).await.unwrap();
    // The two close contacts are published; a negative test stays in Henan.
    assert_eq!(hub.service.national().submit("41", "x", &[]).await.unwrap().log_size, 2);

    // Zhejiang parks both; its own telecom feed then names the second person by document
    // (a stay in Hangzhou), which admits the record that waited for them.
    sync(&zhejiang, "33", &hub).await.unwrap();
    let stay = serde_json::json!({"id": "s-b1", "type": "stay", "id_type": "resident_id", "id_number": SECOND,
                                  "area": "330106", "from": "2022-05-01T07:00:00+08:00"});
    let report = feed(&zhejiang, Department::Telecom, "s1", &(stay.to_string() + "\n")).await;
    assert_eq!(report.accepted, 1, "{report:?}");
    let second = zhejiang.service.person_id_for(&document(SECOND));
    let code = zhejiang.service.codes().current_code(&second).await.unwrap();
    let evidence: Vec<_> = code.reasons.iter().flat_map(|r| &r.evidence).collect();
    assert!(
        evidence.iter().any(|e| e.reported_by_region.as_deref() == Some("41") && e.kind == "close_contact"),
        "{code:?}"
    );
    // The first visitor's record still waits for them, and is theirs when they register.
    let visitor = register(&zhejiang, VISITOR).await;
    assert_ne!(zhejiang.service.codes().current_code(&visitor).await.unwrap().colour, Colour::Green);
}

/// Only a region's leader syncs with the hub; every other server of the region takes what
/// the sync brought (keys, agreements, a revocation) at its follower's next tick. Other
/// regions' keys stop being used once the hub has been silent for
/// `OTHER_REGIONS_KEYS_HOURS`: a revocation may be missing.
#[tokio::test]
async fn every_server_of_a_region_follows_other_regions_keys_and_stops_using_them_when_the_hub_falls_silent() {
    use healthcode_token::VerifyError;

    let hub_seed = [6; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    let role = Role::Region { region: "33".into(), hub: Box::new(hub_key(hub_seed)) };
    let other = server(&zhejiang.store, &zhejiang.clock, "33", role, [b'3'; 32], RuleSet::reference()).await;
    for (code, region) in [("41", &henan), ("33", &zhejiang)] {
        let root = hex(&region.service.tokens().key_ring().root_public());
        hub.service.national().register_region(code, &root).await.unwrap();
    }
    publish_keys(&hub, "41", &henan).await;
    hub.service.national().agree("33", "41", now(), None).await.unwrap();
    confirm(&zhejiang, "33", "41", &hub).await;
    let worker = register(&henan, VISITOR).await;
    let code = henan.service.tokens().issue_code_token(&worker).await.unwrap().token;

    sync(&zhejiang, "33", &hub).await.unwrap();
    assert!(zhejiang.service.tokens().verify_code_token(&code).is_ok(), "the leader, which synced");
    assert!(other.tokens().verify_code_token(&code).is_err(), "the other server has not followed yet");
    other.follow().await.unwrap();
    assert!(other.tokens().verify_code_token(&code).is_ok(), "… and has after its tick");

    // Henan revokes its key; the leader's sync brings it, the other server follows.
    let mut ring = (*henan.service.tokens().key_ring()).clone();
    let kid = ring.signing_key().unwrap().key_id().to_string();
    ring.rotate(now().as_millis() / 1000);
    ring.revoke(&kid, now().as_millis() / 1000).unwrap();
    henan.service.tokens().set_key_ring(ring);
    publish_keys(&hub, "41", &henan).await;
    sync(&zhejiang, "33", &hub).await.unwrap();
    other.follow().await.unwrap();
    assert!(matches!(other.tokens().verify_code_token(&code), Err(VerifyError::RevokedKey(_))));

    // The hub falls silent for longer than the keys are kept: Henan's codes are refused
    // (this region's measures apply), Zhejiang's own are not; the hub answers, and they pass.
    let later = Timestamp::from_millis(now().as_millis() + (OTHER_REGIONS_KEYS_HOURS + 1) * 3_600_000);
    henan.clock.set(later);
    zhejiang.clock.set(later);
    let fresh = henan.service.tokens().issue_code_token(&worker).await.unwrap().token;
    other.follow().await.unwrap();
    let refused = other.tokens().verify_code_token(&fresh);
    assert!(matches!(refused, Err(VerifyError::StaleTrust { ref region, .. }) if region == "41"), "{refused:?}");
    let resident = register(&zhejiang, "330106198001011235").await;
    let own = other.tokens().issue_code_token(&resident).await.unwrap().token;
    assert!(other.tokens().verify_code_token(&own).is_ok(), "this region's own codes");
    zhejiang.service.national().heard_from_hub().await.unwrap();
    other.follow().await.unwrap();
    assert!(other.tokens().verify_code_token(&fresh).is_ok());

    // Zhejiang's officers end the recognition in a minute, on the leader: the other server
    // follows at its tick, though the hub published nothing.
    let national = zhejiang.service.national();
    let (a, b) = (officer(&zhejiang, "33", "ends-a").await, officer(&zhejiang, "33", "ends-b").await);
    let minute = |n: i64| Timestamp::from_millis(later.as_millis() + n * 60_000);
    national.propose_confirmation(&a, "41", Some(minute(1))).await.unwrap();
    national.approve_confirmation(&b, "41").await.unwrap();
    assert!(other.national().trust().recognises("33", "41", minute(2)), "not followed yet");
    other.follow().await.unwrap();
    let trust = other.national().trust();
    assert!(trust.recognises("33", "41", later) && !trust.recognises("33", "41", minute(2)));
}

/// Seed 004: the national platform publishes every county's risk level, filled by the
/// provinces; seed 001: test reports are checked across regions. Henan designates one of
/// its districts; the hub lists the level; a Zhejiang resident who stayed there turns
/// yellow under Zhejiang's own rule (Y2), explained as Henan's; the negative test the
/// resident takes in Henan, which shares its tests, clears it in Zhejiang.
#[tokio::test]
async fn a_county_level_and_a_test_taken_in_henan_are_judged_by_zhejiangs_rules() {
    let hub_seed = [5; 32];
    let hub = node("00", Role::Hub, hub_seed).await;
    let henan = region("41", hub_seed).await;
    let henan = Node { service: henan.service.sharing_test_results(true), ..henan };
    let zhejiang = region("33", hub_seed).await;
    const TRAVELLER: &str = "330106198502031234";

    // A Zhejiang resident's trip to Zhengzhou's Jinshui district, as the operators saw it.
    let traveller = register(&zhejiang, TRAVELLER).await;
    report_as(
        Department::Telecom,
        &zhejiang,
        serde_json::json!({"id": "trip-1", "type": "stay", "id_type": "resident_id", "id_number": TRAVELLER,
                           "area": "410105", "from": "2022-04-28T09:00:00+08:00", "to": "2022-04-30T18:00:00+08:00"}),
    )
    .await;
    assert_eq!(zhejiang.service.codes().current_code(&traveller).await.unwrap().colour, Colour::Green);

    // Henan designates its district, and (its own measure) a Zhejiang one: only its own
    // area's level goes to the hub.
    let designate = |id: &str, area: &str, level: &str| {
        serde_json::json!({"id": id, "type": "area_risk", "area": area, "level": level, "escalate_to_red": false})
            .to_string()
    };
    let rows = [designate("des-41-1", "410105", "medium"), designate("des-41-2", "330106", "high")];
    let designated = henan.service.evidence().ingest(&rows, AtPolicy::ServerClock, "designation").await.unwrap();
    assert_eq!(designated.accepted, 2, "{designated:?}");
    let queued = henan.service.national().queued_submissions(10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(queued[0].line.contains("410105"));
    sync(&henan, "41", &hub).await.unwrap();
    let levels = hub.service.national().risk_levels().await.unwrap();
    assert_eq!(levels.len(), 1, "{levels:?}");
    assert_eq!(
        (levels[0].area.as_str(), levels[0].level, levels[0].region.as_str(), levels[0].since),
        ("410105", healthcode_domain::RiskLevel::Medium, "41", now())
    );
    // A region publishes the levels of its own areas only.
    let foreign =
        r#"{"kind":"risk_level","id":"z-1","area":"410105","level":"high","since":"2022-05-01T08:00:00+08:00"}"#;
    let answer = hub.service.national().submit("33", "region-33", &[foreign.to_string()]).await.unwrap();
    assert_eq!((answer.rejected, answer.rows[0].field.as_deref()), (1, Some("area")), "{answer:?}");
    // Nor reaches back over past travellers: a level takes effect when designated.
    let backdated =
        r#"{"kind":"risk_level","id":"b-1","area":"410105","level":"high","since":"2022-04-20T08:00:00+08:00"}"#;
    let answer = hub.service.national().submit("41", "region-41", &[backdated.to_string()]).await.unwrap();
    assert_eq!((answer.rejected, answer.rows[0].field.as_deref()), (1, Some("since")), "{answer:?}");

    // Zhejiang syncs: the level is a designation here, judged by Zhejiang's rules.
    sync(&zhejiang, "33", &hub).await.unwrap();
    let code = zhejiang.service.codes().current_code(&traveller).await.unwrap();
    assert_eq!(code.colour, Colour::Yellow, "{code:?}");
    let evidence: Vec<_> = code.reasons.iter().flat_map(|r| &r.evidence).collect();
    assert!(
        evidence.iter().any(|e| e.kind == "area_risk" && e.reported_by_region.as_deref() == Some("41")),
        "{evidence:?}"
    );
    assert_eq!(origins_of(&zhejiang, &traveller).await, ["national:41:area_risk"]);
    // Received levels never travel back, and Henan does not take its own level twice.
    assert!(zhejiang.service.national().queued_submissions(10).await.unwrap().is_empty());
    sync(&henan, "41", &hub).await.unwrap();

    // The traveller is tested in Henan after the trip: negative. Henan shares its tests.
    set_clocks(&[&hub, &henan, &zhejiang], Timestamp::from_millis(now().as_millis() + 3_600_000));
    report(
        &henan,
        serde_json::json!({"id": "na-9", "type": "test", "id_type": "resident_id", "id_number": TRAVELLER,
                           "result": "negative", "sampled_at": "2022-05-01T08:30:00+08:00"}),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;
    let code = zhejiang.service.codes().current_code(&traveller).await.unwrap();
    assert_eq!(code.colour, Colour::Green, "the test taken in Henan counts in Zhejiang: {code:?}");

    // A region that does not share its tests keeps its negative ones.
    report(
        &zhejiang,
        serde_json::json!({"id": "zj-na-1", "type": "test", "id_type": "resident_id", "id_number": TRAVELLER,
                           "result": "negative", "sampled_at": "2022-05-01T09:00:00+08:00"}),
    )
    .await;
    assert!(zhejiang.service.national().queued_submissions(10).await.unwrap().is_empty());
}

fn organiser() -> healthcode_store::Account {
    healthcode_store::Account {
        id: "a-rail".into(),
        username: "rail-charter".into(),
        password_hash: None,
        role: healthcode_domain::Role::GroupOrganiser,
        jurisdiction: None,
        department: None,
        created_at: now(),
        disabled: false,
        acting_with_key_issued_at: None,
    }
}

fn member(number: &str, name: &str, code: &str) -> healthcode_service::GroupMember {
    healthcode_service::GroupMember {
        id_type: "resident_id".into(),
        id_number: number.into(),
        name: name.into(),
        code: code.into(),
    }
}

/// Seed 004's return-to-work trains: an operator checks its roster of Henan workers before
/// they reach Zhejiang. Each member's colour is what Zhejiang's rules make of what the
/// hub published about them (a close contact Henan reported, parked in Zhejiang until the
/// worker comes) and of the county they boarded in; the operator learns colours, not
/// reasons, and nobody is registered. A member without their own code in hand is refused.
#[tokio::test]
async fn an_operator_checks_a_return_to_work_train_and_learns_each_workers_colour_in_zhejiang() {
    let hub_seed = [4; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    for (code, region) in [("41", &henan), ("33", &zhejiang)] {
        let root = hex(&region.service.tokens().key_ring().root_public());
        hub.service.national().register_region(code, &root).await.unwrap();
        publish_keys(&hub, code, region).await;
    }
    hub.service.national().agree("33", "41", now(), None).await.unwrap();
    confirm(&zhejiang, "33", "41", &hub).await;

    const WORKERS: [(&str, &str); 3] =
        [("410102198801011019", "王五"), ("41010219880101202X", "赵六"), ("410102198801013030", "孙七")];
    let mut codes = Vec::new();
    for (number, name) in WORKERS {
        let (person, _) = henan.service.residents().register(registration(number, Some(name))).await.unwrap();
        codes.push(henan.service.tokens().issue_code_token(&person.id).await.unwrap().token);
    }
    // Henan reports the second worker as a close contact, and designates Jinshui district.
    report(
        &henan,
        serde_json::json!({"id": "cc-w2", "type": "close_contact", "id_type": "resident_id", "id_number": WORKERS[1].0,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    let jinshui = serde_json::json!({"id": "des-jinshui", "type": "area_risk", "area": "410105", "level": "medium"});
    henan.service.evidence().ingest(&[jinshui.to_string()], AtPolicy::ServerClock, "designation").await.unwrap();
    relay(&hub, &henan, &zhejiang).await;

    // A Zhejiang resident travels home on the same train, with a Zhejiang code.
    const RETURNING: &str = "330106199005055053";
    let (returning, _) = zhejiang.service.residents().register(registration(RETURNING, Some("周八"))).await.unwrap();
    let returning_code = zhejiang.service.tokens().issue_code_token(&returning.id).await.unwrap().token;

    let groups = zhejiang.service.groups();
    let roster = |origin: &str, members: Vec<healthcode_service::GroupMember>| healthcode_service::Roster {
        reference: "G1234 2022-05-01".into(),
        origin: healthcode_domain::AreaCode::parse(origin).unwrap(),
        departed_at: None,
        members,
    };
    let members = vec![
        member(WORKERS[0].0, WORKERS[0].1, &codes[0]),
        member(WORKERS[1].0, WORKERS[1].1, &codes[1]),
        // The third worker's papers with the first worker's code: refused.
        member(WORKERS[2].0, WORKERS[2].1, &codes[0]),
        member("410102198801019999", "钱九", &codes[2]),
        member(RETURNING, "周八", &returning_code),
        // Someone else's papers with the returning resident's Zhejiang code.
        member("330106198001011235", "周八", &returning_code),
    ];
    let report = groups.check(&organiser(), roster("410102", members)).await.unwrap();
    let outcome = |row: usize| &report.members[row - 1];
    assert_eq!(outcome(1).colour, Some(Colour::Green), "{report:?}");
    assert_eq!(outcome(2).colour, Some(Colour::Red), "the close contact Henan reported: {report:?}");
    assert_eq!(outcome(2).decision.as_ref().unwrap().outcome, healthcode_domain::AccessOutcome::Deny);
    assert_eq!(
        (outcome(2).shown.as_ref().unwrap().issuer.as_str(), outcome(2).shown.as_ref().unwrap().colour),
        ("41", Colour::Green),
        "the code shown at boarding was issued before the report: green at home, red here, from the record"
    );
    assert_eq!((outcome(3).colour, outcome(3).field.as_deref()), (None, Some("name")), "{report:?}");
    assert_eq!(outcome(4).field.as_deref(), Some("id_number"), "{report:?}");
    assert_eq!(outcome(5).colour, Some(Colour::Green), "{report:?}");
    assert_eq!(outcome(6).field.as_deref(), Some("code"), "{report:?}");
    assert_eq!((report.checked, report.refused), (3, 3));
    let said = serde_json::to_string(&report).unwrap();
    assert!(!said.contains("close_contact") && !said.contains("cc-w2"), "colours, not reasons: {said}");
    // Nobody was registered, nothing stored about the workers; the returning resident sees
    // the check in their access log.
    let worker = zhejiang.service.person_id_for(&document(WORKERS[1].0));
    assert!(healthcode_store::EvidenceStore::persons(zhejiang.store.as_ref(), &[worker]).await.unwrap().is_empty());
    let accesses = zhejiang.service.residents().accesses(&returning.id).await.unwrap();
    assert!(accesses.iter().any(|a| a.actor == "rail-charter" && a.purpose.contains("G1234")), "{accesses:?}");

    // The same workers boarding in Jinshui, which Henan designated medium: yellow (Y2),
    // by Zhejiang's rule, from the level the hub brought.
    let report = groups
        .check(&organiser(), roster("410105", vec![member(WORKERS[0].0, WORKERS[0].1, &codes[0])]))
        .await
        .unwrap();
    assert_eq!(report.members[0].colour, Some(Colour::Yellow), "{report:?}");

    // One worker's code is not a key to everyone whose name masks the same (王五 and 王六
    // are both 王*): shown once with papers, it is refused with others in a later roster.
    let another_wang = "410102196001010019";
    let report =
        groups.check(&organiser(), roster("410102", vec![member(another_wang, "王六", &codes[0])])).await.unwrap();
    assert_eq!(report.members[0].field.as_deref(), Some("code"), "{report:?}");

    // The province and auditors see who checked which roster, without persons.
    let checks = groups.checks().await.unwrap();
    assert_eq!(checks.len(), 3);
    assert!(checks.iter().all(|c| c.organiser == "rail-charter" && c.reference == "G1234 2022-05-01"));
    assert!(!serde_json::to_string(&checks).unwrap().contains("410102198801011019"));
    // A roster too large, or without a reference, is refused whole.
    let mut empty = roster("410102", Vec::new());
    assert!(groups.check(&organiser(), empty.clone()).await.is_err());
    empty.members = vec![member(WORKERS[0].0, WORKERS[0].1, &codes[0])];
    empty.reference = " ".into();
    assert!(groups.check(&organiser(), empty).await.is_err());
}

// ---- A stolen region key (issue 15, failure modes) ----

/// May 1st, 2022 at `hour:minute` in Beijing.
fn on_may_1st(time: &str) -> Timestamp {
    Timestamp::parse(&format!("2022-05-01T{time}:00+08:00")).unwrap()
}

fn secs(at: Timestamp) -> i64 {
    at.as_millis() / 1000
}

fn national_id(number: &str) -> String {
    Pseudonymiser::new(b"x".to_vec()).with_national_key(NATIONAL_KEY).national_id(&document(number)).unwrap()
}

/// A close contact as a line of Henan's submission, about the holder of `number`.
fn contact_line(id: &str, number: &str) -> String {
    format!(
        r#"{{"kind":"key_person","id":"{id}","person":"{}","status":"close_contact","since":"2022-04-30T20:00:00+08:00"}}"#,
        national_id(number)
    )
}

/// Henan's ring at 11:00 on 1 May: a new key signs, and `kid`, stolen at 09:00, is revoked
/// from then on.
fn revoked_from_nine(stolen: &KeyRing, kid: &healthcode_token::KeyId) -> KeyRing {
    let mut ring = stolen.clone();
    ring.rotate(secs(on_may_1st("11:00")));
    ring.revoke_compromised(&kid.to_string(), secs(on_may_1st("11:00")), Some(secs(on_may_1st("09:00")))).unwrap();
    ring
}

/// Sets every node's clock to `at`.
fn set_clocks(nodes: &[&Node], at: Timestamp) {
    for node in nodes {
        node.clock.set(at);
    }
}

/// A hub (holding the hub's key) that appends an entry of its own choosing to its log and
/// signs it: its log stays consistent, so regions follow it as ever.
async fn hub_appends(hub: &Node, entry: healthcode_log::Entry) {
    hub.service.log().record(&[entry]).await.unwrap();
    hub.service.log().sign_checkpoint().await.unwrap();
}

async fn alarms_of_kind(region: &Node, kind: &str) -> Vec<healthcode_store::NewAlarm> {
    let alarms = region.service.alarms().list(0, 100).await.unwrap();
    alarms.into_iter().map(|a| a.alarm).filter(|a| a.kind == kind).collect()
}

/// The Zhengzhou abuse across regions: Henan's record-signing key is stolen at 09:00, and
/// the thief (with Henan's access to the hub) reports Zhejiang residents as close contacts
/// at 10:00. Zhejiang takes the records in (red) or keeps them for persons it does not know
/// yet. At 11:00 Henan revokes the key from 09:00 on. At Zhejiang's next sync, what the key
/// signed from 09:00 on is withdrawn — the forged contact retracted in the resident's log
/// and the colour back, the parked one dropped — while Henan's genuine contact of 08:00
/// stays. A hub that then replays Henan's older list, or publishes another forged record
/// backdated to before the theft, changes nothing.
#[tokio::test]
async fn records_signed_by_a_stolen_key_after_its_theft_are_withdrawn_and_earlier_ones_stay() {
    let hub_seed = [11; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    const GENUINE: &str = "330106198602022239";
    const VICTIM: &str = "330106198501011231";
    const STRANGER: &str = "330106198703033236";

    // 08:00: Henan reports a genuine close contact, a Zhejiang resident who has not
    // registered there yet: the record waits, then becomes evidence when they do.
    report(
        &henan,
        serde_json::json!({"id": "cc-genuine", "type": "close_contact", "id_type": "resident_id",
                           "id_number": GENUINE, "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;
    let genuine = register(&zhejiang, GENUINE).await;
    assert_eq!(zhejiang.service.codes().current_code(&genuine).await.unwrap().colour, Colour::Red);

    // 10:00: the thief signs with the key stolen at 09:00 and submits as Henan: a contact
    // for a Zhejiang resident, one for a person Zhejiang does not know, and a risk level.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("10:00"));
    let stolen = (*henan.service.tokens().key_ring()).clone();
    let kid = stolen.signing_key().unwrap().key_id();
    let forged = vec![
        contact_line("f-victim", VICTIM),
        contact_line("f-stranger", STRANGER),
        r#"{"kind":"risk_level","id":"f-level","area":"410105","level":"high","since":"2022-05-01T10:00:00+08:00"}"#
            .to_string(),
    ];
    let signed = henan.service.national().sign_lines(&forged, &stolen);
    assert_eq!(hub.service.national().submit("41", "region-41", &signed).await.unwrap().accepted, 3);
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!((received.parked, received.withdrawn), (2, 0), "{received:?}");
    let victim = register(&zhejiang, VICTIM).await;
    assert_eq!(zhejiang.service.codes().current_code(&victim).await.unwrap().colour, Colour::Red);
    assert_eq!(origins_of(&zhejiang, &victim).await, ["national:41:close_contact"]);

    // 11:00: Henan notices, revokes the key from 09:00 on and signs with a new one.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("11:00"));
    let before_revocation = henan.service.tokens().key_ring().signed_trust_list().to_json();
    henan.service.tokens().set_key_ring(revoked_from_nine(&stolen, &kid));
    publish_keys(&hub, "41", &henan).await;
    // The hub refuses what the thief signs now: it is dated by the hub, after 09:00.
    let late = henan.service.national().sign_lines(&[contact_line("f-late", VICTIM)], &stolen);
    let answer = hub.service.national().submit("41", "region-41", &late).await.unwrap();
    assert_eq!((answer.rejected, answer.rows[0].field.as_deref()), (1, Some("signature")), "{answer:?}");

    // Zhejiang's next sync takes the list in and withdraws what the key signed since 09:00.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("11:30"));
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(
        (received.withdrawn, received.dropped, received.not_withdrawn),
        (1, 1, 1),
        "the victim's contact withdrawn, the stranger's dropped, the risk level named: {received:?}"
    );
    let code = zhejiang.service.codes().current_code(&victim).await.unwrap();
    assert_eq!(code.colour, Colour::Green, "{code:?}");
    assert_eq!(code.retracted.len(), 1, "{code:?}");
    // The withdrawal and the colour it changed are in the victim's log, which they can prove.
    let logged = zhejiang.service.residents().person_log(&victim).await.unwrap().entries;
    let retraction = logged.iter().find_map(|e| match &e.entry {
        healthcode_log::Entry::Retraction(r) => Some(r),
        _ => None,
    });
    let retraction = retraction.unwrap_or_else(|| panic!("no retraction in the victim's log: {logged:?}"));
    assert_eq!(retraction.event_type, "close_contact");
    assert!(retraction.by.contains("region 41"), "{retraction:?}");
    let colours: Vec<&str> = logged
        .iter()
        .filter_map(|e| match &e.entry {
            healthcode_log::Entry::ColourChange(c) => Some(c.new_colour.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(colours, ["red", "green"]);
    // Henan's genuine record, signed before the theft, stays.
    let code = zhejiang.service.codes().current_code(&genuine).await.unwrap();
    assert_eq!(code.colour, Colour::Red, "{code:?}");
    assert!(code.retracted.is_empty());
    // An auditor sees what was done, and what could not be: the forged risk level.
    let withdrawn = alarms_of_kind(&zhejiang, "national_records_withdrawn").await;
    assert_eq!(withdrawn.len(), 1, "{withdrawn:?}");
    assert_eq!(withdrawn[0].jurisdiction, "33");
    assert!(withdrawn[0].log_index.is_some(), "in Zhejiang's log");
    for said in [&kid.to_string(), "compromised", "1 of its records withdrawn", "1 parked", "f-level"] {
        assert!(withdrawn[0].detail.contains(said), "{said}: {}", withdrawn[0].detail);
    }
    // The stranger's forged record is gone: registering later finds nothing of it.
    let stranger = register(&zhejiang, STRANGER).await;
    let code = zhejiang.service.codes().current_code(&stranger).await.unwrap();
    assert_eq!(code.colour, Colour::Green, "{code:?}");

    // Applying the lists again (hourly) finds nothing more to do.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("13:00"));
    zhejiang.service.national().apply_retention().await.unwrap();
    assert_eq!(alarms_of_kind(&zhejiang, "national_records_withdrawn").await.len(), 1);
    assert_eq!(zhejiang.service.codes().current_code(&victim).await.unwrap().retracted.len(), 1);

    // A hub that publishes Henan's older list again, to bring the key back: not taken.
    hub_appends(
        &hub,
        healthcode_log::Entry::NationalTrustList(healthcode_log::NationalTrustList {
            at: on_may_1st("13:00").as_millis(),
            region: "41".into(),
            signed_list: before_revocation,
        }),
    )
    .await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!((received.admitted, received.withdrawn, received.dropped), (0, 0, 0), "{received:?}");
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 100).await.unwrap();
    assert!(refused.iter().any(|r| r.reason.contains("not newer")), "{refused:?}");
    let held = zhejiang.service.national().trust();
    assert!(held.regions["41"].verifier.trust_list().find(kid).unwrap().revoked, "the key stays revoked");
    assert_eq!(zhejiang.service.codes().current_code(&victim).await.unwrap().colour, Colour::Green);

    // A hub that publishes, after the revocation, another record the thief signed, giving
    // it a time before the theft: the signature would hold by the time alone, but no honest
    // hub publishes a revoked key's record after the list that revoked it.
    let again = henan.service.national().sign_lines(&[contact_line("f-backdated", VICTIM)], &stolen);
    let record = healthcode_service::national::Submission::parse(&again[0]).unwrap().to_record(
        "41",
        &national_id(VICTIM),
        on_may_1st("08:30"),
    );
    hub_appends(&hub, healthcode_log::Entry::NationalRecord(record)).await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(received.admitted, 0, "{received:?}");
    assert_eq!(zhejiang.service.codes().current_code(&victim).await.unwrap().colour, Colour::Green);
    assert_eq!(alarms_of_kind(&zhejiang, "hub_forged_record").await.len(), 1);
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 100).await.unwrap();
    assert!(refused.iter().any(|r| r.reason.contains("cannot be believed")), "{refused:?}");
}

/// Only a region's own newer list, opened with the root registered for it, withdraws its
/// records here: another region's list naming its key as revoked does nothing, nor does a
/// list in its name signed by another root. Records taken in before Zhejiang knew any list
/// of Henan's (the hub did not check them either) are judged by the key they name when the
/// first list comes: signed before the theft, they stay; after, they go; unsigned (from
/// before Henan signed anything), they stay, as no revocation speaks of them.
#[tokio::test]
async fn only_a_regions_own_list_withdraws_its_records_and_records_from_before_any_list_are_judged_by_their_key() {
    let hub_seed = [12; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    const GENUINE: &str = "330106198804044233";
    const VICTIM: &str = "330102199105055231";
    const UNSIGNED: &str = "330106198602022239";
    let genuine = register(&zhejiang, GENUINE).await;
    let victim = register(&zhejiang, VICTIM).await;
    let unsigned = register(&zhejiang, UNSIGNED).await;

    // Henan has not published its keys: the hub checks nothing, nor does Zhejiang.
    let key = henan.service.tokens().key_ring();
    let stolen = (*key).clone();
    let kid = stolen.signing_key().unwrap().key_id();
    let unsigned_line = contact_line("old-unsigned", UNSIGNED);
    assert_eq!(hub.service.national().submit("41", "region-41", &[unsigned_line]).await.unwrap().accepted, 1);
    let signed = henan.service.national().sign_lines(&[contact_line("genuine", GENUINE)], &key);
    assert_eq!(hub.service.national().submit("41", "region-41", &signed).await.unwrap().accepted, 1);
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("10:00"));
    let forged = henan.service.national().sign_lines(&[contact_line("forged", VICTIM)], &stolen);
    assert_eq!(hub.service.national().submit("41", "region-41", &forged).await.unwrap().accepted, 1);
    assert_eq!(sync(&zhejiang, "33", &hub).await.unwrap().admitted, 3);
    for person in [&genuine, &victim, &unsigned] {
        assert_eq!(colour_of(&zhejiang, person).await, Colour::Red);
    }

    // Shandong, a registered region, publishes a list of its own that names Henan's key as
    // revoked: Shandong speaks for Shandong's records only.
    let shandong_root = healthcode_token::SigningKey::from_seed([37; 32]);
    hub.service.national().register_region("37", &hex(&shandong_root.public())).await.unwrap();
    let mut henans_key = healthcode_token::TrustedKey::new(stolen.signing_key().unwrap().public(), 0);
    henans_key.revoked = true;
    let shandong = healthcode_token::TrustList {
        region: "37".into(),
        sequence: 1,
        issued_at: secs(on_may_1st("10:00")),
        keys: vec![henans_key.clone()],
    };
    let list = healthcode_token::SignedTrustList::sign(&shandong_root, &shandong).to_json();
    hub.service.national().publish_trust_list("37", &list).await.unwrap();
    // A hub that publishes a list in Henan's name (Henan's root is registered now) signed
    // by Shandong's root: it does not open, and is not used.
    let henan_root = hex(&henan.service.tokens().key_ring().root_public());
    hub.service.national().register_region("41", &henan_root).await.unwrap();
    let in_henans_name = healthcode_token::TrustList { region: "41".into(), sequence: 9_999_999_999, ..shandong };
    hub_appends(
        &hub,
        healthcode_log::Entry::NationalTrustList(healthcode_log::NationalTrustList {
            at: on_may_1st("10:00").as_millis(),
            region: "41".into(),
            signed_list: healthcode_token::SignedTrustList::sign(&shandong_root, &in_henans_name).to_json(),
        }),
    )
    .await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!((received.withdrawn, received.dropped, received.not_withdrawn), (0, 0, 0), "{received:?}");
    for person in [&genuine, &victim, &unsigned] {
        assert_eq!(colour_of(&zhejiang, person).await, Colour::Red, "nobody but Henan withdraws Henan's records");
    }
    assert!(alarms_of_kind(&zhejiang, "national_records_withdrawn").await.is_empty());

    // Henan's first list, revoking the key from 09:00: the record signed after goes, the
    // one before stays, and so does the unsigned one.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("11:00"));
    henan.service.tokens().set_key_ring(revoked_from_nine(&stolen, &kid));
    publish_keys(&hub, "41", &henan).await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!((received.withdrawn, received.dropped, received.not_withdrawn), (1, 0, 0), "{received:?}");
    assert_eq!(colour_of(&zhejiang, &victim).await, Colour::Green);
    assert_eq!(colour_of(&zhejiang, &genuine).await, Colour::Red);
    assert_eq!(colour_of(&zhejiang, &unsigned).await, Colour::Red);
}

/// A record a hub appends itself, unsigned, in the name `region` gives it.
fn hub_record(region: &str, id: &str, kind: &str, person: &str) -> healthcode_log::NationalRecord {
    healthcode_log::NationalRecord {
        at: now().as_millis(),
        region: region.into(),
        id: id.into(),
        kind: kind.into(),
        person: person.into(),
        status: None,
        since: None,
        retracts: None,
        reason: None,
        area: None,
        level: None,
        result: None,
        venue: None,
        until: None,
        kid: None,
        signature: None,
    }
}

/// A hub that makes up regions or registers another root for a real one speaks for
/// nobody: a retraction in the name of `41-cc` (whose records would read as Henan's
/// `hc-nat-41-cc-…`), a close contact in the hub's own `00`, another region's level of a
/// Zhejiang district, and — after registering a root of its own for Henan — a list and a
/// record signed under it, and an unsigned record after Henan's keys: none is used, each
/// is in the rejection log with its reason, and the alarms say what the hub did.
#[tokio::test]
async fn a_hub_cannot_speak_in_a_made_up_region_nor_replace_a_regions_root() {
    use base64::Engine as _;
    let hub_seed = [13; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    const CONTACT: &str = "330106198602022239";
    const TARGET: &str = "330106198501011231";
    let contact = register(&zhejiang, CONTACT).await;
    let target = register(&zhejiang, TARGET).await;
    report(
        &henan,
        serde_json::json!({"id": "cc-7", "type": "close_contact", "id_type": "resident_id", "id_number": CONTACT,
                           "exposure_at": "2022-04-30T20:00:00+08:00"}),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;
    assert_eq!(colour_of(&zhejiang, &contact).await, Colour::Red);

    let withdraw = healthcode_log::NationalRecord {
        retracts: Some("7".into()),
        reason: Some("made up".into()),
        ..hub_record("41-cc", "x-1", "retraction", &national_id(CONTACT))
    };
    let in_the_hubs_name = healthcode_log::NationalRecord {
        status: Some("confirmed".into()),
        since: Some(now().as_millis()),
        ..hub_record("00", "x-2", "key_person", &national_id(TARGET))
    };
    let level = healthcode_log::NationalRecord {
        area: Some("330106".into()),
        level: Some("high".into()),
        since: Some(now().as_millis()),
        ..hub_record("99", "x-3", "risk_level", "")
    };
    for record in [withdraw, in_the_hubs_name, level] {
        hub_appends(&hub, healthcode_log::Entry::NationalRecord(record)).await;
    }
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(received.admitted, 0, "{received:?}");
    assert_eq!(colour_of(&zhejiang, &contact).await, Colour::Red, "Henan's record stands");
    assert_eq!(colour_of(&zhejiang, &target).await, Colour::Green);
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 100).await.unwrap();
    let fields: Vec<Option<&str>> = refused.iter().map(|r| r.field.as_deref()).collect();
    assert_eq!(fields, [Some("region"), Some("region"), Some("area")], "{refused:?}");
    assert_eq!(alarms_of_kind(&zhejiang, "hub_forged_record").await.len(), 3);

    // The hub registers a root of its own for Henan, a list under it, and records.
    let impostor = healthcode_service::KeyRing::generate("41", secs(now()));
    hub_appends(
        &hub,
        healthcode_log::Entry::NationalRegion(healthcode_log::NationalRegion {
            at: now().as_millis(),
            region: "41".into(),
            root_key: base64::engine::general_purpose::STANDARD.encode(impostor.root_public()),
        }),
    )
    .await;
    hub_appends(
        &hub,
        healthcode_log::Entry::NationalTrustList(healthcode_log::NationalTrustList {
            at: now().as_millis(),
            region: "41".into(),
            signed_list: impostor.signed_trust_list().to_json(),
        }),
    )
    .await;
    let signed = henan.service.national().sign_lines(&[contact_line("x-4", TARGET)], &impostor);
    let signed = healthcode_service::national::Submission::parse(&signed[0]).unwrap().to_record(
        "41",
        &national_id(TARGET),
        now(),
    );
    hub_appends(&hub, healthcode_log::Entry::NationalRecord(signed)).await;
    let unsigned = healthcode_log::NationalRecord {
        status: Some("close_contact".into()),
        since: Some(now().as_millis()),
        ..hub_record("41", "x-5", "key_person", &national_id(TARGET))
    };
    hub_appends(&hub, healthcode_log::Entry::NationalRecord(unsigned)).await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(received.admitted, 0, "{received:?}");
    assert_eq!(colour_of(&zhejiang, &target).await, Colour::Green);
    assert_eq!(alarms_of_kind(&zhejiang, "hub_region_root_changed").await.len(), 1);
    let held = zhejiang.service.national().trust();
    assert_eq!(
        held.regions["41"].sequence,
        henan.service.tokens().key_ring().trust_list().sequence,
        "Henan's own list"
    );
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 100).await.unwrap();
    let fields: Vec<Option<&str>> = refused[3..].iter().map(|r| r.field.as_deref()).collect();
    assert_eq!(fields, [Some("root_key"), Some("signed_list"), Some("signature"), Some("signature")], "{refused:?}");
}

/// A close contact and its retraction published in one submission — Henan's correction
/// within minutes — reach Zhejiang in one batch: the retraction is taken in after its
/// record, for a resident and for a visitor whose records waited until they registered.
#[tokio::test]
async fn a_record_and_its_retraction_in_one_batch_leave_nothing() {
    let hub_seed = [14; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    const RESIDENT: &str = "330106198602022239";
    let resident = register(&zhejiang, RESIDENT).await;
    for (number, n) in [(RESIDENT, 1), (VISITOR, 2)] {
        report(
            &henan,
            serde_json::json!({"id": format!("cc-{n}"), "type": "close_contact", "id_type": "resident_id",
                               "id_number": number, "exposure_at": "2022-04-30T20:00:00+08:00"}),
        )
        .await;
        report(
            &henan,
            serde_json::json!({"id": format!("r-{n}"), "type": "retraction", "id_type": "resident_id",
                               "id_number": number, "retracts": format!("cc-{n}"),
                               "reason": "another person of the same name"}),
        )
        .await;
    }
    assert_eq!(henan.service.national().queued_submissions(10).await.unwrap().len(), 4);
    let published = hub.service.log().size().await.unwrap();
    relay(&hub, &henan, &zhejiang).await;
    assert_eq!(hub.service.log().size().await.unwrap(), published + 4, "one submission");
    let code = zhejiang.service.codes().current_code(&resident).await.unwrap();
    assert_eq!((code.colour, code.retracted.len()), (Colour::Green, 1), "{code:?}");

    let visitor = register(&zhejiang, VISITOR).await;
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert_eq!((code.colour, code.retracted.len()), (Colour::Green, 1), "{code:?}");
    let refused = zhejiang.service.evidence().rejections(&auditor(), 0, 100).await.unwrap();
    assert!(refused.is_empty(), "{refused:?}");
}

/// What ends a record travels like the record: a suspected case Henan excludes, a contact
/// it clears, turn green again in Zhejiang, by Zhejiang's rules.
#[tokio::test]
async fn an_exclusion_and_a_clearance_travel_like_the_records_they_end() {
    let hub_seed = [15; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    const SUSPECT: &str = "330106198602022239";
    const CONTACT: &str = "330106198501011231";
    let suspect = register(&zhejiang, SUSPECT).await;
    let contact = register(&zhejiang, CONTACT).await;
    let row = |id: &str, number: &str, body: serde_json::Value| {
        let mut row = serde_json::json!({"id": id, "id_type": "resident_id", "id_number": number});
        row.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        row
    };
    report(&henan, row("d-1", SUSPECT, serde_json::json!({"type": "diagnosis", "status": "suspected"}))).await;
    report(
        &henan,
        row("cc-1", CONTACT, serde_json::json!({"type": "close_contact", "exposure_at": "2022-04-30T20:00:00+08:00"})),
    )
    .await;
    relay(&hub, &henan, &zhejiang).await;
    assert_eq!(
        (colour_of(&zhejiang, &suspect).await, colour_of(&zhejiang, &contact).await),
        (Colour::Red, Colour::Red)
    );

    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("12:00"));
    report(&henan, row("d-2", SUSPECT, serde_json::json!({"type": "diagnosis", "status": "excluded"}))).await;
    report(&henan, row("cl-1", CONTACT, serde_json::json!({"type": "contact_cleared"}))).await;
    relay(&hub, &henan, &zhejiang).await;
    assert_eq!(
        (colour_of(&zhejiang, &suspect).await, colour_of(&zhejiang, &contact).await),
        (Colour::Green, Colour::Green)
    );
    assert_eq!(
        origins_of(&zhejiang, &suspect).await,
        ["national:41:diagnosis"],
        "the change to red names Henan's record"
    );
}

/// A Henan venue registered, and its current venue code.
async fn henan_venue(henan: &Node, name: &str) -> (healthcode_store::VenueRecord, String) {
    let new = healthcode_service::NewVenue {
        name: name.into(),
        category: healthcode_domain::VenueCategory::Supermarket,
        area: Some(healthcode_domain::AreaCode::parse("410105").unwrap()),
    };
    let venue = henan.service.venues().register(new).await.unwrap().venue;
    let token = henan.service.tokens().issue_venue_token(&venue).unwrap().token;
    (venue, token)
}

/// Path 1 at venues: Zhejiang residents check in at a Henan supermarket with Zhejiang's
/// app; the visit stays in Zhejiang. A Henan case was there; two Henan officers trace the
/// case and publish the case's visit through the hub (venue and window, nobody named);
/// Zhejiang finds the resident who was there within the window among its own check-ins
/// and turns them into a close contact reported by Henan, judged by its own rules. The
/// resident who came hours later stays green, and Henan's retraction of the exposure
/// travels too.
#[tokio::test]
async fn a_visitor_checks_in_at_a_henan_venue_with_zhejiangs_app_and_henans_traced_case_reaches_them() {
    const CASE: &str = "410105198001011239";
    let hub_seed = [11; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    let (venue, token) = henan_venue(&henan, "河南超市").await;
    let (_, elsewhere_token) = henan_venue(&henan, "另一家超市").await;
    let (early, late, other) = (
        register(&zhejiang, "33010619900101123X").await,
        register(&zhejiang, "330106199001011248").await,
        register(&zhejiang, "330106199001011256").await,
    );
    sync(&zhejiang, "33", &hub).await.unwrap();

    // Henan's keys are known in Zhejiang, but Henan does not recognise Zhejiang's codes
    // yet: the app refuses, and says what to do instead.
    let refused = zhejiang.service.doors().check_in_by_scan(&early, &token).await.unwrap_err();
    assert!(refused.to_string().contains("convert your code"), "{refused}");
    let root = hex(&zhejiang.service.tokens().key_ring().root_public());
    hub.service.national().register_region("33", &root).await.unwrap();
    hub.service.national().agree("41", "33", now(), None).await.unwrap();
    sync(&zhejiang, "33", &hub).await.unwrap();

    // 08:00: the case and the early visitor at the supermarket, another at another shop.
    let case = register(&henan, CASE).await;
    henan.service.doors().check_in_by_scan(&case, &token).await.unwrap();
    let answer = zhejiang.service.doors().check_in_by_scan(&early, &token).await.unwrap();
    assert_eq!(
        (answer.venue.as_str(), answer.venue_region.as_deref(), answer.colour),
        (venue.id.as_str(), Some("41"), Colour::Green),
        "{answer:?}"
    );
    zhejiang.service.doors().check_in_by_scan(&other, &elsewhere_token).await.unwrap();
    // A Henan venue code is no Zhejiang venue: nothing of the visit reaches Henan's check-ins.
    let day = Timestamp::from_millis(now().as_millis() + 86_400_000);
    let at_henan =
        healthcode_store::DoorStore::checkins_at_venue(&*henan.store, &venue.id, Timestamp::from_millis(0), day, 100)
            .await
            .unwrap();
    assert_eq!(at_henan.iter().map(|c| &c.checkin.person).collect::<Vec<_>>(), [&case]);
    // 11:00: the late visitor, with the code posted then.
    let eleven = Timestamp::from_millis(now().as_millis() + 3 * 3_600_000);
    set_clocks(&[&hub, &henan, &zhejiang], eleven);
    let token_at_eleven = henan.service.tokens().issue_venue_token(&venue).unwrap().token;
    zhejiang.service.doors().check_in_by_scan(&late, &token_at_eleven).await.unwrap();

    // The next day the case tests positive; Henan traces the case.
    let next_day = Timestamp::from_millis(now().as_millis() + 86_400_000);
    set_clocks(&[&hub, &henan, &zhejiang], next_day);
    report(
        &henan,
        serde_json::json!({"id": "pos-1", "type": "test", "result": "positive", "id_type": "resident_id",
                           "id_number": CASE, "sampled_at": "2022-05-02T07:00:00+08:00"}),
    )
    .await;
    let (zhou, wu) = (officer(&henan, "41", "zhou").await, officer(&henan, "41", "wu.li").await);
    let governance = henan.service.governance();
    let from = Timestamp::from_millis(now().as_millis() - 3_600_000);
    let trace = governance.trace_contacts(&zhou, case.clone(), from, next_day, 30).await.unwrap();
    assert!(trace.contacts.is_empty(), "nobody of Henan's own was there: {trace:?}");
    assert_eq!(trace.visits.len(), 1, "the case's one visit");
    assert!(
        governance.confirm_trace(&zhou, &trace.id, &[], VisitsStep::Unchanged).await.is_err(),
        "nothing to confirm"
    );
    let early_withdrawal = VisitsStep::Withdraw("nothing was published".into());
    assert!(governance.confirm_trace(&zhou, &trace.id, &[], early_withdrawal).await.is_err(), "nothing to withdraw");
    let trace = governance.confirm_trace(&zhou, &trace.id, &[], VisitsStep::Publish).await.unwrap();
    assert!(trace.pending.as_ref().is_some_and(|p| p.publish_visits));
    // One officer alone publishes nothing.
    assert!(governance.approve_trace(&zhou, &trace.id).await.is_err(), "not the officer who confirmed");
    assert!(henan
        .service
        .national()
        .queued_submissions(100)
        .await
        .unwrap()
        .iter()
        .all(|q| !q.line.contains("venue_exposure")));
    governance.approve_trace(&wu, &trace.id).await.unwrap();
    assert!(governance.confirm_trace(&zhou, &trace.id, &[], VisitsStep::Publish).await.is_err(), "published once");

    let size = hub.service.log().size().await.unwrap();
    relay(&hub, &henan, &zhejiang).await;
    // What the hub published names the venue and the window, and nobody.
    let published = leaves(&hub, size, hub.service.log().size().await.unwrap()).await;
    let exposure = published
        .iter()
        .filter_map(|l| healthcode_log::Entry::from_leaf_bytes(l).ok())
        .find_map(|e| match e {
            healthcode_log::Entry::NationalRecord(r) if r.kind == "venue_exposure" => Some(r),
            _ => None,
        })
        .expect("the exposure is in the hub's log");
    assert_eq!(exposure.venue.as_deref(), Some(venue.id.as_str()));
    assert!(exposure.person.is_empty() && exposure.signature.is_some(), "{exposure:?}");
    assert_eq!(exposure.since, Some(now().as_millis() - 30 * 60_000));
    assert_eq!(exposure.until, Some(now().as_millis() + 30 * 60_000));
    let hub_text: String = published.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
    for person in [&early, &late, &other] {
        assert!(!hub_text.contains(person.as_str()), "no Zhejiang resident in the hub's log");
    }

    // Zhejiang found its own visitor: red by its own rules, reported by Henan.
    assert_ne!(colour_of(&zhejiang, &early).await, Colour::Green);
    assert_eq!(origins_of(&zhejiang, &early).await, ["national:41:close_contact"]);
    let code = zhejiang.service.codes().current_code(&early).await.unwrap();
    let evidence: Vec<_> = code.reasons.iter().flat_map(|r| &r.evidence).collect();
    assert!(evidence.iter().any(|e| e.reported_by_region.as_deref() == Some("41") && e.kind == "close_contact"));
    assert_eq!(colour_of(&zhejiang, &late).await, Colour::Green, "came hours after the case left");
    assert_eq!(colour_of(&zhejiang, &other).await, Colour::Green, "was at another shop");
    // Receiving the same entries again (another server's follower) adds nothing.
    assert_eq!(sync(&zhejiang, "33", &hub).await.unwrap().admitted, 0);

    // Zhejiang cannot withdraw Henan's exposure at the hub.
    let foreign = format!(r#"{{"kind":"retraction","id":"zj-r","retracts":"{}","reason":"not ours"}}"#, exposure.id);
    assert_eq!(hub.service.national().submit("33", "region-33", &[foreign]).await.unwrap().rejected, 1);
    // The case's test was another person's: the health department retracts it, and two
    // officers withdraw the published visit (the person is no case any more, which a
    // withdrawal does not ask); the correction travels.
    report(
        &henan,
        serde_json::json!({"id": "pos-1-r", "type": "retraction", "id_type": "resident_id", "id_number": CASE,
                           "retracts": "pos-1", "reason": "the sample was another person's"}),
    )
    .await;
    let withdraw = VisitsStep::Withdraw("the positive test was another person's".into());
    governance.confirm_trace(&zhou, &trace.id, &[], withdraw).await.unwrap();
    let approved = governance.approve_trace(&wu, &trace.id).await.unwrap();
    assert!(approved.confirmations.last().unwrap().withdraw_visits.is_some());
    let logged = leaves(&henan, 0, henan.service.log().size().await.unwrap()).await;
    let approvals: Vec<(Option<u64>, Option<u64>)> = logged
        .iter()
        .filter_map(|l| healthcode_log::Entry::from_leaf_bytes(l).ok())
        .filter_map(|e| match e {
            healthcode_log::Entry::TraceApproval(a) => Some((a.visits_published, a.visits_withdrawn)),
            _ => None,
        })
        .collect();
    assert_eq!(approvals, [(Some(1), None), (None, Some(1))], "Henan's log says what each approval did");
    relay(&hub, &henan, &zhejiang).await;
    let code = zhejiang.service.codes().current_code(&early).await.unwrap();
    assert_eq!((code.colour, code.retracted.len()), (Colour::Green, 1), "{code:?}");
    // A hub that publishes the old exposure again reaches nobody.
    hub_appends(&hub, healthcode_log::Entry::NationalRecord(exposure.clone())).await;
    sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!(colour_of(&zhejiang, &early).await, Colour::Green, "a replayed exposure is not used again");
}

/// A thief with Henan's stolen key publishes an exposure at a Henan shop in Henan's name:
/// the Zhejiang resident who was there turns red; once Henan revokes the key from the
/// theft on, Zhejiang withdraws what the exposure made.
#[tokio::test]
async fn an_exposure_signed_by_a_stolen_key_is_withdrawn_when_the_key_is_revoked() {
    let hub_seed = [12; 32];
    let (hub, henan, zhejiang) = hub_henan_zhejiang(hub_seed).await;
    register_henan_with_keys(&hub, &henan).await;
    let root = hex(&zhejiang.service.tokens().key_ring().root_public());
    hub.service.national().register_region("33", &root).await.unwrap();
    hub.service.national().agree("41", "33", now(), None).await.unwrap();
    let (venue, token) = henan_venue(&henan, "河南超市").await;
    let visitor = register(&zhejiang, "33010619900101123X").await;
    sync(&zhejiang, "33", &hub).await.unwrap();
    zhejiang.service.doors().check_in_by_scan(&visitor, &token).await.unwrap();

    // 10:00: the key stolen at 09:00 signs an exposure of the shop at 08:00.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("10:00"));
    let stolen = (*henan.service.tokens().key_ring()).clone();
    let kid = stolen.signing_key().unwrap().key_id();
    let line = healthcode_service::national::exchange::venue_exposure_line(
        "thief-1",
        &venue.id,
        on_may_1st("07:30"),
        on_may_1st("08:30"),
    );
    let signed = henan.service.national().sign_lines(&[line], &stolen);
    assert_eq!(hub.service.national().submit("41", "region-41", &signed).await.unwrap().accepted, 1);
    sync(&zhejiang, "33", &hub).await.unwrap();
    assert_ne!(colour_of(&zhejiang, &visitor).await, Colour::Green);

    // 11:00: Henan revokes the key from 09:00 on; Zhejiang's next sync withdraws it.
    set_clocks(&[&hub, &henan, &zhejiang], on_may_1st("11:00"));
    henan.service.tokens().set_key_ring(revoked_from_nine(&stolen, &kid));
    publish_keys(&hub, "41", &henan).await;
    let received = sync(&zhejiang, "33", &hub).await.unwrap();
    assert_eq!((received.withdrawn, received.not_withdrawn), (1, 0), "{received:?}");
    let code = zhejiang.service.codes().current_code(&visitor).await.unwrap();
    assert_eq!((code.colour, code.retracted.len()), (Colour::Green, 1), "{code:?}");
}
