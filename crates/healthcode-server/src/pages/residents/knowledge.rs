//! The knowledge base of common problems on the pages: a public search (`/help`), and
//! the same answers offered on a resident's complaint page before they complain.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_service::KnowledgeEntry;

use crate::pages::extract::PageQuery;
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// The entries, each a question that opens to its answer, in the reader's language.
pub(crate) fn entries_html(ui: &Ui, entries: &[KnowledgeEntry]) -> Markup {
    let mut out = Markup::new();
    for e in entries {
        out.push(html!(
            "<details class=\"faq\"><summary>{question}</summary><p>{answer}</p></details>",
            question = ui.t(&e.question_zh, &e.question_en),
            answer = ui.t(&e.answer_zh, &e.answer_en),
        ));
    }
    out
}

/// The search form, to `action`, with the words searched for.
pub(crate) fn search_form(ui: &Ui, action: &str, query: &str) -> Markup {
    html!(
        "<form method=\"get\" action=\"{action}\" role=\"search\"><label for=\"q\">{label}</label><input id=\"q\" name=\"q\" maxlength=\"100\" value=\"{query}\"><button type=\"submit\">{search}</button></form>",
        action = action,
        label = ui.t("搜索常见问题（如：健康码变黄）", "Search common problems (e.g. code turned yellow)"),
        query = query,
        search = ui.t("搜索", "Search"),
    )
}

pub(crate) async fn help(ui: Ui, State(state): State<AppState>, query: PageQuery) -> Response {
    let q = query.get("q").unwrap_or_default().chars().take(100).collect::<String>();
    let entries = match state.service.residents().search_knowledge(&q).await {
        Ok(entries) => entries,
        Err(e) => return ui.internal("searching the knowledge base", e),
    };
    let mut body = html!(
        "<h1>{title}</h1><p>{intro}</p>{form}",
        title = ui.t("常见问题", "Common problems"),
        intro = ui.t(
            "处理申诉时发现的共性问题及答复，由申诉处理人员整理。找不到答案时，可在您的健康码页面提交申诉。",
            "Problems that complaints showed to be common, and their answers, written by complaint handlers. If yours is not here, complain from your code's page."
        ),
        form = search_form(&ui, "/help", &q),
    );
    if entries.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("没有找到相关问题。", "Nothing found.")));
    }
    body.push(entries_html(&ui, &entries));
    ui.page(StatusCode::OK, ui.t("常见问题", "Common problems"), body)
}
