//! Real exported policies (`tests/corpus/`, sources in its README) read as their typed kind, validate,
//! and render back to the same settings: what tenantctl would write on adopting them is what the
//! tenant already holds.

use std::path::PathBuf;

use tenantctl::engine::normalize::comparable;
use tenantctl::mapping::{kind_of_template, template};
use tenantctl::wire::ConfigurationPolicy;

#[test]
fn every_real_export_reads_typed_validates_and_renders_back_identically() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "a file per template at least");
    let mut kinds = std::collections::BTreeSet::new();
    for path in &files {
        let name = path.file_name().expect("name").to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).expect("read");
        let live: ConfigurationPolicy =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: Graph's shape: {e}"));
        let kind = kind_of_template(&live).unwrap_or_else(|| panic!("{name}: a typed template"));
        kinds.insert(kind);
        let table = tenantctl::model::template::table(kind).expect("table");
        let spec = template::from_wire(table, &live, &live.description);
        let problems = tenantctl::model::template::check::check(&table.nodes, &spec.settings, "spec", &[]);
        assert!(problems.is_empty(), "{name}: the typed spec validates: {problems:?}");
        let typed_settings = spec.settings.len();
        assert!(typed_settings > 0 || !spec.additional_settings.is_empty(), "{name}: something is read");
        let rendered = template::to_wire(table, &spec, &live.description);
        let mut expected = comparable(&live);
        let mut actual = comparable(&rendered);
        // Role scope tags are not part of a typed kind (IntuneCD exports name them instead of ids).
        expected["roleScopeTagIds"] = serde_json::Value::Null;
        actual["roleScopeTagIds"] = serde_json::Value::Null;
        assert_eq!(actual, expected, "{name}: renders back to the settings it was read from");
        // Only what the tables do not know stays raw, at the top or in a list item.
        let nested = serde_json::to_string(&spec.settings).expect("json");
        assert!(!nested.contains("additionalSettings"), "{name}: a list item kept settings raw: {nested}");
        for extra in &spec.additional_settings {
            let id = extra.setting_instance["settingDefinitionId"].as_str().unwrap_or_default();
            let secret = extra.setting_instance.to_string().contains("SecretSettingValue");
            assert!(secret, "{name}: `{id}` is typed by the table, yet kept raw");
        }
    }
    assert_eq!(kinds.len(), 8, "every typed kind has a real export: {kinds:?}");
}
