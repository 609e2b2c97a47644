//! Overrides applied to what each tenant receives, after profile resolution: every override that
//! covers the tenant and names an object it receives patches that object's spec, in override name
//! order. Two overrides that edit the same setting of one tenant conflict (unless both append to
//! the same list), and are named errors, as conflicting profiles are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kube::ResourceExt;

use super::desired::{Patchable, TenantDesired};
use super::plan::Overridden;
use crate::manifest::{Diagnostic, Manifest, ManifestSet};
use crate::model::patch::{Edit, overlaps};
use crate::model::{Kind, ObjectRef, PolicyOverride, Tenant};
use crate::util::plural::tenant_list;

/// Applies overrides tenant by tenant, sharing each patched rendering among the tenants patched
/// alike, and gathers what went wrong across tenants.
pub struct Overriding<'a> {
    set: &'a ManifestSet,
    /// Patched objects by namespace, object and the overrides applied.
    patched: HashMap<String, Box<dyn std::any::Any>>,
    conflicts: BTreeMap<(usize, usize, String, String), Vec<String>>,
    failures: BTreeMap<(Vec<usize>, ObjectRef), Failure>,
    applied: BTreeSet<usize>,
}

/// Overrides whose patch is not a valid spec: why, and for which tenants.
#[derive(Default)]
struct Failure {
    errors: Vec<String>,
    tenants: Vec<String>,
}

impl<'a> Overriding<'a> {
    pub fn new(set: &'a ManifestSet) -> Overriding<'a> {
        Overriding {
            set,
            patched: HashMap::new(),
            conflicts: BTreeMap::new(),
            failures: BTreeMap::new(),
            applied: BTreeSet::new(),
        }
    }

    /// Patches the tenant's desired objects with the overrides that cover it.
    pub fn apply(&mut self, tenant: &Manifest<Tenant>, desired: &mut TenantDesired) {
        let namespace = tenant.namespace();
        let mut covering: Vec<usize> = (0..self.set.overrides.len())
            .filter(|&i| {
                let o = &self.set.overrides[i];
                o.namespace() == namespace && o.object.spec.covers(&desired.name, tenant.object.labels())
            })
            .collect();
        if covering.is_empty() {
            return;
        }
        covering.sort_by_key(|&i| self.set.overrides[i].name());
        let mut by_object: BTreeMap<ObjectRef, Vec<usize>> = BTreeMap::new();
        for i in covering {
            if let Some(object) = self.set.overrides[i].object.spec.object() {
                by_object.entry(object).or_default().push(i);
            }
        }
        for (object, overrides) in by_object {
            let patched = match object.kind {
                Kind::IntuneRole => self.patch_in(&mut desired.roles, &object, &overrides, &desired.name),
                Kind::DefenderRole => self.patch_in(&mut desired.defender_roles, &object, &overrides, &desired.name),
                Kind::DetectionRule => self.patch_in(&mut desired.detection_rules, &object, &overrides, &desired.name),
                _ => self.patch_in(&mut desired.policies, &object, &overrides, &desired.name),
            };
            if patched {
                self.find_conflicts(&overrides, &desired.name);
                self.applied.extend(overrides);
            }
        }
    }

    /// Patches the object in `list`, when the tenant receives it; whether it does.
    fn patch_in<D: Patchable + 'static>(
        &mut self,
        list: &mut [D],
        object: &ObjectRef,
        overrides: &[usize],
        tenant: &str,
    ) -> bool {
        let Some(target) = list.iter_mut().find(|d| d.object() == object) else { return false };
        let manifests: Vec<&Manifest<PolicyOverride>> = overrides.iter().map(|&i| &self.set.overrides[i]).collect();
        let edits: Vec<(String, Edit)> =
            manifests.iter().flat_map(|o| o.object.spec.edits()).map(|(path, edit, _)| (path, edit)).collect();
        let names: Vec<String> = manifests.iter().map(|o| o.name()).collect();
        let key = format!("{}\n{object}\n{}", manifests[0].namespace(), names.join("\n"));
        let cached = self.patched.get(&key).and_then(|any| any.downcast_ref::<Result<D, Vec<String>>>());
        let result = match cached {
            Some(result) => result.as_ref().map(|patched| target.with_content_of(patched)).map_err(Clone::clone),
            None => {
                let result = target.patched(&edits);
                self.patched.insert(key, Box::new(result.clone()));
                result
            }
        };
        match result {
            Ok(mut patched) => {
                patched.set_overridden(manifests.iter().map(|o| overridden(o)).collect());
                *target = patched;
            }
            Err(errors) => {
                // Name the override at fault: the one whose patch alone is not valid, when there is one.
                let mut culprits: Vec<(Vec<usize>, Vec<String>)> = overrides
                    .iter()
                    .filter_map(|&i| {
                        let alone: Vec<(String, Edit)> =
                            self.set.overrides[i].object.spec.edits().into_iter().map(|(p, e, _)| (p, e)).collect();
                        target.patched(&alone).err().map(|errors| (vec![i], errors))
                    })
                    .collect();
                if culprits.is_empty() {
                    culprits.push((overrides.to_vec(), errors));
                }
                for (applied, errors) in culprits {
                    let entry = self.failures.entry((applied, object.clone())).or_default();
                    entry.errors = errors;
                    entry.tenants.push(tenant.to_string());
                }
            }
        }
        true
    }

