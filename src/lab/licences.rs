//! A tenant's subscriptions (`GET /v1.0/subscribedSkus`) and its organization (`GET /v1.0/organization`),
//! built from `tenant.json`'s `licenses` (SKU part numbers, Microsoft 365 E5 when absent). The service
//! plans listed are the ones tenantctl's features rest on, with Microsoft's ids (the licensing service
//! plan reference); the products hold more that the lab leaves out.

use serde_json::{Map, Value, json};

use super::ids::derived_guid;

const INTUNE_A: (&str, &str) = ("INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5");
const WINDEFATP: (&str, &str) = ("WINDEFATP", "871d91ec-ec1a-452b-a83f-bd76c7d770ef");
const MDE_LITE: (&str, &str) = ("MDE_LITE", "292cc034-7b7c-4950-aaf5-943befd3f1d4");
const MDE_SMB: (&str, &str) = ("MDE_SMB", "bfc1bbd9-981b-4f71-9b82-17c35fd0e2a4");
const MTP: (&str, &str) = ("MTP", "bf28f719-7844-4079-9c78-c1307898e192");
const AAD_PREMIUM_P2: (&str, &str) = ("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998");

/// A product: part number, `skuId`, service plans (name, id).
struct Sku {
    part_number: &'static str,
    sku_id: &'static str,
    plans: &'static [(&'static str, &'static str)],
}

const SKUS: &[Sku] = &[
    Sku {
        part_number: "SPE_E5",
        sku_id: "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        plans: &[INTUNE_A, WINDEFATP, MTP, AAD_PREMIUM_P2],
    },
    Sku { part_number: "SPE_E3", sku_id: "05e9a617-0261-4cee-bb44-138d3ef5d965", plans: &[INTUNE_A, MDE_LITE] },
    Sku { part_number: "SPB", sku_id: "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", plans: &[INTUNE_A, MDE_SMB] },
    Sku { part_number: "WIN_DEF_ATP", sku_id: "111046dd-295b-4d6d-9724-d52ac90bd1f2", plans: &[WINDEFATP] },
    Sku { part_number: "INTUNE_A", sku_id: "061f9ace-7d42-4136-88ac-31dc755f143f", plans: &[INTUNE_A] },
];

/// The licences a tenant has when `tenant.json` does not say.
pub const DEFAULT_LICENSES: &[&str] = &["SPE_E5"];

/// Why a licence name is not one the lab knows, naming the ones it does.
pub fn unknown_licence(name: &str) -> Option<String> {
    if SKUS.iter().any(|s| s.part_number.eq_ignore_ascii_case(name)) {
        return None;
    }
    let known: Vec<&str> = SKUS.iter().map(|s| s.part_number).collect();
    Some(format!("unknown licence `{name}` (the lab knows {})", known.join(", ")))
}

/// The `subscribedSku` objects of a tenant holding `licenses`; `withheld` names SKUs (left out) or
/// service plans (listed as `Disabled`).
pub fn subscribed_skus(tenant_id: &str, licenses: &[String], withheld: &[String]) -> Vec<Map<String, Value>> {
    let held = |name: &str| withheld.iter().any(|w| w.eq_ignore_ascii_case(name));
    SKUS.iter()
        .filter(|sku| licenses.iter().any(|l| l.eq_ignore_ascii_case(sku.part_number)) && !held(sku.part_number))
        .map(|sku| {
            let plans: Vec<Value> = sku
                .plans
                .iter()
                .map(|(name, id)| {
                    json!({
                        "servicePlanId": id,
                        "servicePlanName": name,
                        "provisioningStatus": if held(name) { "Disabled" } else { "Success" },
                        "appliesTo": "User",
                    })
                })
                .collect();
            let object = json!({
                "id": format!("{tenant_id}_{}", sku.sku_id),
                "accountId": tenant_id,
                "accountName": "lab",
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 25,
                "prepaidUnits": {"enabled": 50, "lockedOut": 0, "suspended": 0, "warning": 0},
                "skuId": sku.sku_id,
                "skuPartNumber": sku.part_number,
                "subscriptionIds": [derived_guid(&format!("subscription/{tenant_id}/{}", sku.part_number))],
                "servicePlans": plans,
            });
            object.as_object().cloned().unwrap_or_default()
        })
        .collect()
}

/// The tenant's `organization` object.
pub fn organization(tenant_id: &str, display_name: &str) -> Map<String, Value> {
    let nickname: String = display_name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let domain = format!("{}.onmicrosoft.com", if nickname.is_empty() { "lab" } else { &nickname });
    let object = json!({
        "id": tenant_id,
        "displayName": display_name,
        "tenantType": "AAD",
        "countryLetterCode": "US",
        "verifiedDomains": [{
            "name": domain,
            "type": "Managed",
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true,
            "isInitial": true,
        }],
    });
    object.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withholding_removes_a_product_or_disables_a_plan() {
        let skus = subscribed_skus("t", &["SPE_E5".into(), "SPB".into()], &[]);
        assert_eq!(skus.len(), 2);
        let without = subscribed_skus("t", &["SPE_E5".into()], &["WINDEFATP".into()]);
        let plans = without[0]["servicePlans"].as_array().expect("plans");
        let defender = plans.iter().find(|p| p["servicePlanName"] == "WINDEFATP").expect("listed");
        assert_eq!(defender["provisioningStatus"], "Disabled");
        assert!(subscribed_skus("t", &["SPE_E5".into()], &["spe_e5".into()]).is_empty());
        assert!(unknown_licence("SPE_E7").is_some_and(|m| m.contains("SPE_E5")));
        assert_eq!(
            organization("t", "Fabrikam Retail")["verifiedDomains"][0]["name"],
            "fabrikamretail.onmicrosoft.com"
        );
    }
}
