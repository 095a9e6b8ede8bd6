use std::sync::{Arc, RwLock};

use healthcode_domain::{AreaCode, IdDocument, PersonId, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_store::Store;

use crate::{Clock, Pseudonymiser, ServiceError};

/// The region a code is issued for unless configured: Zhejiang's province code.
pub const DEFAULT_REGION: &str = "33";

/// The use cases of healthcode over one store. Cheap to share (`Arc`); every method
/// takes `&self`.
pub struct HealthService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pseudonyms: Pseudonymiser,
    pub(crate) codes: Arc<crate::Codes>,
    pub(crate) log: Arc<crate::transparency::TransparencyLog>,
    pub(crate) documents: crate::documents::Documents,
    pub(crate) tokens: Arc<crate::Tokens>,
    pub(crate) doors: crate::Doors,
    pub(crate) venues: Arc<crate::Venues>,
    pub(crate) accounts: Arc<crate::Accounts>,
    pub(crate) governance: crate::Governance,
    pub(crate) accesses: Arc<crate::accesses::Accesses>,
    pub(crate) alarms: Arc<crate::Alarms>,
    pub(crate) residents: Arc<crate::Residents>,
    pub(crate) evidence: Arc<crate::Evidence>,
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
            crate::Codes::open(store.clone(), store.clone(), clock.clone(), log.clone(), alarms.clone(), rules).await?,
        );
        let evidence = Arc::new(crate::Evidence::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            pseudonyms.clone(),
            codes.clone(),
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
        };
        let resident_keys: Arc<crate::residents::ResidentKeyCache> = Arc::default();
        let residents = Arc::new(crate::Residents {
            resident_store: store.clone(),
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
        });
        let tokens = Arc::new(crate::Tokens {
            keys: signing.clone(),
            code_store: store.clone(),
            codes: codes.clone(),
            residents: residents.clone(),
            resident_keys: resident_keys.clone(),
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
        let service = HealthService {
            governance,
            accesses,
            venues,
            accounts,
            alarms,
            documents,
            store,
            clock,
            pseudonyms,
            log,
            tokens,
            doors,
            residents,
            evidence,
            codes,
        };
        Ok(service)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn person_id_for(&self, document: &IdDocument) -> PersonId {
        self.pseudonyms.person_id(document)
    }
}