    fn find_conflicts(&mut self, overrides: &[usize], tenant: &str) {
        for (n, &first) in overrides.iter().enumerate() {
            for &second in &overrides[n + 1..] {
                let a = self.set.overrides[first].object.spec.edits();
                let b = self.set.overrides[second].object.spec.edits();
                for (path_a, edit_a, _) in &a {
                    for (path_b, edit_b, field_b) in &b {
                        let both_append = matches!((edit_a, edit_b), (Edit::Append(_), Edit::Append(_)));
                        if overlaps(path_a, path_b) && !(both_append && path_a == path_b) {
                            let key = (first, second, path_a.clone(), field_b.clone());
                            self.conflicts.entry(key).or_default().push(tenant.to_string());
                        }
                    }
                }
            }
        }
    }

    /// Conflicts, overrides whose patch is not a valid spec, and overrides that patched nothing.
    pub fn diagnostics(self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let overrides = &self.set.overrides;
        for ((first, second, path_a, field_b), tenants) in self.conflicts {
            let (first, second) = (&overrides[first], &overrides[second]);
            let target = &second.object.spec.target;
            let message = format!(
                "edits {}/{} where PolicyOverride/{} also edits it (`{path_a}`) for {}: merge the two, or make them cover different tenants",
                target.kind,
                target.name,
                first.name(),
                tenant_list(&tenants)
            );
            out.push(
                Diagnostic::error(message)
                    .resource(format!("PolicyOverride/{}", second.name()))
                    .path(field_b.clone())
                    .at(second.key_at(&field_b)),
            );
        }
        for ((applied, object), Failure { errors, tenants }) in self.failures {
            let Some(&last) = applied.last() else { continue };
            let last = &overrides[last];
            let names: Vec<String> =
                applied.iter().map(|&i| format!("PolicyOverride/{}", overrides[i].name())).collect();
            let message = format!(
                "{object} patched by {} is not valid for {}: {}",
                names.join(" together with "),
                tenant_list(&tenants),
                errors.join("; ")
            );
            out.push(
                Diagnostic::error(message)
                    .resource(format!("PolicyOverride/{}", last.name()))
                    .path("spec")
                    .at(last.value_at("spec")),
            );
        }
        for (i, o) in overrides.iter().enumerate() {
            let covers_any = self
                .set
                .tenants
                .iter()
                .any(|t| t.namespace() == o.namespace() && o.object.spec.covers(&t.name(), t.object.labels()));
            if covers_any && !self.applied.contains(&i) {
                let target = &o.object.spec.target;
                let message = format!("patches nothing: no tenant it covers receives {}/{}", target.kind, target.name);
                out.push(
                    Diagnostic::warning(message)
                        .resource(format!("PolicyOverride/{}", o.name()))
                        .path("spec.target")
                        .at(o.value_at("spec.target")),
                );
            }
        }
        out
    }
}

/// What an override does, in words: for plans and exports.
pub fn overridden(o: &Manifest<PolicyOverride>) -> Overridden {
    let edits = o
        .object
        .spec
        .edits()
        .into_iter()
        .map(|(path, edit, _)| match edit {
            Edit::Set(_) => format!("set {path}"),
            Edit::Append(_) => format!("append {path}"),
            Edit::Remove => format!("remove {path}"),
        })
        .collect();
    Overridden { r#override: format!("PolicyOverride/{}", o.name()), edits }
}
