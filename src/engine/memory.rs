//! An in-memory tenant behind the [`TenantApi`], for unit tests of the engine: what it stores is what
//! was written, with Graph's rules that matter to the engine (an assigned role cannot be deleted, ids
//! and creation times are the server's) and faults on demand (a create that commits but whose answer
//! is lost, a refused call).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::api::{Access, ApiError, CONFLICT, Reply, TenantApi};
use super::assignments::GroupsByName;
use crate::wire::common::Group;
use crate::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition};
use crate::wire::detection::DetectionRule;
use crate::wire::rbac::{RoleAssignment, RoleDefinition};
use crate::wire::{AssignmentTarget, ConfigurationPolicy, PolicyAssignment, Settings};

/// What the first tenant of a manifest text must have, for tests (the manifests must be valid).
pub fn first_tenant_desired(text: &str) -> super::resolve::TenantDesired {
    let mut loaded = crate::manifest::load::Loaded::default();
    crate::manifest::load::load_text(&mut loaded, std::sync::Arc::from("t.yaml"), text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    super::resolve::resolve(&loaded.set).desired.tenants.remove(0)
}

/// Runs a future that never waits on anything outside memory.
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub policies: Vec<ConfigurationPolicy>,
    pub definitions: Vec<RoleDefinition>,
    pub assignments: Vec<RoleAssignment>,
    pub detection_rules: Vec<DetectionRule>,
    pub defender_definitions: Vec<UnifiedRoleDefinition>,
    pub defender_assignments: Vec<UnifiedRoleAssignment>,
    /// The tenant's Defender XDR action catalogue.
    pub defender_actions: Vec<String>,
    pub groups: Vec<Group>,
    /// The next this many creates commit, but answer as if the connection dropped.
    pub lose_create_answers: usize,
    /// Calls refused with this error, by call name (`create_policy`, `assign_policy`…).
    pub refuse: BTreeMap<&'static str, ApiError>,
    /// Every call made, by name, in order.
    pub calls: Vec<&'static str>,
    /// What the app may do, as the tenant's token would say.
    pub access: Access,
    next_id: usize,
}

/// One tenant in memory.
#[derive(Debug, Default)]
pub struct MemoryTenant {
    pub state: Mutex<State>,
}

impl MemoryTenant {
    pub fn with_groups(names: &[&str]) -> MemoryTenant {
        let tenant = MemoryTenant::default();
        tenant.edit(|state| {
            for name in names {
                state.groups.push(Group { id: format!("group-{name}"), display_name: name.to_string() });
            }
        });
        tenant
    }

    pub fn edit<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut state)
    }

    /// Records a call, and answers the refusal set for it, if any.
    fn call(&self, name: &'static str) -> Reply<()> {
        self.edit(|state| {
            state.calls.push(name);
            match state.refuse.get(name) {
                Some(error) => Err(error.clone()),
                None => Ok(()),
            }
        })
    }

    /// Stores a created object; the answer is lost when a lost answer is due.
    fn created<T: Clone>(&self, store: impl FnOnce(&mut State, String, String) -> T) -> Reply<T> {
        self.edit(|state| {
            state.next_id += 1;
            let id = format!("id-{}", state.next_id);
            let created = format!("2026-01-01T00:00:{:02}Z", state.next_id % 60);
            let object = store(state, id, created);
            if state.lose_create_answers > 0 {
                state.lose_create_answers -= 1;
                return Err(ApiError { category: "transport", ambiguous: true, message: "connection reset".into() });
            }
            Ok(object)
        })
    }

    fn missing(what: &str, id: &str) -> ApiError {
        ApiError::new("not-found", format!("{what} {id} does not exist"))
    }
}

impl TenantApi for MemoryTenant {
    async fn access(&self) -> Reply<Access> {
        Ok(self.edit(|state| state.access.clone()))
    }

    async fn list_policies(&self) -> Reply<Vec<ConfigurationPolicy>> {
        self.call("list_policies")?;
        // As Graph lists them: the version, not the settings.
        let listed = |p: &ConfigurationPolicy| ConfigurationPolicy {
            setting_count: Some(p.settings.len() as i64),
            settings: Settings::default(),
            ..p.clone()
        };
        Ok(self.edit(|state| state.policies.iter().map(listed).collect()))
    }

    async fn read_policies(&self, ids: &[String]) -> Reply<Vec<ConfigurationPolicy>> {
        self.call("read_policies")?;
        Ok(self.edit(|state| {
            state.policies.iter().filter(|p| p.id.as_ref().is_some_and(|id| ids.contains(id))).cloned().collect()
        }))
    }

    async fn create_policy(&self, policy: &ConfigurationPolicy) -> Reply<ConfigurationPolicy> {
        self.call("create_policy")?;
        self.created(|state, id, created| {
            let stored = ConfigurationPolicy {
                id: Some(id),
                last_modified_date_time: Some(created.clone()),
                created_date_time: Some(created),
                assignments: Some(Vec::new()),
                ..policy.clone()
            };
            state.policies.push(stored.clone());
            stored
        })
    }

