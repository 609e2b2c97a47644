//! Saved plans (`plan --out`) read back for `apply PLAN` one tenant at a time: the document is parsed
//! as a stream and each tenant goes to a [`PlanSpool`] as soon as it is read, so that applying a plan
//! of any size holds one tenant's plan at a time, as making it did.

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use anyhow::Context;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::plan_spool::{PlanSpool, SpooledPlan};
use crate::engine::plan::{FORMAT_VERSION, TenantPlan};

/// Reads a saved plan into a spool. A plan of another format version is refused by name: the saved
/// document opens with its version, and reading stops there, before tenants it may not parse.
pub fn read_saved_plan(path: &Path) -> anyhow::Result<SpooledPlan> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut spool = PlanSpool::new().context("cannot create a temporary file for the plan")?;
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
    let mut version = None;
    let read =
        SavedPlan { spool: &mut spool, version: &mut version }.deserialize(&mut reader).and_then(|()| reader.end());
    match (version, read) {
        (Some(other), _) if other != FORMAT_VERSION => {
            anyhow::bail!("{} has plan format {other} (this tenantctl reads {FORMAT_VERSION})", path.display())
        }
        (_, Err(error)) => Err(error).with_context(|| format!("{} is not a tenantctl plan", path.display())),
        (None, Ok(())) => anyhow::bail!("{} is not a tenantctl plan: it has no formatVersion", path.display()),
        (Some(_), Ok(())) => Ok(SpooledPlan::new(spool)),
    }
}

/// The plan document: `formatVersion` kept, `tenants` streamed into the spool, the rest (totals and
/// rollouts, which the tenants' own plans already account for) passed over.
struct SavedPlan<'a> {
    spool: &'a mut PlanSpool,
    version: &'a mut Option<u32>,
}

impl<'de> DeserializeSeed<'de> for SavedPlan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SavedPlan<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a plan saved by `tenantctl plan --out`")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "formatVersion" => {
                    let found: u32 = map.next_value()?;
                    *self.version = Some(found);
                    if found != FORMAT_VERSION {
                        // Tenants of another format may not even parse: stop before them.
                        return Err(de::Error::custom(format!("plan format {found}")));
                    }
                }
                "tenants" => map.next_value_seed(Tenants { spool: &mut *self.spool })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `tenants` array, each element handed to the spool as it is parsed.
struct Tenants<'a> {
    spool: &'a mut PlanSpool,
}

impl<'de> DeserializeSeed<'de> for Tenants<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Tenants<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a list of tenants' plans")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(tenant) = seq.next_element::<TenantPlan>()? {
            self.spool.push(&tenant).map_err(|e| de::Error::custom(format!("cannot spool the plan: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{Plan, TenantState};

    fn saved(text: &str) -> (tempfile::NamedTempFile, anyhow::Result<SpooledPlan>) {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        let read = read_saved_plan(file.path());
        (file, read)
    }

    #[test]
    fn a_saved_plan_comes_back_tenant_by_tenant_as_it_was_written() {
        let mut a = TenantPlan::empty("a", "id-a", TenantState::Planned);
        a.unmanaged = 3;
        let plan = Plan::new(vec![a, TenantPlan::empty("b", "id-b", TenantState::Unknown)]);
        let (_file, read) = saved(&serde_json::to_string_pretty(&plan).expect("json"));
        let spooled = read.expect("a saved plan");
        assert_eq!(spooled.summary(), &plan.summary);
        assert_eq!(spooled.id().expect("id"), plan.id());
        assert_eq!(spooled.collect().expect("read back"), plan.tenants);
    }

    #[test]
    fn other_formats_and_other_documents_are_refused_by_name() {
        let (_file, read) = saved(r#"{"formatVersion": 99, "tenants": [{"unknown": true}]}"#);
        let error = format!("{:#}", read.err().expect("refused"));
        assert!(error.contains("has plan format 99 (this tenantctl reads"), "{error}");
        let (_file, read) = saved(r#"{"tenants": []}"#);
        assert!(format!("{:#}", read.err().expect("refused")).contains("it has no formatVersion"));
        let (_file, read) = saved(&format!(r#"{{"formatVersion": {FORMAT_VERSION}, "tenants": [{{"name": 3}}]}}"#));
        assert!(format!("{:#}", read.err().expect("refused")).contains("is not a tenantctl plan"));
        let (_file, read) = saved("[1, 2]");
        assert!(format!("{:#}", read.err().expect("refused")).contains("is not a tenantctl plan"));
    }
}
