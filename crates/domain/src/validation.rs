//! Problems with the fields of a form, as the browser and the server both report them: the
//! field, a message key, and the values the message mentions.

use portal_i18n::{Lang, Msg, tf};
use serde::{Deserialize, Serialize};

use crate::text::Text;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldIssue {
    /// The field's name as the request spells it, e.g. `iin` or `children[0].birth_date`.
    pub field: String,
    pub msg: Msg,
    pub args: Vec<(String, String)>,
    /// A message written in a service definition (a rule between fields), used instead of `msg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, msg: Msg) -> FieldIssue {
        FieldIssue {
            field: field.into(),
            msg,
            args: Vec::new(),
            text: None,
        }
    }

    /// An issue whose message the service definition wrote.
    pub fn custom(field: impl Into<String>, text: Text) -> FieldIssue {
        FieldIssue {
            field: field.into(),
            msg: Msg::ErrorFormRule,
            args: Vec::new(),
            text: Some(text),
        }
    }

    pub fn arg(mut self, name: &str, value: impl Into<String>) -> FieldIssue {
        self.args.push((name.to_string(), value.into()));
        self
    }

    pub fn message(&self, lang: Lang) -> String {
        if let Some(text) = &self.text {
            return text.get(lang).to_string();
        }
        let args: Vec<(&str, &str)> = self
            .args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        tf(lang, self.msg, &args)
    }
}

/// Collects the issues of a form in the order its fields appear.
#[derive(Debug, Default)]
pub struct Issues(pub Vec<FieldIssue>);

impl Issues {
    pub fn add(&mut self, issue: FieldIssue) {
        self.0.push(issue);
    }

    /// Records `msg` for `field` when `result` is an error; returns the value otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Msg>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(msg) => {
                self.add(FieldIssue::new(field, msg));
                None
            }
        }
    }

    /// An optional field: `Some(None)` when blank, `Some(Some(v))` when it parses, `None` (with
    /// the issue recorded) when it does not.
    pub fn optional<T>(
        &mut self,
        field: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, Msg>,
    ) -> Option<Option<T>> {
        if value.trim().is_empty() {
            Some(None)
        } else {
            self.check(field, parse(value)).map(Some)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `value` when nothing was found, else the issues.
    pub fn into_result<T>(self, value: T) -> Result<T, Vec<FieldIssue>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    pub fn for_field(&self, field: &str) -> Option<&FieldIssue> {
        self.0.iter().find(|i| i.field == field)
    }
}
