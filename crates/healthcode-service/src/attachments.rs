//! Attachments to a complaint: a test report as an image or a PDF, size-limited, sealed
//! with the person's own data key like their other personal data (so the shredding of
//! that key at an erasure or a destruction makes them unreadable), read only by the
//! person, their proxies, and the handlers of the complaint (in the access log).

use base64::Engine;
use healthcode_domain::{PersonId, ValidationError};
use healthcode_store::{Account, AttachmentRef, ComplaintStatus, SealedPersonalData};
use healthcode_vault::{field_aad, open, seal, WrappedKey};
use serde::{Deserialize, Serialize};

use crate::complaints::{handles, step};
use crate::residents::Reader;
use crate::secrets::new_id;
use crate::{Residents, ServiceError};

/// The largest attachment: a photographed or scanned report.
pub const MAX_ATTACHMENT_BYTES: usize = 2 * 1024 * 1024;
/// Attachments one complaint may carry.
pub const MAX_ATTACHMENTS: usize = 5;
const ATTACHMENT_DOCUMENTS: &str = "attachment";

#[derive(Serialize, Deserialize)]
struct SealedAttachment {
    person: PersonId,
    complaint: String,
    content_type: String,
    /// Sealed with the person's data key, bound to the attachment's id; base64.
    sealed: String,
}

/// The kind of file the bytes are, by their first bytes (never by what the client says).
fn content_type_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

impl Residents {
    /// Adds a file to an open complaint, by the person or a proxy.
    pub async fn attach(
        &self,
        person: &PersonId,
        by: &Reader,
        complaint_id: &str,
        bytes: &[u8],
    ) -> Result<AttachmentRef, ServiceError> {
        if matches!(by, Reader::Staff { .. }) {
            return Err(ServiceError::Forbidden("a complaint's files are added by the person or their proxy".into()));
        }
        if bytes.is_empty() || bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(ValidationError::field(
                "file",
                format!("a file is 1 byte to {} MiB", MAX_ATTACHMENT_BYTES / (1024 * 1024)),
            )
            .into());
        }
        let content_type = content_type_of(bytes)
            .ok_or_else(|| ValidationError::field("file", "send a PNG or JPEG image, or a PDF"))?;
        let mut complaint =
            self.resident_store.complaint(complaint_id).await?.filter(|c| &c.person == person).ok_or_else(|| {
                ValidationError::field("complaint", format!("no complaint `{complaint_id}` of yours"))
            })?;
        if complaint.status != ComplaintStatus::Open {
            return Err(ServiceError::Conflict("this complaint is answered; file a new one".into()));
        }
        if complaint.attachments.len() >= MAX_ATTACHMENTS {
            return Err(ServiceError::Conflict(format!("a complaint carries at most {MAX_ATTACHMENTS} files")));
        }
        let id = new_id("att-");
        let (key, _) = self.data_key(person).await?;
        let sealed = seal(&key, &field_aad(person.as_str(), &id), bytes);
        let record = SealedAttachment {
            person: person.clone(),
            complaint: complaint.id.clone(),
            content_type: content_type.to_string(),
            sealed: base64::engine::general_purpose::STANDARD.encode(sealed),
        };
        let now = self.clock.now();
        self.documents.save(ATTACHMENT_DOCUMENTS, &id, now, &record).await?;
        let attachment = AttachmentRef { id, content_type: content_type.to_string(), size: bytes.len(), added_at: now };
        complaint.attachments.push(attachment.clone());
        complaint.steps.push(step(now, "attachment_added", "resident", content_type));
        self.resident_store.save_complaint(&complaint).await?;
        Ok(attachment)
    }

    /// An attachment's bytes and type, for the person or a proxy (`reader`), or for a
    /// handler of the complaint (`handler`, whose read goes into the access log).
    pub async fn attachment(
        &self,
        complaint_id: &str,
        attachment_id: &str,
        reader: Result<&PersonId, &Account>,
    ) -> Result<(String, Vec<u8>), ServiceError> {
        let not_found = || ValidationError::field("attachment", format!("no attachment `{attachment_id}` here"));
        let complaint = self.resident_store.complaint(complaint_id).await?.ok_or_else(not_found)?;
        match reader {
            Ok(person) if &complaint.person == person => {}
            Err(handler) if handles(handler, &complaint, self.keys.ring().region()) => {
                self.accesses
                    .record_staff(
                        handler,
                        std::slice::from_ref(&complaint.person),
                        &format!("read an attachment of complaint {complaint_id}"),
                        "complaint attachment",
                    )
                    .await?;
            }
            _ => return Err(ServiceError::Forbidden("this attachment is not yours to read".into())),
        }
        let record: SealedAttachment = self
            .documents
            .load(ATTACHMENT_DOCUMENTS, attachment_id)
            .await?
            .filter(|r: &SealedAttachment| r.complaint == complaint.id)
            .ok_or_else(not_found)?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&record.sealed)
            .map_err(|e| ServiceError::Background(format!("an attachment is unreadable: {e}")))?;
        let (key, _) = self.data_key(&record.person).await?;
        let bytes = open(&key, &field_aad(record.person.as_str(), attachment_id), &sealed)
            .map_err(|e| ServiceError::Background(format!("an attachment does not open: {e}")))?;
        Ok((record.content_type, bytes))
    }

    /// The person's data key, made (and stored, wrapped, with empty details) if they have
    /// none yet.
    pub(crate) async fn data_key(
        &self,
        person: &PersonId,
    ) -> Result<(healthcode_vault::DataKey, WrappedKey), ServiceError> {
        let vault_error = |e: healthcode_vault::VaultError| ServiceError::Background(e.to_string());
        if let Some(stored) = self.resident_store.personal_data(person).await? {
            let wrapped = WrappedKey::from_bytes(&stored.wrapped_key).map_err(vault_error)?;
            return Ok((self.vault().unwrap(&wrapped).map_err(vault_error)?, wrapped));
        }
        let (key, wrapped) = self.vault().new_data_key();
        let empty = serde_json::to_vec(&crate::PersonalDetails::default())
            .map_err(|e| ServiceError::Background(e.to_string()))?;
        let record = SealedPersonalData {
            person: person.clone(),
            wrapped_key: wrapped.to_bytes(),
            sealed: seal(&key, &field_aad(person.as_str(), crate::personal::FIELD), &empty),
            updated_at: self.clock.now(),
        };
        self.resident_store.save_personal_data(&record).await?;
        Ok((key, wrapped))
    }
}
