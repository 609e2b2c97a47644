//! A Case spanning incidents of several Contoso tenants, through the CLI and the lab: applying it tags
//! and comments each member once however often it runs, `cases` shows the members' live state, and
//! closing it with `--resolve` resolves them.

use std::path::Path;

use serde_json::Value;

use super::support::*;

const NORTHWIND_EMEA: &str = "9d1f3b5a-7c26-4e8d-b0a4-2c6e8f1a3b55";

fn incident(state: &Path, tenant: &str, id: &str) -> Value {
    let path = state.join("tenants").join(tenant).join("incidents").join(format!("{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("json")
}

#[test]
fn a_case_links_its_incidents_once_shows_them_and_resolves_them_when_closed() {
    let state = contoso_state();
    let lab = state.path();
    let members = [(FABRIKAM_EMEA, "2001"), (NORTHWIND_EMEA, "2041")];
    for round in 1..=2 {
        let applied = with_lab(lab, &["cases", "apply", "-f", "examples/contoso", "--yes", "-o", "json"]);
        expect_code(&applied, 0);
        let report: Value = serde_json::from_str(&stdout(&applied)).expect("json");
        let results: Vec<&str> =
            report["incidents"].as_array().expect("incidents").iter().filter_map(|i| i["result"].as_str()).collect();
        let expected = if round == 1 { "updated" } else { "unchanged" };
        assert!(results.len() == 3 && results.iter().all(|r| *r == expected), "round {round}: {results:?}");
        for (tenant, id) in members {
            let stored = incident(lab, tenant, id);
            let tags = stored["customTags"].as_array().expect("tags");
            assert_eq!(tags.iter().filter(|t| *t == "case:lsass-wave").count(), 1, "{stored}");
            let links = stored["comments"].as_array().expect("comments").iter().filter(|c| {
                c["comment"].as_str().is_some_and(|t| t.starts_with("Linked to case lsass-wave by tenantctl"))
            });
            assert_eq!(links.count(), 1, "commented once: {stored}");
        }
    }

    let listed = with_lab(lab, &["cases", "-f", "examples/contoso", "-o", "json"]);
    expect_code(&listed, 0);
    let cases: Value = serde_json::from_str(&stdout(&listed)).expect("json");
    let case = &cases[0];
    assert_eq!(case["name"], "lsass-wave");
    let statuses: Vec<(String, String)> = case["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                format!("{}/{}", m["tenant"].as_str().unwrap_or(""), m["id"].as_str().unwrap_or("")),
                m["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("fabrikam-emea/2001".to_string(), "inProgress".to_string()),
            ("fabrikam-us/2010".to_string(), "inProgress".to_string()),
            ("northwind-emea/2041".to_string(), "inProgress".to_string())
        ]
    );
    assert_eq!(case["openTasks"].as_array().map(Vec::len), Some(2));

    let closed = with_lab(
        lab,
        &[
            "cases",
            "close",
            "lsass-wave",
            "-f",
            "examples/contoso",
            "--resolve",
            "--classification",
            "truePositive",
            "--determination",
            "compromisedAccount",
            "--yes",
        ],
    );
    expect_code(&closed, 0);
    for (tenant, id) in members {
        let stored = incident(lab, tenant, id);
        assert_eq!(
            (stored["status"].as_str(), stored["classification"].as_str(), stored["determination"].as_str()),
            (Some("resolved"), Some("truePositive"), Some("compromisedAccount")),
            "{stored}"
        );
    }
}
