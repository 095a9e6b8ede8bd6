//! The knowledge base of common problems (共性问题知识库, seed 001): questions and answers
//! in both languages, written by complaint handlers (in their own words, never a
//! resident's), public, searchable, and offered to a resident before they complain.

use healthcode_domain::{Timestamp, ValidationError};
use healthcode_store::{Account, ComplaintStatus};
use serde::{Deserialize, Serialize};

use crate::complaints::handles;
use crate::secrets::new_id;
use crate::{Residents, ServiceError};

const KNOWLEDGE_DOCUMENTS: &str = "knowledge";
/// Entries a search returns at most.
pub const KNOWLEDGE_RESULTS: usize = 10;

/// One common problem and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnowledgeEntry {
    pub id: String,
    pub question_zh: String,
    pub question_en: String,
    pub answer_zh: String,
    pub answer_en: String,
    pub written_by: String,
    pub written_at: Timestamp,
    /// The answered complaint that showed the problem is common, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_complaint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_by: Option<String>,
}

/// What a handler writes.
#[derive(Debug, Clone, Default)]
pub struct NewKnowledge<'a> {
    pub question_zh: &'a str,
    pub question_en: &'a str,
    pub answer_zh: &'a str,
    pub answer_en: &'a str,
    pub from_complaint: Option<&'a str>,
}

fn text(name: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    let n = value.chars().count();
    if n < 2 || n > max || value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::field(name, format!("`{name}` is 2 to {max} characters of text")).into());
    }
    Ok(value.to_string())
}

impl Residents {
    /// A complaint handler adds a common problem and its answer, in both languages.
    pub async fn add_knowledge(
        &self,
        handler: &Account,
        new: &NewKnowledge<'_>,
    ) -> Result<KnowledgeEntry, ServiceError> {
        let from_complaint = match new.from_complaint.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(id) => {
                let complaint = self
                    .resident_store
                    .complaint(id)
                    .await?
                    .filter(|c| handles(handler, c, self.keys.ring().region()))
                    .ok_or_else(|| ValidationError::field("from_complaint", format!("no complaint `{id}` of yours")))?;
                if complaint.status == ComplaintStatus::Open {
                    return Err(ValidationError::field(
                        "from_complaint",
                        "answer the complaint first: the knowledge base holds answers that were given",
                    )
                    .into());
                }
                Some(complaint.id)
            }
        };
        let entry = KnowledgeEntry {
            id: new_id("kb-"),
            question_zh: text("question_zh", new.question_zh, 200)?,
            question_en: text("question_en", new.question_en, 300)?,
            answer_zh: text("answer_zh", new.answer_zh, 2000)?,
            answer_en: text("answer_en", new.answer_en, 3000)?,
            written_by: handler.username.clone(),
            written_at: self.clock.now(),
            from_complaint,
            retired_at: None,
            retired_by: None,
        };
        self.documents.save(KNOWLEDGE_DOCUMENTS, &entry.id, entry.written_at, &entry).await?;
        Ok(entry)
    }

    /// Takes an entry out of the knowledge base (outdated rules, a better answer).
    pub async fn retire_knowledge(&self, handler: &Account, id: &str) -> Result<KnowledgeEntry, ServiceError> {
        let mut entry = self
            .documents
            .load::<KnowledgeEntry>(KNOWLEDGE_DOCUMENTS, id)
            .await?
            .filter(|e| e.retired_at.is_none())
            .ok_or_else(|| ValidationError::field("id", format!("no entry `{id}` in the knowledge base")))?;
        entry.retired_at = Some(self.clock.now());
        entry.retired_by = Some(handler.username.clone());
        self.documents.save(KNOWLEDGE_DOCUMENTS, id, entry.written_at, &entry).await?;
        Ok(entry)
    }

    /// The entries that match every word of `query` (in either language, any case),
    /// best first; all current entries, newest first, for an empty query.
    pub async fn search_knowledge(&self, query: &str) -> Result<Vec<KnowledgeEntry>, ServiceError> {
        let entries: Vec<KnowledgeEntry> = self.documents.load_all(KNOWLEDGE_DOCUMENTS).await?;
        let words = search_words(query);
        let mut scored: Vec<(usize, KnowledgeEntry)> = entries
            .into_iter()
            .filter(|e| e.retired_at.is_none())
            .filter_map(|e| {
                let question = format!("{} {}", e.question_zh, e.question_en).to_lowercase();
                let answer = format!("{} {}", e.answer_zh, e.answer_en).to_lowercase();
                let mut score = 0;
                for word in &words {
                    match (question.contains(word.as_str()), answer.contains(word.as_str())) {
                        (true, _) => score += 2,
                        (false, true) => score += 1,
                        (false, false) => return None,
                    }
                }
                Some((score, e))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.written_at.cmp(&a.1.written_at)));
        Ok(scored.into_iter().take(KNOWLEDGE_RESULTS).map(|(_, e)| e).collect())
    }
}

/// The words of a query: split on spaces and punctuation; a run of Chinese characters
/// counts as one word (so "健康码 变黄" is two).
fn search_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation()) || "，。？！、；：".contains(c))
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .take(8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::search_words;

    #[test]
    fn words_split_on_spaces_and_punctuation_of_both_languages() {
        assert_eq!(search_words("健康码 变黄，怎么办？"), ["健康码", "变黄", "怎么办"]);
        assert_eq!(search_words("Code turned YELLOW!"), ["code", "turned", "yellow"]);
        assert!(search_words("  ").is_empty());
    }
}
