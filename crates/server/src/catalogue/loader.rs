//! Loads the service definitions from `services/*.json` and refuses bad ones, naming the file
//! and the field.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use portal_domain::catalogue::ServiceSummary;
use portal_domain::service::ServiceDefinition;
use sha2::{Digest, Sha256};

/// Every loaded definition, in catalogue order.
#[derive(Debug)]
pub struct Catalogue {
    services: Vec<LoadedService>,
    summaries: Vec<ServiceSummary>,
    by_id: HashMap<String, usize>,
    /// A digest over all definitions: changes whenever any definition changes (ETags use it).
    version: String,
}

#[derive(Debug)]
pub struct LoadedService {
    pub definition: ServiceDefinition,
    /// SHA-256 of the file as loaded, hex.
    pub sha256: String,
    pub json: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    pub field: Option<String>,
    pub problem: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(
                f,
                "{}: field `{field}`: {}",
                self.file.display(),
                self.problem
            ),
            None => write!(f, "{}: {}", self.file.display(), self.problem),
        }
    }
}

impl std::error::Error for LoadError {}

/// All problems found, one per line, so one run shows everything to fix.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the service definitions:", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl Catalogue {
    pub fn load_dir(dir: &Path) -> Result<Catalogue, LoadErrors> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            LoadErrors(vec![LoadError {
                file: dir.to_path_buf(),
                field: None,
                problem: format!("cannot read the directory: {e}"),
            }])
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        let mut loaded = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            match load_file(&file) {
                Ok(service) => loaded.push(service),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if loaded.is_empty() && errors.is_empty() {
            errors.push(LoadError {
                file: dir.to_path_buf(),
                field: None,
                problem: "no service definitions (*.json) here".into(),
            });
        }
        let mut numbers = HashMap::new();
        for s in &loaded {
            if let Some(other) = numbers.insert(s.definition.catalogue_number, &s.definition.id) {
                errors.push(LoadError {
                    file: dir.join(format!("{}.json", s.definition.id)),
                    field: Some("catalogue_number".into()),
                    problem: format!("{} is also used by {other}", s.definition.catalogue_number),
                });
            }
        }
        if !errors.is_empty() {
            return Err(LoadErrors(errors));
        }
        Ok(Catalogue::new(loaded))
    }

    fn new(mut services: Vec<LoadedService>) -> Catalogue {
        services.sort_by_key(|s| s.definition.catalogue_number);
        let summaries = services
            .iter()
            .map(|s| ServiceSummary::from(&s.definition))
            .collect();
        let by_id = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.definition.id.clone(), i))
            .collect();
        let mut digest = Sha256::new();
        for s in &services {
            digest.update(s.sha256.as_bytes());
        }
        Catalogue {
            services,
            summaries,
            by_id,
            version: hex(&digest.finalize()),
        }
    }

    pub fn services(&self) -> &[LoadedService] {
        &self.services
    }

    pub fn summaries(&self) -> &[ServiceSummary] {
        &self.summaries
    }

    pub fn get(&self, id: &str) -> Option<&LoadedService> {
        self.by_id.get(id).map(|i| &self.services[*i])
    }

    pub fn version(&self) -> &str {
        &self.version
    }
}

