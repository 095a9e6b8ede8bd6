//! How a complaint reads on a page, for its resident and for officials alike: its status,
//! grade and deadline, the correction asked for, every step, and the answer.

use healthcode_store::{Complaint, ComplaintAnswer, ComplaintGrade, ComplaintStatus, ComplaintStep};

use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};

pub(crate) fn status_name(ui: &Ui, status: ComplaintStatus) -> &'static str {
    match status {
        ComplaintStatus::Open => ui.t("处理中", "open"),
        ComplaintStatus::Upheld => ui.t("成立", "upheld"),
        ComplaintStatus::Dismissed => ui.t("不成立", "dismissed"),
        ComplaintStatus::Referred => ui.t("已转相关部门", "referred to the department"),
    }
}

pub(crate) fn grade_name(ui: &Ui, grade: ComplaintGrade) -> &'static str {
    match grade {
        ComplaintGrade::Urgent => ui.t("紧急", "urgent"),
        ComplaintGrade::Normal => ui.t("一般", "normal"),
    }
}

fn step_name(ui: &Ui, what: &str) -> &'static str {
    match what {
        "filed" => ui.t("提交申诉", "filed"),
        "joined" => ui.t("同一记录再次申诉，已并入", "joined by another complaint about the same record"),
        "graded" => ui.t("升为紧急", "graded urgent"),
        "correction_requested" => ui.t("请提供记录的部门核查更正", "correction asked of the department"),
        "retracted" => ui.t("部门已撤回该记录", "the department withdrew the record"),
        "correction_declined" => ui.t("部门核查认为记录无误", "the department found the record right"),
        "colour_changed" => ui.t("健康码颜色已变化", "the code's colour changed"),
        "colour_unchanged" => ui
            .t("记录已撤回，颜色未变，处理人员继续核查", "record withdrawn, colour unchanged: the handler looks again"),
        "escalated" => ui.t("逾期未办结，转省级部门督办", "past its deadline: sent to the provincial office"),
        "answered" => ui.t("答复", "answered"),
        "attachment_added" => ui.t("添加附件", "file added"),
        _ => ui.t("其他", "other"),
    }
}

/// A complaint's answer: when, by whom, what.
pub(crate) fn answer_html(ui: &Ui, answer: &ComplaintAnswer) -> Markup {
    html!(
        "<p>{word} {at} ({by}): {text}</p>",
        word = ui.t("答复", "Answer"),
        at = when(answer.at),
        by = answer.by,
        text = answer.text,
    )
}

fn step_html(ui: &Ui, step: &ComplaintStep) -> Markup {
    // The system's own words are shown in the reader's language; the rest as written.
    let by = match step.by.as_str() {
        "resident" => ui.t("居民", "resident"),
        "system" => ui.t("系统", "system"),
        other => other,
    };
    let detail = match (step.what.as_str(), step.detail.as_str()) {
        ("filed" | "graded" | "joined", "urgent") => grade_name(ui, ComplaintGrade::Urgent),
        ("filed" | "graded", "normal") => grade_name(ui, ComplaintGrade::Normal),
        ("escalated", _) => ui.t("省级部门", "provincial office"),
        _ => step.detail.as_str(),
    };
    html!(
        "<li>{at} · {what} · {by}{sep}{detail}</li>",
        at = when(step.at),
        what = step_name(ui, &step.what),
        by = by,
        sep = if detail.is_empty() { "" } else { " · " },
        detail = detail,
    )
}

/// The head of a complaint (status, grade, deadline, disputed record) and its steps.
pub(crate) fn complaint_html(ui: &Ui, c: &Complaint) -> Markup {
    let mut out = html!(
        "<p><strong>{status}</strong> · {grade} · {filed} · {then} {colour} ({reasons}){record}{due}{escalated}</p><p>{text}</p>",
        status = status_name(ui, c.status),
        grade = grade_name(ui, c.grade),
        filed = when(c.filed_at),
        then = ui.t("申诉时颜色", "colour when filed"),
        colour = c.colour_at_filing,
        reasons = c.reasons_at_filing.join(", "),
        record = match &c.event {
            Some(event) => html!(" · {word} <code>{event}</code>", word = ui.t("所涉记录", "record"), event = event.as_str()),
            None => Markup::new(),
        },
        due = match (c.due_at, c.status) {
            (Some(due), ComplaintStatus::Open) => html!(" · {word} {due}", word = ui.t("办结时限", "due by"), due = when(due)),
            _ => Markup::new(),
        },
        escalated = if c.escalated_at.is_some() {
            html!(" · <strong>{word}</strong>", word = ui.t("已逾期督办", "overdue, escalated"))
        } else {
            Markup::new()
        },
        text = c.text,
    );
    if !c.attachments.is_empty() {
        let kinds: Vec<&str> = c.attachments.iter().map(|a| a.content_type.as_str()).collect();
        out.push(html!(
            "<p>{word} {count} ({kinds})</p>",
            word = ui.t("附件", "Files"),
            count = c.attachments.len(),
            kinds = kinds.join(", "),
        ));
    }
    if !c.steps.is_empty() {
        out.push(html!("<ol class=\"steps\" aria-label=\"{label}\">", label = ui.t("处理过程", "Steps")));
        for step in &c.steps {
            out.push(step_html(ui, step));
        }
        out.push_literal("</ol>");
    }
    if let Some(answer) = &c.answer {
        out.push(answer_html(ui, answer));
    }
    out
}