    async fn update_policy(&self, id: &str, policy: &ConfigurationPolicy) -> Reply<()> {
        self.call("update_policy")?;
        self.edit(|state| {
            let stored = state.policies.iter_mut().find(|p| p.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("policy", id))?;
            let (id, created, assignments) =
                (stored.id.clone(), stored.created_date_time.clone(), stored.assignments.clone());
            let modified = format!("{}+", stored.last_modified_date_time.clone().unwrap_or_default());
            *stored = ConfigurationPolicy {
                id,
                created_date_time: created,
                last_modified_date_time: Some(modified),
                assignments,
                ..policy.clone()
            };
            Ok(())
        })
    }

    async fn delete_policy(&self, id: &str) -> Reply<()> {
        self.call("delete_policy")?;
        self.edit(|state| {
            let before = state.policies.len();
            state.policies.retain(|p| p.id.as_deref() != Some(id));
            if state.policies.len() == before { Err(Self::missing("policy", id)) } else { Ok(()) }
        })
    }

    async fn assign_policy(&self, id: &str, targets: &[AssignmentTarget]) -> Reply<()> {
        self.call("assign_policy")?;
        self.edit(|state| {
            let stored = state.policies.iter_mut().find(|p| p.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("policy", id))?;
            stored.assignments = Some(
                targets
                    .iter()
                    .map(|target| PolicyAssignment { id: Some(format!("{id}_a")), target: target.clone() })
                    .collect(),
            );
            Ok(())
        })
    }

    async fn find_groups(&self, names: &[String]) -> Reply<GroupsByName> {
        self.call("find_groups")?;
        Ok(self.edit(|state| {
            names
                .iter()
                .map(|name| (name.clone(), state.groups.iter().filter(|g| &g.display_name == name).cloned().collect()))
                .collect()
        }))
    }

    async fn list_role_definitions(&self) -> Reply<Vec<RoleDefinition>> {
        self.call("list_role_definitions")?;
        Ok(self.edit(|state| state.definitions.clone()))
    }

    async fn list_role_assignments(&self) -> Reply<Vec<RoleAssignment>> {
        self.call("list_role_assignments")?;
        Ok(self.edit(|state| state.assignments.clone()))
    }

    async fn create_role_definition(&self, role: &RoleDefinition) -> Reply<RoleDefinition> {
        self.call("create_role_definition")?;
        self.created(|state, id, _| {
            let stored = RoleDefinition { id: Some(id), ..role.clone() };
            state.definitions.push(stored.clone());
            stored
        })
    }

    async fn update_role_definition(&self, id: &str, role: &RoleDefinition) -> Reply<()> {
        self.call("update_role_definition")?;
        self.edit(|state| {
            let stored = state.definitions.iter_mut().find(|d| d.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("role", id))?;
            *stored = RoleDefinition { id: stored.id.clone(), ..role.clone() };
            Ok(())
        })
    }

    async fn delete_role_definition(&self, id: &str) -> Reply<()> {
        self.call("delete_role_definition")?;
        self.edit(|state| {
            let assigned =
                state.assignments.iter().any(|a| a.role_definition.as_ref().and_then(|d| d.id.as_deref()) == Some(id));
            if assigned {
                return Err(ApiError::new("rejected", format!("role {id} is assigned and cannot be deleted")));
            }
            state.definitions.retain(|d| d.id.as_deref() != Some(id));
            Ok(())
        })
    }

    async fn create_role_assignment(&self, role_id: &str, assignment: &RoleAssignment) -> Reply<RoleAssignment> {
        self.call("create_role_assignment")?;
        self.created(|state, id, _| {
            let definition = RoleDefinition { id: Some(role_id.to_string()), ..RoleDefinition::default() };
            let stored = RoleAssignment { id: Some(id), role_definition: Some(definition), ..assignment.clone() };
            state.assignments.push(stored.clone());
            stored
        })
    }

    async fn update_role_assignment(&self, id: &str, assignment: &RoleAssignment) -> Reply<()> {
        self.call("update_role_assignment")?;
        self.edit(|state| {
            let stored = state.assignments.iter_mut().find(|a| a.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("role assignment", id))?;
            stored.members = assignment.members.clone();
            stored.resource_scopes = assignment.resource_scopes.clone();
            Ok(())
        })
    }

    async fn delete_role_assignment(&self, id: &str) -> Reply<()> {
        self.call("delete_role_assignment")?;
        self.edit(|state| {
            state.assignments.retain(|a| a.id.as_deref() != Some(id));
            Ok(())
        })
    }

