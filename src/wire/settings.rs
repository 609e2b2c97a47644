//! A policy's `settings`, shared. A fleet's tenants mostly hold the same baselines, so the settings a
//! plan reads are mostly the same text from tenant to tenant: decoded through [`decoding_shared`], equal
//! texts are decoded once and held once, and what the engine derives from them (their canonical form)
//! is made once. A change through `DerefMut` copies the settings if they are shared and forgets what
//! was derived from them, so sharing is never visible.

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::Setting;

/// Settings, with a slot for the canonical text the engine compares them by.
#[derive(Clone, Default)]
pub struct Settings(Arc<Shared>);

#[derive(Clone, Default)]
struct Shared {
    list: Vec<Setting>,
    canonical: OnceLock<Arc<str>>,
}

impl Settings {
    /// The canonical text of these settings, made by `make` the first time it is asked for.
    pub fn canonical_text(&self, make: impl FnOnce(&[Setting]) -> String) -> Arc<str> {
        self.0.canonical.get_or_init(|| Arc::from(make(&self.0.list))).clone()
    }
}

impl Deref for Settings {
    type Target = Vec<Setting>;

    fn deref(&self) -> &Vec<Setting> {
        &self.0.list
    }
}

impl DerefMut for Settings {
    fn deref_mut(&mut self) -> &mut Vec<Setting> {
        let shared = Arc::make_mut(&mut self.0);
        shared.canonical = OnceLock::new();
        &mut shared.list
    }
}

impl From<Vec<Setting>> for Settings {
    fn from(list: Vec<Setting>) -> Self {
        Settings(Arc::new(Shared { list, canonical: OnceLock::new() }))
    }
}

impl FromIterator<Setting> for Settings {
    fn from_iter<I: IntoIterator<Item = Setting>>(iter: I) -> Self {
        Settings::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Settings {
    type Item = &'a Setting;
    type IntoIter = std::slice::Iter<'a, Setting>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.list.iter()
    }
}

impl<'a> IntoIterator for &'a mut Settings {
    type Item = &'a mut Setting;
    type IntoIter = std::slice::IterMut<'a, Setting>;

    fn into_iter(self) -> Self::IntoIter {
        self.deref_mut().iter_mut()
    }
}

impl PartialEq for Settings {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.list == other.0.list
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.list.fmt(f)
    }
}

impl Serialize for Settings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.list.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !SHARING.get() {
            return Vec::<Setting>::deserialize(deserializer).map(Settings::from);
        }
        let text = <&RawValue>::deserialize(deserializer)?;
        if let Some(known) = MEMO.lock().ok().and_then(|memo| memo.get(text.get())) {
            return Ok(known);
        }
        let settings = serde_json::from_str::<Vec<Setting>>(text.get()).map(Settings::from).map_err(|e| {
            // Position within the settings is lost here, but the message (field, variant) is not.
            serde::de::Error::custom(e.to_string())
        })?;
        if let Ok(mut memo) = MEMO.lock() {
            memo.insert(text.get(), &settings);
        }
        Ok(settings)
    }
}

thread_local! {
    /// Whether settings decoded on this thread go through the memo ([`decoding_shared`]).
    static SHARING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `decode`, a `serde_json::from_str` (or `from_slice`) of something that holds settings, so
/// that settings equal as text to ones decoded before are shared rather than decoded again. Only for
/// JSON read from a borrowed text: the settings are taken as raw JSON first.
pub fn decoding_shared<T>(decode: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SHARING.set(self.0);
        }
    }
    let _reset = Reset(SHARING.replace(true));
    decode()
}

/// Settings texts up to this size are remembered.
const MAX_REMEMBERED_TEXT: usize = 256 * 1024;
/// The memo is emptied when it would hold more text than this (or more entries than
/// [`MAX_ENTRIES`]), so that hostile or merely varied input cannot grow it without bound.
const MAX_MEMO_BYTES: usize = 32 * 1024 * 1024;
const MAX_ENTRIES: usize = 8192;

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| Mutex::new(Memo::default()));

