//! HTML that is safe by type. A page is [`Markup`], and `Markup` is made only of our own
//! template literals ([`html!`], [`Markup::literal`]), of text escaped on the way in, and
//! of other `Markup`: a string from a visitor, the database or a translation cannot reach
//! a page unescaped, and markup is never escaped twice (it is not text, so it is not
//! escaped again when placed in a template).
//!
//! `html!` is `format!` with every argument named and escaped by its type ([`Render`]):
//! text (`&str`, `String`, numbers) is escaped, `Markup` goes in as it is. A placeholder
//! that names no argument would be captured from the scope unescaped, so the template is
//! checked while compiling (`check_template`): every placeholder names an argument, and
//! none carries a format spec.

use std::fmt::{self, Write};

/// Escaped HTML, ready to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Markup(String);

impl Markup {
    pub fn new() -> Self {
        Markup(String::new())
    }

    /// HTML we wrote ourselves, as it is.
    pub fn literal(html: &'static str) -> Self {
        Markup(html.to_string())
    }

    /// Text, escaped.
    pub fn text(text: &str) -> Self {
        let mut out = Markup::new();
        out.push(text);
        out
    }

    /// Appends text (escaped) or markup (as it is).
    pub fn push(&mut self, part: impl Render) {
        let _ = write!(self.0, "{}", Escaped(&part));
    }

    /// Appends HTML we wrote ourselves, as it is.
    pub fn push_literal(&mut self, html: &'static str) {
        self.0.push_str(html);
    }

    /// The HTML, to test.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The parts with a literal separator between them.
    pub fn join(parts: impl IntoIterator<Item = Markup>, separator: &'static str) -> Markup {
        let mut out = Markup::new();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out.0.push_str(separator);
            }
            out.0.push_str(&part.0);
        }
        out
    }

    /// A QR code as `healthcode_token::qr::svg` draws it, inline (pages load no images)
    /// and labelled for screen readers. The drawing is checked, not trusted: only the
    /// elements and attributes the encoder writes pass; anything else draws nothing.
    pub fn qr_svg(svg: &str, label: &str) -> Markup {
        const TAGS: [&str; 4] = ["svg", "path", "rect", "/svg"];
        const ATTRIBUTES: [&str; 10] =
            ["xmlns", "version", "width", "height", "viewBox", "shape-rendering", "fill", "d", "x", "y"];
        let drawing = &svg[svg.find("<svg").unwrap_or(svg.len())..];
        let tags_known = drawing.split('<').skip(1).all(|tag| {
            let name = tag.split([' ', '>', '/']).next().unwrap_or("");
            TAGS.contains(&name) || (name.is_empty() && tag.starts_with("/svg"))
        });
        // Every `name="` in the drawing: the text before each `="` ends with its name.
        let pieces: Vec<&str> = drawing.split("=\"").collect();
        let attributes_known = pieces[..pieces.len() - 1]
            .iter()
            .all(|before| ATTRIBUTES.contains(&before.rsplit([' ', '<', '\n']).next().unwrap_or("")));
        if drawing.is_empty() || !tags_known || !attributes_known {
            tracing::error!("a QR drawing had unexpected markup; it is not shown");
            return Markup::new();
        }
        let mut out = html!("<svg role=\"img\" aria-label=\"{label}\"", label = label);
        out.0.push_str(&drawing["<svg".len()..]);
        out
    }

    /// What `html!` makes of its template once every argument went through [`Escaped`].
    /// Called by the macro only (a test scans the sources for other callers).
    #[doc(hidden)]
    pub fn from_checked_template(html: String) -> Self {
        Markup(html)
    }
}

impl FromIterator<Markup> for Markup {
    fn from_iter<I: IntoIterator<Item = Markup>>(iter: I) -> Self {
        Markup::join(iter, "")
    }
}

impl Extend<Markup> for Markup {
    fn extend<I: IntoIterator<Item = Markup>>(&mut self, iter: I) {
        for part in iter {
            self.0.push_str(&part.0);
        }
    }
}

/// How a value goes into HTML: text is escaped, markup is not.
pub(crate) trait Render {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Render for Markup {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(&self.0)
    }
}

impl Render for str {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            out.write_str(&rest[..at])?;
            out.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        out.write_str(rest)
    }
}

impl Render for String {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().render(out)
    }
}

impl Render for std::borrow::Cow<'_, str> {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().render(out)
    }
}

impl<T: Render + ?Sized> Render for &T {
    fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).render(out)
    }
}

/// Numbers have nothing to escape.
macro_rules! render_as_display {
    ($($t:ty),*) => {$(
        impl Render for $t {
            fn render(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(out, "{self}")
            }
        }
    )*};
}
render_as_display!(u8, u16, u32, u64, usize, i32, i64);

/// A value as `format!` sees it inside `html!`: rendered by its type.
#[doc(hidden)]
pub(crate) struct Escaped<'a, T: ?Sized>(pub &'a T);