fn load_file(file: &Path) -> Result<LoadedService, Vec<LoadError>> {
    let error = |field: Option<String>, problem: String| {
        vec![LoadError {
            file: file.to_path_buf(),
            field,
            problem,
        }]
    };
    let json =
        std::fs::read_to_string(file).map_err(|e| error(None, format!("cannot read: {e}")))?;
    let deserializer = &mut serde_json::Deserializer::from_str(&json);
    let definition: ServiceDefinition =
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = (path != ".").then_some(path);
            error(field, format!("{inner}"))
        })?;
    let raw: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let mut errors: Vec<LoadError> = portal_domain::form::unknown_field_keys(&raw["form"])
        .into_iter()
        .map(|(path, key)| LoadError {
            file: file.to_path_buf(),
            field: Some(path),
            problem: format!("unknown field `{key}`"),
        })
        .collect();
    errors.extend(match definition.validate() {
        Ok(()) => vec![],
        Err(problems) => problems
            .into_iter()
            .map(|p| LoadError {
                file: file.to_path_buf(),
                field: Some(p.field),
                problem: p.problem,
            })
            .collect(),
    });
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if definition.id != stem {
        errors.push(LoadError {
            file: file.to_path_buf(),
            field: Some("id".into()),
            problem: format!("`{}` must equal the file name `{stem}`", definition.id),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let sha256 = hex(&Sha256::digest(json.as_bytes()));
    Ok(LoadedService {
        definition,
        sha256,
        json,
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_services() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")
    }

    fn with_file(name: &str, content: &str) -> (tempfile::TempDir, Result<Catalogue, LoadErrors>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), content).unwrap();
        let result = Catalogue::load_dir(dir.path());
        (dir, result)
    }

    fn model() -> serde_json::Value {
        let text = std::fs::read_to_string(repo_services().join("school-enrollment.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn loads_all_sixteen_services_of_the_repository() {
        let catalogue = Catalogue::load_dir(&repo_services()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalogue.services().len(), 16);
        let portal = catalogue.summaries().iter().filter(|s| s.portal).count();
        assert_eq!(
            portal, 12,
            "the catalogue says 12 of the 16 services have the portal channel"
        );
        let numbers: Vec<u32> = catalogue
            .summaries()
            .iter()
            .map(|s| s.catalogue_number)
            .collect();
        assert_eq!(numbers, (1..=16).collect::<Vec<_>>());
    }

    /// Seed file codes (`000`…`004`) help maintainers, not citizens: texts describe the
    /// documents in words. Only `source.seed_files` names the files.
    #[test]
    fn citizens_never_see_seed_file_codes() {
        fn has_code(text: &str) -> bool {
            let chars: Vec<char> = text.chars().collect();
            (0..chars.len().saturating_sub(2)).any(|i| {
                chars[i] == '0'
                    && chars[i + 1] == '0'
                    && ('0'..='4').contains(&chars[i + 2])
                    && (i == 0
                        || !(chars[i - 1].is_ascii_digit()
                            || matches!(chars[i - 1], '/' | '.' | ',')))
                    && chars.get(i + 3).is_none_or(|c| !c.is_ascii_digit())
            })
        }
        fn strings<'a>(
            value: &'a serde_json::Value,
            path: String,
            out: &mut Vec<(String, &'a str)>,
        ) {
            match value {
                serde_json::Value::String(s) => out.push((path, s)),
                serde_json::Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| strings(v, format!("{path}[{i}]"), out)),
                serde_json::Value::Object(map) => map
                    .iter()
                    .for_each(|(k, v)| strings(v, format!("{path}.{k}"), out)),
                _ => {}
            }
        }
        assert!(
            has_code("Free (004)")
                && has_code("000: the act")
                && !has_code("8 800 080 7777")
                && !has_code("No. 1004")
        );
        let catalogue = Catalogue::load_dir(&repo_services()).unwrap();
        let mut found = Vec::new();
        for service in catalogue.services() {
            let mut json = serde_json::to_value(&service.definition).unwrap();
            json["source"]["seed_files"] = serde_json::Value::Null;
            let mut texts = Vec::new();
            strings(&json, service.definition.id.clone(), &mut texts);
            found.extend(
                texts
                    .into_iter()
                    .filter(|(_, t)| has_code(t))
                    .map(|(p, t)| format!("{p}: {t}")),
            );
        }
        assert!(
            found.is_empty(),
            "seed codes in citizen-facing text:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let (_dir, result) = with_file("broken.json", "{ \"id\": ");
        let errors = result.unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file.ends_with("broken.json"));
        assert!(
            errors[0].to_string().contains("broken.json"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_wrong_value_names_the_field_path() {
        let mut json = model();
        json["steps"][1]["duration"] = serde_json::json!({"value": 3, "unit": "weeks"});
        let (_dir, result) = with_file("school-enrollment.json", &json.to_string());
        let errors = result.unwrap_err().0;
        assert_eq!(
            errors[0].field.as_deref(),
            Some("steps[1].duration.unit"),
            "{}",
            errors[0]
        );
        assert!(errors[0].problem.contains("weeks"));
    }

    #[test]
    fn an_empty_translation_names_the_field_and_language() {
        let mut json = model();
        json["summary"]["ru"] = "".into();
        let (_dir, result) = with_file("school-enrollment.json", &json.to_string());
        let errors = result.unwrap_err().0;
        assert_eq!(errors[0].field.as_deref(), Some("summary.ru"));
    }

    #[test]
    fn the_id_must_match_the_file_name() {
        let (_dir, result) = with_file("other-name.json", &model().to_string());
        let errors = result.unwrap_err().0;
        assert_eq!(errors[0].field.as_deref(), Some("id"));
    }

    #[test]
    fn duplicate_catalogue_numbers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = model();
        let mut second = model();
        second["id"] = "school-enrollment-copy".into();
        std::fs::write(dir.path().join("school-enrollment.json"), first.to_string()).unwrap();
        std::fs::write(
            dir.path().join("school-enrollment-copy.json"),
            second.to_string(),
        )
        .unwrap();
        let errors = Catalogue::load_dir(dir.path()).unwrap_err().0;
        assert_eq!(errors[0].field.as_deref(), Some("catalogue_number"));
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Catalogue::load_dir(dir.path()).is_err());
    }
}
