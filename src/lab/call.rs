//! What an endpoint gets to work with: the request, its query options and context, and the helpers
//! every collection endpoint shares (paging with `@odata.nextLink`, `$filter`, `$select`).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::odata::{Filter, QueryOptions};
use super::paging::{Cursor, next_link, page_after, page_at};
use super::reply::{Reply, RequestContext};
use super::route::GraphRequest;
use super::store::Collection;

/// What an endpoint gets to work with.
pub struct Call<'a> {
    pub request: &'a GraphRequest,
    pub query: &'a QueryOptions,
    pub context: &'a RequestContext,
    pub page_size: usize,
    /// The largest `$top` honoured.
    pub max_top: usize,
    /// Items per page of a list read with `$expand=settings`, whatever `$top` asks.
    pub expanded_page_size: Option<usize>,
}

impl Call<'_> {
    /// Items per page: `$top` (at most the largest honoured), else the default page size; a list
    /// that expands settings is paged at the expanded lists' size whatever `$top` asks, as Intune
    /// pages it (one or two policies per page have been reported).
    pub fn page_size(&self) -> usize {
        let size = self.query.top.unwrap_or(self.page_size).min(self.max_top).max(1);
        let expands_settings =
            self.query.expand.iter().any(|item| item.trim().to_ascii_lowercase().starts_with("settings"));
        match self.expanded_page_size {
            Some(expanded) if expands_settings => size.min(expanded),
            _ => size,
        }
    }

    /// `{base}/{version}/$metadata#{what}`.
    pub fn context_url(&self, what: &str) -> String {
        format!("{}/{}/$metadata#{what}", self.context.base_url, self.request.version)
    }

    pub fn bad_request(&self, message: &str) -> Reply {
        Reply::error(self.context, StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// One object with its `@odata.context` (`{what}/$entity`); a context stored with the object is the
    /// response's it was copied from, and is replaced.
    pub fn entity(&self, what: &str, object: Value) -> Reply {
        let mut body = Map::new();
        body.insert("@odata.context".into(), Value::String(self.context_url(&format!("{what}/$entity"))));
        if let Value::Object(object) = object {
            body.extend(object.into_iter().filter(|(key, _)| key != "@odata.context"));
        }
        Reply::json(StatusCode::OK, Value::Object(body))
    }

    /// Graph's 400 for an `$expand` of a relation the resource does not have.
    pub fn expand_refused(&self, relation: &str) -> Reply {
        let message = format!("Expand is not allowed for property '{relation}' according to the entity schema.");
        Reply::error(self.context, StatusCode::BAD_REQUEST, "ExpandNotSupported", &message)
    }

    /// Where a list paged by position starts: the `$skiptoken`'s position, or `first`.
    pub fn offset(&self, first: usize) -> Result<usize, Reply> {
        match self.cursor() {
            Ok(None) => Ok(first),
            Ok(Some(Cursor::Offset(offset))) => Ok(offset),
            Ok(Some(Cursor::After(_))) | Err(_) => Err(self.bad_request("The $skiptoken is invalid.")),
        }
    }

    /// The position a `$skiptoken` asks for.
    pub fn cursor(&self) -> Result<Option<Cursor>, Reply> {
        match &self.query.skip_token {
            None => Ok(None),
            Some(token) => Cursor::decode(token).map(Some).map_err(|_| self.bad_request("The $skiptoken is invalid.")),
        }
    }

    /// A page with Graph's annotations: `@odata.count` when `$count=true` asked for it (the total of
    /// matching items), `next` as `@odata.nextLink`.
    pub fn page(&self, context: &str, items: Vec<Value>, next: Option<Cursor>, total: Option<usize>) -> Value {
        let mut page = Map::new();
        page.insert("@odata.context".into(), Value::String(self.context_url(context)));
        if let Some(total) = total.filter(|_| self.query.count) {
            page.insert("@odata.count".into(), total.into());
        }
        if let Some(cursor) = next {
            let path = format!("/{}/{}", self.request.version, self.request.segments.join("/"));
            let link = next_link(&self.context.base_url, &path, &self.query.pairs, &cursor);
            page.insert("@odata.nextLink".into(), Value::String(link));
        }
        page.insert("value".into(), Value::Array(items));
        Value::Object(page)
    }

    /// One page of an id-keyed collection, filtered by `$filter`, each object shown by `show`. Without
    /// `$orderby` and `$skip`, pages continue after the last id seen, so objects created or deleted
    /// while a client pages are never seen twice; with them, pages are positions in the sorted result.
    pub fn collection_page(
        &self,
        context: &str,
        collection: &Collection,
        show: impl Fn(&Map<String, Value>) -> Value,
    ) -> Reply {
        let filter: Option<&Filter> = self.query.filter.as_ref();
        let matches = |object: &Map<String, Value>| filter.is_none_or(|f| f.matches(object));
        let total = self.query.count.then(|| collection.iter().filter(|o| matches(o)).count());
        let cursor = match self.cursor() {
            Ok(cursor) => cursor,
            Err(reply) => return reply,
        };
        let after: Option<String>;
        let (objects, next) = if self.query.positional() {
            let offset = match cursor {
                None => self.query.skip.unwrap_or(0),
                Some(Cursor::Offset(offset)) => offset,
                Some(Cursor::After(_)) => return self.bad_request("The $skiptoken is invalid."),
            };
            let mut matching: Vec<&Map<String, Value>> = collection.iter().filter(|o| matches(o)).collect();
            self.query.sort(&mut matching, |o| o);
            let (range, next) = page_at(matching.len(), offset, self.page_size());
            (matching[range].to_vec(), next)
        } else {
            after = match cursor {
                None => None,
                Some(Cursor::After(id)) => Some(id),
                Some(Cursor::Offset(_)) => return self.bad_request("The $skiptoken is invalid."),
            };
            page_after(collection.after(after.as_deref()).filter(|(_, o)| matches(o)), self.page_size())
        };
        let items = objects.into_iter().map(show).collect();
        Reply::json(StatusCode::OK, self.page(context, items, next, total))
    }

    /// One page of a list the endpoint builds whole (small, fixed lists): `$filter`, `$orderby`, `$skip`,
    /// `$top` and `$count` applied, pages by position.
    pub fn list_page(&self, context: &str, all: Vec<Map<String, Value>>) -> Reply {
        let filter: Option<&Filter> = self.query.filter.as_ref();
        let mut matching: Vec<Map<String, Value>> =
            all.into_iter().filter(|o| filter.is_none_or(|f| f.matches(o))).collect();
        self.query.sort(&mut matching, |o| o);
        let offset = match self.offset(self.query.skip.unwrap_or(0)) {
            Ok(offset) => offset,
            Err(reply) => return reply,
        };
        let total = matching.len();
        let (range, next) = page_at(total, offset, self.page_size());
        let select = self.query.select.as_deref();
        let items = matching[range].iter().map(|o| selected(o, select)).collect();
        Reply::json(StatusCode::OK, self.page(context, items, next, Some(total)))
    }

    /// `/$count`: the number of objects matching `$filter`, as plain text.
    pub fn count(&self, collection: &Collection) -> Reply {
        let filter: Option<&Filter> = self.query.filter.as_ref();
        Reply::plain(collection.iter().filter(|o| filter.is_none_or(|f| f.matches(o))).count().to_string())
    }

    /// The request body, or Graph's 400 when there is none.
    pub fn body(&self) -> Result<&Value, Reply> {
        self.request.body.as_ref().ok_or_else(|| {
            self.bad_request("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
        })
    }
}

/// `$select` applied to a plain object (groups, incidents).
pub fn selected(object: &Map<String, Value>, select: Option<&[String]>) -> Value {
    match select {
        None => Value::Object(object.clone()),
        Some(names) => Value::Object(
            object
                .iter()
                .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    }
}
