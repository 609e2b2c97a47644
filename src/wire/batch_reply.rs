//! A `$batch` reply read in one pass: each successful item's body is decoded as what the caller
//! asked for while the reply is read, rather than kept as text and read a second time. A plan's
//! reads are mostly `$batch`es of twenty policies with their settings, and reading that text twice
//! was a large part of the time a plan spent on the CPU.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::common::BatchResponseItem;

/// `POST /$batch` response body, with successful bodies decoded as `T`.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct BatchResponseOf<T> {
    pub responses: Vec<BatchItemOf<T>>,
}

/// One response of a batch: `decoded` holds a 2xx body read as `T` when `status` came before `body`
/// (as Graph sends them); otherwise the body is kept as text in `item`.
#[derive(Debug)]
pub struct BatchItemOf<T> {
    pub item: BatchResponseItem,
    pub decoded: Option<T>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Id,
    Status,
    Headers,
    Body,
    #[serde(other)]
    Other,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for BatchItemOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ItemVisitor(PhantomData))
    }
}

struct ItemVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemVisitor<T> {
    type Value = BatchItemOf<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a $batch response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut id, mut status, mut headers, mut body, mut decoded) = (None, None, None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Id => id = Some(map.next_value::<String>()?),
                Field::Status => status = Some(map.next_value::<u16>()?),
                Field::Headers => headers = map.next_value::<Option<Map<String, Value>>>()?,
                Field::Body if status.is_some_and(|s: u16| (200..300).contains(&s)) => {
                    // The whole reply fails on one malformed body: name the item it came from.
                    decoded = map.next_value::<Option<T>>().map_err(|e| {
                        serde::de::Error::custom(format_args!("response {}: {e}", id.as_deref().unwrap_or("?")))
                    })?;
                }
                Field::Body => body = map.next_value::<Option<Box<RawValue>>>()?,
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let id = id.ok_or_else(|| serde::de::Error::missing_field("id"))?;
        let status = status.ok_or_else(|| serde::de::Error::missing_field("status"))?;
        Ok(BatchItemOf { item: BatchResponseItem { id, status, headers, body }, decoded })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Thing {
        name: String,
    }

    #[test]
    fn successful_bodies_are_decoded_and_others_kept_as_text() {
        let reply = r#"{"responses":[
            {"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"name":"a"}},
            {"id":"2","status":404,"body":{"error":{"code":"NotFound","message":"gone"}}},
            {"id":"3","body":{"name":"c"},"status":200,"extra":true}]}"#;
        let parsed: BatchResponseOf<Thing> = serde_json::from_str(reply).expect("parses");
        let [first, second, third] = &parsed.responses[..] else { panic!("three items") };
        assert_eq!(first.decoded, Some(Thing { name: "a".into() }));
        assert!(first.item.headers.is_some() && first.item.body.is_none());
        assert_eq!(second.decoded, None);
        assert!(second.item.body_text().contains("NotFound"));
        assert_eq!((third.decoded.as_ref(), third.item.body_text()), (None, r#"{"name":"c"}"#), "body before status");
    }

    #[test]
    fn a_malformed_successful_body_names_its_item() {
        let reply = r#"{"responses":[{"id":"7","status":200,"body":{"name":5}}]}"#;
        let error = serde_json::from_str::<BatchResponseOf<Thing>>(reply).expect_err("name is not text");
        assert!(error.to_string().contains("response 7: invalid type"), "{error}");
    }

    #[test]
    fn an_item_without_id_or_status_is_an_error() {
        let error =
            serde_json::from_str::<BatchResponseOf<Thing>>(r#"{"responses":[{"status":200}]}"#).expect_err("no id");
        assert!(error.to_string().contains("missing field `id`"), "{error}");
    }
}