    async fn list_detection_rules(&self) -> Reply<Vec<DetectionRule>> {
        self.call("list_detection_rules")?;
        Ok(self.edit(|state| state.detection_rules.clone()))
    }

    async fn get_detection_rule(&self, id: &str) -> Reply<Option<DetectionRule>> {
        self.call("get_detection_rule")?;
        Ok(self.edit(|state| state.detection_rules.iter().find(|r| r.id.as_deref() == Some(id)).cloned()))
    }

    async fn create_detection_rule(&self, rule: &DetectionRule) -> Reply<DetectionRule> {
        self.call("create_detection_rule")?;
        let taken = self
            .edit(|state| state.detection_rules.iter().any(|r| r.id == rule.id || r.display_name == rule.display_name));
        if taken {
            return Err(ApiError::new(CONFLICT, format!("a rule with id {:?} or its name exists", rule.id)));
        }
        self.created(|state, _, created| {
            let stored = DetectionRule { created_date_time: Some(created), ..rule.clone() };
            state.detection_rules.push(stored.clone());
            stored
        })
    }

    async fn update_detection_rule(&self, id: &str, rule: &DetectionRule) -> Reply<()> {
        self.call("update_detection_rule")?;
        self.edit(|state| {
            let stored = state.detection_rules.iter_mut().find(|r| r.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("detection rule", id))?;
            *stored = DetectionRule {
                id: stored.id.clone(),
                created_date_time: stored.created_date_time.clone(),
                ..rule.clone()
            };
            Ok(())
        })
    }

    async fn delete_detection_rule(&self, id: &str) -> Reply<()> {
        self.call("delete_detection_rule")?;
        self.edit(|state| {
            state.detection_rules.retain(|r| r.id.as_deref() != Some(id));
            Ok(())
        })
    }

    async fn list_defender_role_definitions(&self) -> Reply<Vec<UnifiedRoleDefinition>> {
        self.call("list_defender_role_definitions")?;
        Ok(self.edit(|state| state.defender_definitions.clone()))
    }

    async fn list_defender_role_assignments(&self) -> Reply<Vec<UnifiedRoleAssignment>> {
        self.call("list_defender_role_assignments")?;
        Ok(self.edit(|state| state.defender_assignments.clone()))
    }

    async fn create_defender_role_definition(&self, role: &UnifiedRoleDefinition) -> Reply<UnifiedRoleDefinition> {
        self.call("create_defender_role_definition")?;
        self.created(|state, id, _| {
            let stored = UnifiedRoleDefinition { id: Some(id), ..role.clone() };
            state.defender_definitions.push(stored.clone());
            stored
        })
    }

    async fn update_defender_role_definition(&self, id: &str, role: &UnifiedRoleDefinition) -> Reply<()> {
        self.call("update_defender_role_definition")?;
        self.edit(|state| {
            let stored = state.defender_definitions.iter_mut().find(|d| d.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("Defender role", id))?;
            *stored = UnifiedRoleDefinition { id: stored.id.clone(), ..role.clone() };
            Ok(())
        })
    }

    async fn delete_defender_role_definition(&self, id: &str) -> Reply<()> {
        self.call("delete_defender_role_definition")?;
        self.edit(|state| {
            if state.defender_assignments.iter().any(|a| a.role_definition_id == id) {
                return Err(ApiError::new("rejected", format!("Defender role {id} is assigned and cannot be deleted")));
            }
            state.defender_definitions.retain(|d| d.id.as_deref() != Some(id));
            Ok(())
        })
    }

    async fn create_defender_role_assignment(
        &self,
        assignment: &UnifiedRoleAssignment,
    ) -> Reply<UnifiedRoleAssignment> {
        self.call("create_defender_role_assignment")?;
        self.created(|state, id, _| {
            let stored = UnifiedRoleAssignment { id: Some(id), ..assignment.clone() };
            state.defender_assignments.push(stored.clone());
            stored
        })
    }

    async fn update_defender_role_assignment(&self, id: &str, assignment: &UnifiedRoleAssignment) -> Reply<()> {
        self.call("update_defender_role_assignment")?;
        self.edit(|state| {
            let stored = state.defender_assignments.iter_mut().find(|a| a.id.as_deref() == Some(id));
            let stored = stored.ok_or_else(|| Self::missing("Defender role assignment", id))?;
            *stored = UnifiedRoleAssignment { id: stored.id.clone(), ..assignment.clone() };
            Ok(())
        })
    }

    async fn delete_defender_role_assignment(&self, id: &str) -> Reply<()> {
        self.call("delete_defender_role_assignment")?;
        self.edit(|state| {
            state.defender_assignments.retain(|a| a.id.as_deref() != Some(id));
            Ok(())
        })
    }

    async fn list_defender_actions(&self) -> Reply<Vec<String>> {
        self.call("list_defender_actions")?;
        Ok(self.edit(|state| state.defender_actions.clone()))
    }
}