/// Settings already decoded, by their exact JSON text. Hashed with foldhash (seeded per process):
/// every settings text read is hashed, and SipHash cost as much as the rest of the lookup.
#[derive(Default)]
struct Memo {
    by_text: HashMap<Box<str>, Settings, foldhash::fast::RandomState>,
    bytes: usize,
}

impl Memo {
    fn get(&self, text: &str) -> Option<Settings> {
        self.by_text.get(text).cloned()
    }

    fn insert(&mut self, text: &str, settings: &Settings) {
        if text.len() > MAX_REMEMBERED_TEXT {
            return;
        }
        if self.bytes + text.len() > MAX_MEMO_BYTES || self.by_text.len() >= MAX_ENTRIES {
            self.by_text.clear();
            self.bytes = 0;
        }
        self.bytes += text.len();
        self.by_text.insert(text.into(), settings.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ConfigurationPolicy;

    const POLICY: &str = r##"{"id":"p1","name":"P","platforms":"windows10","technologies":"mdm","settings":[
        {"id":"0","settingInstance":{"@odata.type":"#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
        "settingDefinitionId":"device_vendor_msft_policy_config_defender_allowarchivescanning",
        "choiceSettingValue":{"value":"device_vendor_msft_policy_config_defender_allowarchivescanning_1","children":[]}}}]}"##;

    /// The policy, its settings' definition id made unique to `test` (the memo is the process's).
    fn policy(test: &str) -> String {
        POLICY.replace("allowarchivescanning", &format!("allowarchivescanning_{test}"))
    }

    fn decode_shared(text: &str) -> ConfigurationPolicy {
        decoding_shared(|| serde_json::from_str(text)).expect("decodes")
    }

    #[test]
    fn equal_settings_texts_decode_to_one_shared_value_equal_to_a_plain_decode() {
        let text = policy("shared");
        let plain: ConfigurationPolicy = serde_json::from_str(&text).expect("decodes");
        let first = decode_shared(&text);
        let second = decode_shared(&text.replace("\"p1\"", "\"p2\""));
        assert_eq!(first, plain);
        assert_eq!(second.id.as_deref(), Some("p2"));
        assert!(Arc::ptr_eq(&first.settings.0, &second.settings.0), "decoded once, shared");
        assert!(!SHARING.get(), "sharing ends with the decode");
    }

    #[test]
    fn a_change_to_shared_settings_copies_them_and_forgets_their_canonical_text() {
        let text = policy("changed");
        let first = decode_shared(&text);
        let mut second = decode_shared(&text);
        assert_eq!(&*first.settings.canonical_text(|list| format!("{}", list.len())), "1");
        second.settings.clear();
        assert_eq!(first.settings.len(), 1, "the other holder keeps its settings");
        assert_eq!(&*second.settings.canonical_text(|list| format!("{}", list.len())), "0");
        assert_eq!(&*decode_shared(&text).settings.canonical_text(|_| unreachable!("made once")), "1");
    }

    #[test]
    fn settings_that_do_not_decode_are_an_error_naming_what_is_wrong() {
        let broken = POLICY.replace("ChoiceSettingInstance", "NopeInstance");
        let error = decoding_shared(|| serde_json::from_str::<ConfigurationPolicy>(&broken)).expect_err("broken");
        assert!(error.to_string().contains("unknown variant"), "{error}");
    }

    #[test]
    fn the_memo_stays_within_its_bounds() {
        let mut memo = Memo::default();
        let settings = Settings::default();
        for i in 0..MAX_ENTRIES + 10 {
            memo.insert(&format!("[{i}]"), &settings);
        }
        assert!(memo.by_text.len() <= MAX_ENTRIES);
        memo.insert(&" ".repeat(MAX_REMEMBERED_TEXT + 1), &settings);
        assert!(memo.bytes < MAX_MEMO_BYTES);
    }
}
