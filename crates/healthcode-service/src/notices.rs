//! The incident notice (seed 001: 故障应急处理和信息通报): a provincial officer posts a
//! short notice in both languages ("national data delayed", "verification offline-only")
//! that every page and every API answer carries while it stands, until it is lifted or
//! its time is up. One at a time; kept as a document, so every server shows the same one
//! (each reads it again at most every `NOTICE_CACHE_SECS`).

use std::sync::Mutex;

use healthcode_domain::{Role, Timestamp, ValidationError};
use healthcode_store::Account;
use serde::{Deserialize, Serialize};

use crate::{Governance, ServiceError};

const NOTICE_DOCUMENTS: &str = "incident_notice";
const CURRENT: &str = "current";
/// How long a server shows the notice it read before reading it again.
pub const NOTICE_CACHE_SECS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentNotice {
    pub text_zh: String,
    pub text_en: String,
    pub posted_by: String,
    pub posted_at: Timestamp,
    /// When it ends by itself, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted_by: Option<String>,
}

/// The notice a server last read, and when.
#[derive(Default)]
pub(crate) struct NoticeCache(Mutex<Option<(Timestamp, Option<IncidentNotice>)>>);

fn checked(name: &str, text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    let n = text.chars().count();
    if !(2..=200).contains(&n) || text.chars().any(char::is_control) {
        return Err(ValidationError::field(name, format!("`{name}` is 2 to 200 characters on one line")).into());
    }
    Ok(text.to_string())
}

impl Governance {
    /// Posts the notice (replacing any standing one): a provincial officer.
    pub async fn post_notice(
        &self,
        by: &Account,
        text_zh: &str,
        text_en: &str,
        until: Option<Timestamp>,
    ) -> Result<IncidentNotice, ServiceError> {
        if by.role != Role::ProvincialOffice {
            return Err(ServiceError::Forbidden("a provincial officer posts the incident notice".into()));
        }
        let now = self.clock.now();
        if until.is_some_and(|t| t <= now) {
            return Err(ValidationError::field("until", "`until` is after now (or absent: until lifted)").into());
        }
        let notice = IncidentNotice {
            text_zh: checked("text_zh", text_zh)?,
            text_en: checked("text_en", text_en)?,
            posted_by: by.username.clone(),
            posted_at: now,
            until,
            lifted_by: None,
        };
        self.documents.save(NOTICE_DOCUMENTS, CURRENT, now, &notice).await?;
        self.forget_notice();
        tracing::warn!(by = %by.username, text = %notice.text_en, "incident notice posted");
        Ok(notice)
    }

    /// Lifts the standing notice.
    pub async fn lift_notice(&self, by: &Account) -> Result<(), ServiceError> {
        if by.role != Role::ProvincialOffice {
            return Err(ServiceError::Forbidden("a provincial officer lifts the incident notice".into()));
        }
        let Some(mut notice) = self.documents.load::<IncidentNotice>(NOTICE_DOCUMENTS, CURRENT).await? else {
            return Err(ServiceError::Conflict("no notice stands".into()));
        };
        if notice.lifted_by.is_some() {
            return Err(ServiceError::Conflict("no notice stands".into()));
        }
        notice.lifted_by = Some(by.username.clone());
        self.documents.save(NOTICE_DOCUMENTS, CURRENT, self.clock.now(), &notice).await?;
        self.forget_notice();
        Ok(())
    }

    /// The notice that stands now, if any (read again at most every `NOTICE_CACHE_SECS`).
    pub async fn current_notice(&self) -> Result<Option<IncidentNotice>, ServiceError> {
        let now = self.clock.now();
        let cached = self.notice_cache.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let notice = match cached {
            Some((read_at, notice)) if now.as_millis() - read_at.as_millis() < NOTICE_CACHE_SECS * 1000 => notice,
            _ => {
                let notice = self.documents.load::<IncidentNotice>(NOTICE_DOCUMENTS, CURRENT).await?;
                *self.notice_cache.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((now, notice.clone()));
                notice
            }
        };
        Ok(notice.filter(|n| n.lifted_by.is_none() && n.until.is_none_or(|t| t > now)))
    }

    fn forget_notice(&self) {
        *self.notice_cache.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