impl<T: Render + ?Sized> fmt::Display for Escaped<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f)
    }
}

/// Fails the build (it runs in a `const`) if a placeholder of `template` is positional,
/// carries a format spec, or names no argument in `names` (format! would capture a
/// variable of that name from the scope, unescaped).
#[doc(hidden)]
pub(crate) const fn check_template(template: &str, names: &[&str]) {
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if i + 1 < bytes.len() && bytes[i + 1] == b'{' {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != b'}' {
                if bytes[end] == b':' {
                    panic!("html!: a placeholder carries a format spec; format the value into a String first");
                }
                end += 1;
            }
            if end == start {
                panic!("html!: a placeholder is positional; name it (`{{name}}` with `name = value`)");
            }
            if !names_contain(names, bytes, start, end) {
                panic!(
                    "html!: a placeholder names no argument: it would be captured unescaped; pass it as `name = value`"
                );
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
}

const fn names_contain(names: &[&str], bytes: &[u8], start: usize, end: usize) -> bool {
    let mut n = 0;
    while n < names.len() {
        let name = names[n].as_bytes();
        if name.len() == end - start {
            let mut k = 0;
            while k < name.len() && name[k] == bytes[start + k] {
                k += 1;
            }
            if k == name.len() {
                return true;
            }
        }
        n += 1;
    }
    false
}

/// `format!` for HTML: `html!("<p>{name}</p>", name = text)`. Every placeholder names an
/// argument; text arguments are escaped, `Markup` arguments are not. Makes [`Markup`].
macro_rules! html {
    ($template:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        const _: () = $crate::pages::markup::check_template($template, &[$(stringify!($name)),*]);
        $crate::pages::markup::Markup::from_checked_template(::std::format!(
            $template $(, $name = $crate::pages::markup::Escaped(&$value))*
        ))
    }};
}
pub(crate) use html;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markup_is_not() {
        let name = r#"<a href="x">'&'</a>"#;
        let inner = html!("<em>{name}</em>", name = name);
        assert_eq!(inner.as_str(), "<em>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</em>");
        let outer = html!("<p>{inner} {n}</p>", inner = inner, n = 42u64);
        assert_eq!(
            outer.as_str(),
            "<p><em>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</em> 42</p>",
            "markup inside markup is not escaped twice"
        );
        assert_eq!(html!("{{literal braces}}").as_str(), "{literal braces}");
    }

    #[test]
    fn pushing_and_joining() {
        let mut page = Markup::literal("<ul>");
        page.extend(["a<b", "c"].iter().map(|t| html!("<li>{t}</li>", t = t)));
        page.push("</ul>");
        assert_eq!(page.as_str(), "<ul><li>a&lt;b</li><li>c</li>&lt;/ul&gt;", "pushed text is text");
        page.push_literal("</ul>");
        assert!(page.as_str().ends_with("&lt;/ul&gt;</ul>"));
        assert_eq!(Markup::join([Markup::text("x"), Markup::text("&")], " · ").as_str(), "x · &amp;");
    }

    #[test]
    fn templates_that_would_capture_unescaped_are_refused() {
        // The const check runs at build time in `html!`; here it runs as a function.
        let refused = |template: &'static str, names: &'static [&'static str]| {
            std::panic::catch_unwind(|| check_template(template, names)).is_err()
        };
        assert!(!refused("<p>{a}{b}</p>", &["a", "b"]));
        assert!(refused("<p>{a}{b}</p>", &["a"]), "b would be captured from the scope");
        assert!(refused("<p>{}</p>", &[]), "positional");
        assert!(refused("<p>{a:?}</p>", &["a"]), "format spec");
        assert!(!refused("{{a}}", &[]), "escaped braces are text");
    }

    #[test]
    fn a_qr_drawing_passes_and_anything_else_does_not() {
        let svg = healthcode_token::qr::svg("HC1:test").unwrap();
        let drawn = Markup::qr_svg(&svg, "健康码 <code>");
        assert!(
            drawn.as_str().starts_with("<svg role=\"img\" aria-label=\"健康码 &lt;code&gt;\""),
            "{}",
            drawn.as_str()
        );
        assert!(drawn.as_str().ends_with("</svg>"));
        for hostile in [
            r#"<svg xmlns="x"><script>alert(1)</script></svg>"#,
            r#"<svg onload="alert(1)" width="1"></svg>"#,
            r#"<svg width="1"><path d="M0" onclick="x"/></svg>"#,
            "no drawing",
        ] {
            assert_eq!(Markup::qr_svg(hostile, "x"), Markup::new(), "{hostile}");
        }
    }

    #[test]
    fn only_the_macro_makes_markup_from_a_string() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(dir)];
        let mut offenders = Vec::new();
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("pages/markup.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("from_checked_template") || text.contains("Markup(") {
                    offenders.push(path.display().to_string());
                }
            }
        }
        assert!(offenders.is_empty(), "only html! turns a String into Markup: {offenders:?}");
    }
}
