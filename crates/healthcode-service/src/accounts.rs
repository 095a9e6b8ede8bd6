//! Staff and systems: accounts, password login (argon2), sessions and API keys. Every
//! credential is a random key shown once and stored as a hash.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use healthcode_domain::{AreaCode, Department, Role, Timestamp, ValidationError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use healthcode_store::{Account, AccountStore, Credential, CredentialKind, Store};

use healthcode_log::{AccountInUse, Entry};

use crate::documents::Documents;
use crate::secrets::{key_hash, new_id, new_key};
use crate::{Clock, ServiceError, TransparencyLog};

/// How long a staff session lasts.
const SESSION_HOURS: i64 = 12;

/// What an account is created with.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    /// `None` for a system that authenticates with API keys only.
    pub password: Option<String>,
    pub role: Role,
    pub jurisdiction: Option<AreaCode>,
    pub department: Option<Department>,
}

/// A password that argon2 has hashed in memory only for as long as needed.
fn hash_password(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < 12 {
        return Err(ValidationError::field("password", "a password is at least 12 characters").into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Background(format!("cannot hash a password: {e}")))
}

/// A hash of a password nobody has, verified against when there is no real one to check
/// (an unknown username, an account that signs in by API key only), so that every failed
/// login costs the same.
fn decoy_hash() -> Option<PasswordHash<'static>> {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let text = DECOY.get_or_init(|| hash_password("a password nobody has, to spend the same time").ok());
    text.as_deref().and_then(|t| PasswordHash::new(t).ok())
}

/// Documents marking the accounts already in the transparency log.
const ACCOUNT_LOGGED: &str = "account_logged";

/// The same answer for a wrong username and a wrong password: a login form must not tell
/// which usernames exist.
fn bad_login() -> ServiceError {
    ServiceError::Unauthorised("wrong username or password".into())
}

/// Accounts of staff and systems: who they are, how they sign in, and the log entry each
/// gets the first time it acts. Holds only the account store, the documents that mark
/// accounts already logged, the log and the clock.
pub struct Accounts {
    store: Arc<dyn AccountStore>,
    documents: Documents,
    log: Arc<TransparencyLog>,
    clock: Arc<dyn Clock>,
    /// Accounts this server has seen in the transparency log already.
    logged: Mutex<HashSet<String>>,
    logging: tokio::sync::Mutex<()>,
}

impl Accounts {
    pub(crate) fn new(
        store: Arc<dyn AccountStore>,
        documents: Documents,
        log: Arc<TransparencyLog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Accounts { store, documents, log, clock, logged: Mutex::default(), logging: tokio::sync::Mutex::default() }
    }

    pub async fn create(&self, new: NewAccount) -> Result<Account, ServiceError> {
        create_account_in(self.store.as_ref(), self.clock.now(), new).await
    }

    /// A new API key for a system account (data feeds, devices). Shown once.
    pub async fn issue_api_key(&self, username: &str, label: &str) -> Result<String, ServiceError> {
        issue_api_key_in(self.store.as_ref(), self.clock.now(), username, label).await
    }
}

/// Creates an account (also used by `healthcode accounts`, which needs no running service).
pub async fn create_account(store: &dyn Store, now: Timestamp, new: NewAccount) -> Result<Account, ServiceError> {
    create_account_in(store, now, new).await
}

async fn create_account_in(store: &dyn AccountStore, now: Timestamp, new: NewAccount) -> Result<Account, ServiceError> {
    let username = new.username.trim().to_string();
    let ok = (3..=64).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !ok {
        return Err(ValidationError::field("username", "3 to 64 letters, digits, `.`, `-` or `_`").into());
    }
    match (new.role, new.department) {
        (Role::DataSource, None) => {
            return Err(ValidationError::field("department", "a data source speaks for a department").into())
        }
        (role, Some(_)) if role != Role::DataSource => {
            return Err(ValidationError::field("department", "only data sources have a department").into())
        }
        _ => {}
    }
    crate::places::current_if_given("jurisdiction", new.jurisdiction.as_ref())?;
    if new.role == Role::Region && new.jurisdiction.as_ref().is_none_or(|j| j.normal().len() != 2) {
        return Err(ValidationError::field(
            "jurisdiction",
            "a region's account has its province's code as jurisdiction (e.g. `410000` for Henan)",
        )
        .into());
    }
    let account = Account {
        id: new_id("a"),
        username: username.clone(),
        password_hash: new.password.as_deref().map(hash_password).transpose()?,
        role: new.role,
        jurisdiction: new.jurisdiction.map(|a| a.normal().to_string()),
        department: new.department,
        created_at: now,
        disabled: false,
        acting_with_key_issued_at: None,
    };
    if !store.create_account(&account).await? {
        return Err(ValidationError::field("username", format!("the username `{username}` is taken")).into());
    }
    Ok(account)
}

/// A new API key for an account: shown once, stored as its hash.
pub async fn issue_api_key(
    store: &dyn Store,
    now: Timestamp,
    username: &str,
    label: &str,
) -> Result<String, ServiceError> {
    issue_api_key_in(store, now, username, label).await
}

async fn issue_api_key_in(
    store: &dyn AccountStore,
    now: Timestamp,
    username: &str,
    label: &str,
) -> Result<String, ServiceError> {
    let account = store
        .account_by_username(username)
        .await?
        .ok_or_else(|| ValidationError::field("username", format!("no account `{username}`")))?;
    let (key, hash) = new_key("hck_");
    let credential = Credential {
        key_hash: hash,
        account: account.id,
        kind: CredentialKind::ApiKey,
        label: label.to_string(),
        created_at: now,
        expires_at: None,
    };
    store.save_credential(&credential).await?;
    Ok(key)
}

