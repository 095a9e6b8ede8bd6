use std::sync::{Arc, RwLock};

use healthcode_domain::{AreaCode, IdDocument, PersonId, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_store::Store;

use crate::{
    Accounts, Alarms, Clock, Codes, Coordination, Doors, Evidence, Governance, Overview, Pseudonymiser, Research,
    Residents, ServiceError, Tokens, TransparencyLog, Venues,
};

/// The region a code is issued for unless configured: Zhejiang's province code.
pub const DEFAULT_REGION: &str = "33";

/// The use cases of healthcode over one store: a thin root that opens the capabilities
/// and hands them out. Each capability holds only what it needs (its own store traits,
/// and the other capabilities it builds on); none of them, and nothing outside this
/// crate, reaches the store through the root. Cheap to share (`Arc`); every method takes
/// `&self`.
pub struct HealthService {
    clock: Arc<dyn Clock>,
    pseudonyms: Pseudonymiser,
    log: Arc<TransparencyLog>,
    codes: Arc<Codes>,
    evidence: Arc<Evidence>,
    tokens: Arc<Tokens>,
    doors: Doors,
    conversions: crate::Conversions,
    groups: crate::Groups,
    venues: Arc<Venues>,
    residents: Arc<Residents>,
    governance: Governance,
    accounts: Arc<Accounts>,
    alarms: Arc<Alarms>,
    coordination: Arc<Coordination>,
    overview: Overview,
    research: Research,
    national: Arc<crate::national::National>,
}

/// What a resident submits to register. Only what the code needs: the document (from
/// which the pseudonym is derived, and which is not kept) and the area of residence.
#[derive(Debug, Clone)]
pub struct Registration {
    pub document: IdDocument,
    pub residence_area: Option<AreaCode>,
    /// The name as on the document: masked (张*丰) in the clear for checkpoints, whole
    /// only sealed with the person's data key.
    pub name: Option<String>,
    /// A mobile number (checked by `check_phone`), kept only sealed, for the health office
    /// to reach the person.
    pub phone: Option<String>,
    /// The holder of a travel permit or a permanent residence card asks for the
    /// international code (`IdType::person_kind_asked`); a passport gives it anyway.
    pub international: bool,
    /// The registrant accepted the collection notice in force
    /// (`COLLECTION_NOTICE_VERSION`): recorded as the person's consent, with its version
    /// and time.
    pub accepted_notice: bool,
}

/// The name of the transparency log (its checkpoints' origin) unless configured.
pub const DEFAULT_LOG_ORIGIN: &str = "healthcode/33/log";

/// The service's secrets besides the pseudonym key: the signing key ring of codes, and
/// the key that signs the transparency log's checkpoints (its name is the log's origin).
pub struct ServiceKeys {
    pub signing: crate::KeyRing,
    pub log: healthcode_log::NoteSigner,
    /// Master keys for personal data at rest (`keys/vault.key`).
    pub vault: healthcode_vault::Keyring,
}

impl ServiceKeys {
    /// Keys that live as long as the process (tests, scenario runs): codes and
    /// checkpoints they sign mean nothing after it ends.
    pub fn ephemeral(now_secs: i64) -> ServiceKeys {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        ServiceKeys {
            signing: crate::KeyRing::generate(DEFAULT_REGION, now_secs),
            log: healthcode_log::NoteSigner::from_seed(DEFAULT_LOG_ORIGIN, seed)
                .expect("the default origin is a valid key name"),
            vault: healthcode_vault::Keyring::new(healthcode_vault::MasterKey::generate()),
        }
    }
}

impl HealthService {
    /// Opens the service over a store with ephemeral keys (tests, scenario runs).
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        pseudonyms: Pseudonymiser,
        rules: RuleSet,
    ) -> Result<Self, ServiceError> {
        let keys = ServiceKeys::ephemeral(clock.now().as_millis().div_euclid(1000));
        Self::open_with(store, clock, pseudonyms, rules, keys).await
    }

    /// Opens the service over a store, loading the area designations it holds and the
    /// transparency log's right edge (checked against its last signed checkpoint).
    pub async fn open_with(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        pseudonyms: Pseudonymiser,
        rules: RuleSet,
        keys: ServiceKeys,
    ) -> Result<Self, ServiceError> {
        let log = Arc::new(
            crate::transparency::TransparencyLog::open(&store, clock.clone(), keys.log, pseudonyms.key()).await?,
        );
        let signing = Arc::new(crate::tokens::SigningKeys::new(keys.signing));
        let documents = crate::documents::Documents::new(store.clone());
        let accounts = Arc::new(crate::Accounts::new(store.clone(), documents.clone(), log.clone(), clock.clone()));
        let alarms = Arc::new(crate::Alarms::new(store.clone(), store.clone(), log.clone(), clock.clone()));
        let codes = Arc::new(
            crate::Codes::open(
                store.clone(),
                store.clone(),
                clock.clone(),
                log.clone(),
                alarms.clone(),
                documents.clone(),
                rules,
            )
            .await?,
        );
        let coordination = Arc::new(crate::Coordination::new(store.clone(), clock.clone()));
        let national_trust: Arc<crate::national::NationalTrust> = Arc::default();
        let evidence = Arc::new(crate::Evidence::new(
            store.clone(),
            store.clone(),
            store.clone(),
            clock.clone(),
            pseudonyms.clone(),
            codes.clone(),
            national_trust.clone(),
        ));
        let venues = Arc::new(crate::Venues::new(
            store.clone(),
            documents.clone(),
            log.clone(),
            alarms.clone(),
            signing.clone(),
            clock.clone(),
        ));
        let accesses = Arc::new(crate::accesses::Accesses::new(store.clone(), clock.clone()));
        let governance = crate::Governance {
            governance_store: store.clone(),
            evidence_store: store.clone(),
            door_store: store.clone(),
            code_store: store.clone(),
            clock: clock.clone(),
            documents: documents.clone(),
            log: log.clone(),
            alarms: alarms.clone(),
            codes: codes.clone(),
            evidence: evidence.clone(),
            accesses: accesses.clone(),
            keys: signing.clone(),
            pseudonyms: pseudonyms.clone(),
            notice_cache: Default::default(),
            unfinished_decisions: std::sync::atomic::AtomicBool::new(true),
            decisions_swept_at: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
        };
        let resident_keys: Arc<crate::residents::ResidentKeyCache> = Arc::default();
        let residents = Arc::new(crate::Residents {
            resident_store: store.clone(),
            evidence: evidence.clone(),
            evidence_store: store.clone(),
            door_store: store.clone(),
            governance_store: store.clone(),
            clock: clock.clone(),
            pseudonyms: pseudonyms.clone(),
            documents: documents.clone(),
            log: log.clone(),
            codes: codes.clone(),
            accounts: accounts.clone(),
            accesses: accesses.clone(),
            keys: signing.clone(),
            vault: RwLock::new(Arc::new(keys.vault)),
            retention_ran_at: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
            resident_keys: resident_keys.clone(),
            alarms: alarms.clone(),
        });
        let tokens = Arc::new(crate::Tokens {
            national: national_trust.clone(),
            keys: signing.clone(),
            code_store: store.clone(),
            codes: codes.clone(),
            residents: residents.clone(),
            resident_keys: resident_keys.clone(),
            code_cards: log.code_cards(),
            accesses: accesses.clone(),
            clock: clock.clone(),
            verify_batcher: Default::default(),
        });
        let doors = crate::Doors {
            tokens: tokens.clone(),
            venues: venues.clone(),
            codes: codes.clone(),
            door_store: store.clone(),
            evidence_store: store.clone(),
            resident_store: store.clone(),
            alarms: alarms.clone(),
            keys: signing.clone(),
            clock: clock.clone(),
            pseudonyms: pseudonyms.clone(),
            forwarded: Default::default(),
        };
        let conversions = crate::Conversions {
            tokens: tokens.clone(),
            residents: residents.clone(),
            evidence: evidence.clone(),
            clock: clock.clone(),
        };
        let groups = crate::Groups {
            tokens: tokens.clone(),
            codes: codes.clone(),
            evidence_store: store.clone(),
            federation: store.clone(),
            pseudonyms: pseudonyms.clone(),
            accesses: accesses.clone(),
            documents: documents.clone(),
        };
        let overview = Overview {
            code_store: store.clone(),
            evidence_store: store.clone(),
            resident_store: store.clone(),
            status_store: store.clone(),
            codes: codes.clone(),
            evidence: evidence.clone(),
        };
        let national = Arc::new(crate::national::National {
            federation: store.clone(),
            rejections: store.clone(),
            door_store: store.clone(),
            evidence: evidence.clone(),
            log: log.clone(),
            documents: documents.clone(),
            alarms: alarms.clone(),
            clock: clock.clone(),
            role: crate::national::Role::None,
            trust: national_trust.clone(),
            retention_ran_at: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
        });
        let research = Research { resident_store: store.clone(), documents, clock: clock.clone() };
        Ok(HealthService {
            clock,
            pseudonyms,
            log,
            codes,
            evidence,
            tokens,
            doors,
            conversions,
            groups,
            venues,
            residents,
            governance,
            accounts,
            alarms,
            coordination,
            overview,
            research,
            national,
        })
    }

    /// The same service as the national hub, or as a region of the national exchange
    /// (its pseudonymiser must then carry the national key).
    pub fn with_national_role(mut self, role: crate::national::Role) -> Self {
        if let crate::national::Role::Region { region, .. } = &role {
            // Set once: a service is given its role when it opens.
            let _ = self.evidence.national_region.set(region.clone());
        }
        let n = &self.national;
        self.national = Arc::new(crate::national::National {
            federation: n.federation.clone(),
            rejections: n.rejections.clone(),
            door_store: n.door_store.clone(),
            evidence: n.evidence.clone(),
            log: n.log.clone(),
            documents: n.documents.clone(),
            alarms: n.alarms.clone(),
            clock: n.clock.clone(),
            role,
            trust: n.trust.clone(),
            retention_ran_at: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
        });
        self
    }

    /// Shares this region's negative tests with the other regions through the hub
    /// (跨区域核酸检测报告核查: a visitor's test here counts there). Off by default: a
    /// region chooses to (its positive tests always travel, as key-person records).
    pub fn sharing_test_results(self, share: bool) -> Self {
        self.evidence.shares_tests.store(share, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// The national exchange: the hub's submissions, a region's following of the hub.
    pub fn national(&self) -> &crate::national::National {
        &self.national
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The pseudonymous id of an identity document's holder.
    pub fn person_id_for(&self, document: &IdDocument) -> PersonId {
        self.pseudonyms.person_id(document)
    }

    /// The evaluator: keeping codes current (`refresh_persons`, `run_due`, `refresh_all`),
    /// the rule set in force, the designations, and explanations.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// Evidence: ingesting rows and feed batches, and the rejections kept with their reasons.
    pub fn evidence(&self) -> &Arc<Evidence> {
        &self.evidence
    }

    /// Signed codes: issuing, verifying, the key ring and its trust list.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Doors and gates: scans of venue codes, gates reading codes and ID cards.
    pub fn doors(&self) -> &Doors {
        &self.doors
    }

    /// Visitors from other regions converting their home code (转码) or declaring (来浙申报).
    pub fn conversions(&self) -> &crate::Conversions {
        &self.conversions
    }

    /// Group checks (复工专列): an organiser's roster, each member's colour here.
    pub fn groups(&self) -> &crate::Groups {
        &self.groups
    }

    /// Venues and their checkpoint devices.
    pub fn venues(&self) -> &Venues {
        &self.venues
    }

    /// Residents and their data: registration, keys, family, readers and the access log,
    /// personal details, complaints, consents, third parties, the person's own log.
    pub fn residents(&self) -> &Residents {
        &self.residents
    }

    /// Governance: rule changes, designations, decisions and contact traces.
    pub fn governance(&self) -> &Governance {
        &self.governance
    }

    /// This server among the province's: the scheduler's lease (who runs the jobs that
    /// run once per province).
    pub fn coordination(&self) -> &Coordination {
        &self.coordination
    }

    /// What another server may have changed, brought into this one's memory, and the
    /// scheduler's lease renewed (or taken, if its holder stopped renewing it): call it
    /// every few seconds (`healthcode-server`'s follower does). Designations and the rule
    /// set in force reach every server this way; keys and sessions are read from the store
    /// (resident keys trusted from memory for `RESIDENT_KEY_CACHE_SECS`), signing keys
    /// from their files.
    pub async fn follow(&self) -> Result<bool, ServiceError> {
        let leads = self.coordination.renew().await?;
        self.codes.follow().await?;
        self.log.follow_size().await?;
        self.national.follow_hub().await?;
        Ok(leads)
    }

    /// Accounts: creating them, signing in and out, authenticating a bearer key.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Alarms: raising them (with their log entry) and reading them.
    pub fn alarms(&self) -> &Alarms {
        &self.alarms
    }

    /// The transparency log: checkpoints, proofs, entries, and recording what no code
    /// records (approvals, alarms).
    pub fn log(&self) -> &TransparencyLog {
        &self.log
    }

    /// The counts the overviews show (front page, dashboard, `/v1/stats`).
    pub fn overview(&self) -> &Overview {
        &self.overview
    }

    /// Research releases with differential privacy.
    pub fn research(&self) -> &Research {
        &self.research
    }
}
