//! The self-declaration page (健康申报): symptoms, a contact with a case and a recent stay,
//! for oneself or a family member one acts for. What is declared is evidence the rules
//! judge; the page answers with the code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{DeclaredItem, PersonId};
use healthcode_service::{Declaration, DeclaredStay, ServiceError};

use crate::pages::extract::{Fields, PersonPage, Posted};
use crate::pages::layout::{see_other, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::places::AreaPicker;
use crate::pages::residents::signin::reader_of;
use crate::AppState;

fn item_name(ui: &Ui, item: DeclaredItem) -> &'static str {
    match item {
        DeclaredItem::Fever => ui.t("发热（37.3℃ 及以上）", "Fever (37.3 °C or more)"),
        DeclaredItem::Cough => ui.t("咳嗽", "Cough"),
        DeclaredItem::SoreThroat => ui.t("咽痛", "Sore throat"),
        DeclaredItem::Breathlessness => ui.t("气促", "Shortness of breath"),
        DeclaredItem::ContactWithCase => ui.t("接触过确诊或疑似病例", "Contact with a confirmed or suspected case"),
    }
}

pub(crate) async fn form(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "declaration").await?;
    Ok(page(ui.with_form(), &id, StatusCode::OK, None, &Fields::new()))
}

fn page(ui: Ui, id: &PersonId, status: StatusCode, problem: Option<&str>, kept: &Fields) -> Response {
    let kept_value = |name: &str| kept.get(name).map(String::as_str).unwrap_or("");
    let mut items = Markup::new();
    for item in DeclaredItem::ALL {
        items.push(html!(
            "<p><input type=\"checkbox\" id=\"item-{value}\" name=\"item-{value}\" value=\"yes\"><label class=\"inline\" for=\"item-{value}\">{name}</label></p>",
            value = item.as_str(),
            name = item_name(&ui, *item),
        ));
    }
    let body = html!(
        r#"<h1>{title}</h1>{problem}<p>{intro}</p><form method="post" action="/persons/{id}/declare"><fieldset><legend>{symptoms}</legend>{items}</fieldset>
<label for="since">{since} <span class="muted">{since_hint}</span></label><input id="since" name="since" maxlength="40" placeholder="2020-06-01T08:00:00+08:00" value="{since_value}">
<fieldset><legend>{stay}</legend>{area_picker}
<label for="stay_from">{from}</label><input id="stay_from" name="stay_from" maxlength="40" placeholder="2020-05-30T08:00:00+08:00" value="{from_value}">
<label for="stay_to">{to}</label><input id="stay_to" name="stay_to" maxlength="40" value="{to_value}"></fieldset>
<button type="submit" id="declare-submit">{submit}</button></form><p><a href="/persons/{id}">{back}</a></p>"#,
        title = ui.t("健康申报", "Health declaration"),
        problem = match problem {
            Some(p) => html!("<p role=\"alert\" class=\"notice\"><strong>{p}</strong></p>", p = p),
            None => Markup::new(),
        },
        intro = ui.t(
            "如实申报症状、接触史和近期旅居地。申报内容作为证据，由现行赋码规则判定；虚假申报需承担相应责任。",
            "Declare your symptoms, contacts and recent stays truthfully. What you declare is evidence that the rules in force judge; a false declaration has consequences."
        ),
        id = id.as_str(),
        symptoms = ui.t("症状与接触史", "Symptoms and contacts"),
        items = items,
        since = ui.t("自何时起", "Since when"),
        since_hint = ui.t("（可选，默认现在）", "(optional; now if empty)"),
        stay = ui.t("近期旅居地（可选）", "A recent stay (optional)"),
        since_value = kept_value("since"),
        area_picker = AreaPicker::new("stay_area", kept).render(&ui, ui.t("地区", "Area"), false, Markup::new()),
        from = ui.t("到达时间", "Arrived"),
        from_value = kept_value("stay_from"),
        to_value = kept_value("stay_to"),
        to = ui.t("离开时间（仍在当地则不填）", "Left (empty if still there)"),
        submit = ui.t("提交申报", "Declare"),
        back = ui.t("返回健康码", "Back to the code"),
    );
    ui.page(status, ui.t("健康申报", "Health declaration"), body)
}

pub(crate) async fn declare(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "declaration").await?;
    if AreaPicker::acted("stay_area", &form) {
        return Ok(page(ui, &id, StatusCode::OK, None, &form));
    }
    let field = |name: &str| form.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let items = DeclaredItem::ALL
        .iter()
        .filter(|item| form.get(&format!("item-{}", item.as_str())).map(String::as_str) == Some("yes"))
        .map(|item| item.as_str().to_string())
        .collect();
    let stays = match (field("stay_area"), field("stay_from")) {
        (Some(area), Some(from)) => vec![DeclaredStay { area, from, to: field("stay_to") }],
        (None, None) => Vec::new(),
        _ => {
            let message =
                ui.t("旅居地请同时填写地区代码和到达时间", "For a stay give both the area code and the arrival time");
            return Ok(page(ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &form));
        }
    };
    let declaration = Declaration { items, since: field("since"), stays };
    Ok(match state.service.residents().declare(&id, &reader, &declaration).await {
        Ok(healthcode_service::Declared::Recorded(_)) => see_other(&format!("/persons/{id}")),
        Ok(healthcode_service::Declared::Waiting(_)) => waiting_page(ui, &id),
        Err(ServiceError::Invalid(e)) => {
            let message = e.message;
            page(ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), &form)
        }
        Err(e @ ServiceError::UnknownArea { .. }) => {
            let message = e.to_string();
            page(ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), &form)
        }
        Err(e) => ui.internal("recording a declaration", e),
    })
}

/// A declaration made with a key an official gave at a counter: it waits for another.
fn waiting_page(ui: Ui, id: &PersonId) -> Response {
    let body = html!(
        r#"<h1>{title}</h1><p id="declaration-waiting">{text}</p><p><a href="/persons/{id}">{back}</a></p>"#,
        id = id.as_str(),
        title = ui.t("申报待核实", "Declaration waiting"),
        text = ui.t(
            "此码的密钥由服务窗口工作人员发放，工作人员见过该密钥：为防止任何一名工作人员单独改变健康码，本次申报须经另一名工作人员核实后才计入。",
            "The key used here was given at a service counter, so an official has seen it: so that no official \
             alone can change a code, this declaration counts once another official confirms it.",
        ),
        back = ui.t("返回我的健康码", "Back to my code"),
    );
    ui.page(StatusCode::ACCEPTED, ui.t("申报待核实", "Declaration waiting"), body)
}
