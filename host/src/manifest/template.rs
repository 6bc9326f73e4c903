//! Variable names and `{{ name }}` templates, as Spin writes them in
//! `[variables]` and `[component.<id>.variables]`.

use std::collections::BTreeMap;
use std::fmt;

/// Spin's rule for variable names: lowercase ASCII letters, digits and underscores,
/// starting with a letter.
pub fn is_valid_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A component variable value such as `"Bearer {{ api_token }}"`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// As written in the manifest.
    text: String,
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unterminated `{{{{` in `{text}`"))?;
            let name = after[..close].trim();
            if !is_valid_variable_name(name) {
                return Err(format!("`{{{{ {name} }}}}` does not name a variable"));
            }
            parts.push(Part::Variable(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// The template with every variable replaced by its value.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Variable(name) => out.push_str(
                    values
                        .get(name)
                        .ok_or_else(|| format!("refers to undeclared variable `{name}`"))?,
                ),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A template equals the text it was parsed from.
impl PartialEq<&str> for Template {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_renders_literals_and_variables() {
        let t = Template::parse("Bearer {{ token }}/{{region}}!").expect("valid");
        let values = BTreeMap::from([
            ("token".to_string(), "abc".to_string()),
            ("region".to_string(), "eu".to_string()),
        ]);
        assert_eq!(t.render(&values).expect("render"), "Bearer abc/eu!");
        assert_eq!(
            Template::parse("plain")
                .expect("valid")
                .render(&values)
                .expect("render"),
            "plain"
        );
    }

    #[test]
    fn malformed_templates_are_rejected() {
        assert!(Template::parse("{{ token").is_err());
        assert!(Template::parse("{{ Not-Valid }}").is_err());
        assert!(Template::parse("{{}}").is_err());
    }
}