impl Accounts {
    /// Checks a password and opens a session: its key (shown once) and its end.
    pub async fn login(&self, username: &str, password: &str) -> Result<(String, Timestamp), ServiceError> {
        // No account is named with a control character; PostgreSQL cannot even compare a
        // text with NUL in it (a sign-in with one answered 500, found by schemathesis).
        let username = username.trim();
        let account = if username.chars().any(char::is_control) {
            None
        } else {
            self.store.account_by_username(username).await?.filter(|a| !a.disabled)
        };
        let stored = account.as_ref().and_then(|a| a.password_hash.clone());
        let password = password.to_string();
        // One Argon2 verification whatever happens, so that an unknown username, an account
        // without a password and a wrong password all take as long; on the blocking pool,
        // which is what a hash costing tens of milliseconds belongs on.
        let verified = tokio::task::spawn_blocking(move || {
            let real = stored.as_deref().and_then(|s| PasswordHash::new(s).ok());
            let decoy = decoy_hash();
            let parsed = real.as_ref().or(decoy.as_ref()).ok_or_else(bad_login)?;
            let matches = Argon2::default().verify_password(password.as_bytes(), parsed).is_ok();
            Ok::<_, ServiceError>(matches && real.is_some())
        })
        .await
        .map_err(|e| ServiceError::Background(format!("checking a password failed: {e}")))??;
        let Some(account) = account.filter(|_| verified) else { return Err(bad_login()) };
        let (key, hash) = new_key("hcs_");
        let expires_at = Timestamp::from_millis(self.clock.now().as_millis() + SESSION_HOURS * 3_600_000);
        let credential = Credential {
            key_hash: hash,
            account: account.id,
            kind: CredentialKind::Session,
            label: "login".into(),
            created_at: self.clock.now(),
            expires_at: Some(expires_at),
        };
        self.store.save_credential(&credential).await?;
        Ok((key, expires_at))
    }

    pub async fn logout(&self, key: &str) -> Result<(), ServiceError> {
        // Only a session ends this way: an API key presented here stays valid (a system that
        // "logs out" with it, or anyone replaying one request, must not cut a department's
        // feed off); API keys are revoked by an administrator (`healthcode accounts`).
        let unknown = || ServiceError::Unauthorised("unknown or expired session; there is nothing to log out".into());
        let (credential, _) = self.store.credential(&key_hash(key)).await?.ok_or_else(unknown)?;
        if credential.kind != CredentialKind::Session {
            return Err(ServiceError::Conflict(
                "this is an API key, not a session: it stays valid; an administrator revokes API keys".into(),
            ));
        }
        if credential.expires_at.is_some_and(|t| t <= self.clock.now()) {
            return Err(unknown());
        }
        Ok(self.store.delete_credential(&key_hash(key)).await?)
    }

    /// The account a bearer key (session or API key) belongs to. An account acting for
    /// the first time is written to the transparency log first.
    pub async fn authenticate(&self, key: &str) -> Result<Account, ServiceError> {
        let unknown = || ServiceError::Unauthorised("unknown or expired key; log in again or ask for a new key".into());
        let (credential, account) = self.store.credential(&key_hash(key)).await?.ok_or_else(unknown)?;
        if account.disabled || credential.expires_at.is_some_and(|t| t <= self.clock.now()) {
            return Err(unknown());
        }
        self.log_account_in_use(&account, &credential).await?;
        let acting_with_key_issued_at = (credential.kind == CredentialKind::ApiKey).then_some(credential.created_at);
        Ok(Account { acting_with_key_issued_at, ..account })
    }

    /// Writes an account to the log the first time it acts, and again the first time it
    /// acts with each API key (once, whichever server sees it first; each server
    /// remembers what it has seen logged): a key the operator mints for a real officer is
    /// in the log before its first action, with its label and when it was issued.
    async fn log_account_in_use(&self, account: &Account, credential: &Credential) -> Result<(), ServiceError> {
        let api_key = (credential.kind == CredentialKind::ApiKey).then_some(credential);
        let logged_as = match api_key {
            // The key's hash, not the key: the documents are readable by the operator.
            Some(c) => format!("{}/{}", account.id, c.key_hash.chars().take(16).collect::<String>()),
            None => account.id.clone(),
        };
        if self.logged.lock().unwrap_or_else(|p| p.into_inner()).contains(&logged_as) {
            return Ok(());
        }
        // One at a time: the first requests of a new account often come together.
        let _one_at_a_time = self.logging.lock().await;
        if self.logged.lock().unwrap_or_else(|p| p.into_inner()).contains(&logged_as) {
            return Ok(());
        }
        if self.documents.load::<Timestamp>(ACCOUNT_LOGGED, &logged_as).await?.is_none() {
            let now = self.clock.now();
            let entry = Entry::AccountInUse(AccountInUse {
                at: now.as_millis(),
                username: account.username.clone(),
                role: account.role.to_string(),
                jurisdiction: account.jurisdiction.clone(),
                department: account.department.map(|d| d.to_string()),
                created_at: account.created_at.as_millis(),
                key_label: api_key.map(|c| c.label.clone()),
                key_created_at: api_key.map(|c| c.created_at.as_millis()),
            });
            // A claim, in the entry's transaction: another server logging the same account
            // at the same moment writes it once between them.
            let logged = crate::documents::Documents::claim(ACCOUNT_LOGGED, &logged_as, now, &now)?;
            match self.log.record_with(&[entry], &[logged]).await {
                Ok(_) | Err(ServiceError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.logged.lock().unwrap_or_else(|p| p.into_inner()).insert(logged_as);
        Ok(())
    }
}
