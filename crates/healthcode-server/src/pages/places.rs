//! Places on pages: an area's name where its code would be (`place_label`), and the area
//! picker every form that asks for an area uses instead of a bare box for digits.
//!
//! The picker works without scripts (the pages' CSP allows none): each step is a submit
//! button of the form it sits in (`{field}_pick` = the code chosen, `{field}_search` with
//! the words in `{field}_q`), and the form's handler, seeing one of them
//! ([`AreaPicker::acted`]), shows the same form again with the area chosen so far and
//! the next level's choices: province → city → county → township. The code itself stays
//! in a text box named `{field}` (filled in by the choices), so a code can still be typed.
//! Picker buttons carry `formnovalidate`: choosing a place is not submitting the form.

use healthcode_domain::AreaCode;
use healthcode_places::{Division, Divisions, Level};

use crate::pages::extract::Fields;
use crate::pages::layout::{Lang, Ui};
use crate::pages::markup::{html, Markup};

/// How many search results a picker lists.
const SEARCH_RESULTS: usize = 30;

/// An area's name and code (`浙江省杭州市西湖区 (330106)`), or the code alone when the
/// list does not know it; in English the English form.
pub(crate) fn place_label(ui: &Ui, code: &str) -> String {
    // A jurisdiction or a complaint's area is kept in normal form (`3301`).
    let written = healthcode_places::written(code);
    match AreaCode::parse(&written) {
        Ok(area) => Divisions::embedded().place(&area).label(matches!(ui.lang, Lang::En)),
        Err(_) => code.to_string(),
    }
}

/// The picker's state, read from a form (a first showing has none).
pub(crate) struct AreaPicker<'a> {
    field: &'a str,
    /// The code as it stands in the form: picked, typed, or empty.
    code: String,
    query: String,
    searched: bool,
    /// The deepest level offered (townships for most forms).
    deepest: Level,
}

impl<'a> AreaPicker<'a> {
    pub fn new(field: &'a str, kept: &Fields) -> Self {
        let get = |name: String| kept.get(&name).map(|v| v.trim().to_string()).unwrap_or_default();
        let picked = kept.get(&format!("{field}_pick")).map(|v| v.trim().to_string());
        let code = picked.unwrap_or_else(|| get(field.to_string()));
        let searched = kept.contains_key(&format!("{field}_search"));
        AreaPicker { field, code, query: get(format!("{field}_q")), searched, deepest: Level::Township }
    }

    /// The code as it stands: picked, typed, or empty.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Whether this post is a step of the picker (a choice or a search), to be answered
    /// with the form again rather than acted on.
    pub fn acted(field: &str, form: &Fields) -> bool {
        form.contains_key(&format!("{field}_pick")) || form.contains_key(&format!("{field}_search"))
    }

    /// The division chosen so far, if the code names a current one.
    fn chosen(&self) -> Option<&'static Division> {
        let list = Divisions::embedded();
        let area = AreaCode::parse(&self.code).ok()?;
        list.get(area.normal()).filter(|d| list.is_current(d))
    }

    pub fn render(&self, ui: &Ui, label: &str, required: bool, note: Markup) -> Markup {
        let list = Divisions::embedded();
        let field = self.field;
        let chosen = self.chosen();
        let mut out = html!(
            r#"<fieldset class="picker" id="{field}-picker"><legend>{label}</legend>"#,
            field = field,
            label = label
        );
        // Where we are: each level above is a button back to it.
        let mut trail = Markup::new();
        if let Some(d) = chosen {
            trail.push(pick_button(field, "", ui.t("全部", "All"), "crumb"));
            for above in list.ancestry(&d.code) {
                trail.push_literal(" › ");
                if above.code == d.code {
                    trail.push(html!("<strong>{name}</strong>", name = ui.t(&above.name, &above.en)));
                } else {
                    trail.push(pick_button(field, &above.written(), ui.t(&above.name, &above.en), "crumb"));
                }
            }
            out.push(html!(
                r#"<p class="chosen" id="{field}-chosen">{chosen_label} {trail} <span class="muted">({code})</span></p>"#,
                field = field,
                chosen_label = ui.t("已选：", "Chosen:"),
                trail = trail,
                code = d.written(),
            ));
        }
        out.push(note);
        // The next level's choices.
        let next_level = chosen.map_or(Some(Level::Province), |d| d.level().below());
        let parent = chosen.map_or("", |d| d.code.as_str());
        if next_level.is_some_and(|level| level <= self.deepest) {
            let children = list.children(parent);
            if !children.is_empty() {
                out.push(html!(
                    r#"<div class="choices" role="group" aria-label="{label}">"#,
                    label = ui.t("下一级", "Next level")
                ));
                for child in children {
                    out.push(pick_button(field, &child.written(), ui.t(&child.name, &child.en), "choice"));
                }
                out.push_literal("</div>");
            }
        }
        // Search by name, and the results.
        out.push(html!(
            r#"<div class="picker-search"><label for="{field}_q">{find}</label><input id="{field}_q" name="{field}_q" value="{query}" maxlength="40" autocomplete="off"><button type="submit" name="{field}_search" value="1" formnovalidate class="secondary">{search}</button></div>"#,
            field = field,
            find = ui.t("按名称查找（如：西湖）", "Find by name (e.g. 西湖 or Xihu)"),
            query = self.query.as_str(),
            search = ui.t("查找", "Find"),
        ));
        if self.searched {
            let found: Vec<&Division> = list
                .search(&self.query, SEARCH_RESULTS * 2)
                .into_iter()
                .filter(|d| d.level() <= self.deepest)
                .take(SEARCH_RESULTS)
                .collect();
            if found.is_empty() {
                out.push(html!(
                    r#"<p class="muted">{none}</p>"#,
                    none = ui.t("没有找到该名称的地区。", "No area has that name.")
                ));
            } else {
                out.push(html!(r#"<div class="choices results" id="{field}-results">"#, field = field));
                for d in found {
                    out.push(pick_button(field, &d.written(), ui.t(d.full_name(), d.full_name_en()), "choice"));
                }
                out.push_literal("</div>");
            }
        }
        out.push(html!(
            r#"<label for="{field}">{code_label} <span class="muted">{hint}</span></label><input id="{field}" name="{field}" maxlength="12" inputmode="numeric" autocomplete="off" value="{code}"{required}>"#,
            field = field,
            code_label = ui.t("地区代码", "Area code"),
            hint = ui.t("（选择后自动填入，也可直接输入 6、9 或 12 位代码）", "(filled in by your choice, or type 6, 9 or 12 digits)"),
            code = self.code.as_str(),
            required = Markup::literal(if required { " required" } else { "" }),
        ));
        out.push_literal("</fieldset>");
        out
    }
}

fn pick_button(field: &str, code: &str, name: &str, class: &'static str) -> Markup {
    html!(
        r#"<button type="submit" name="{field}_pick" value="{code}" formnovalidate class="{class}">{name}</button>"#,
        field = field,
        code = code,
        class = class,
        name = name,
    )
}

/// What a page says of an area it is about to act on: its name, or why it is no place.
pub(crate) fn area_summary(ui: &Ui, code: &str) -> Option<Markup> {
    let area = AreaCode::parse(code).ok()?;
    match Divisions::embedded().check_current(&area) {
        Ok(place) => Some(html!(r#"<p class="place">{name}</p>"#, name = ui.t(&place.name, &place.name_en))),
        Err(refused) => Some(html!(r#"<p class="notice" role="alert">{why}</p>"#, why = refused.to_string())),
    }
}
