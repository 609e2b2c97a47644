//! What an endpoint gets to work with: the request, its query options and context, and the helpers
//! every collection endpoint shares (paging with `@odata.nextLink`, `$filter`, `$select`).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::odata::{Filter, QueryOptions};
use super::paging::{Cursor, next_link, page_after};
use super::reply::{Reply, RequestContext};
use super::route::GraphRequest;
use super::store::Collection;

/// What an endpoint gets to work with.
pub struct Call<'a> {
    pub request: &'a GraphRequest,
    pub query: &'a QueryOptions,
    pub context: &'a RequestContext,
    pub page_size: usize,
}

impl Call<'_> {
    /// Items per page: `$top`, at most the page size.
    pub fn page_size(&self) -> usize {
        self.query.top.map_or(self.page_size, |top| top.min(self.page_size))
    }

    /// `{base}/{version}/$metadata#{what}`.
    pub fn context_url(&self, what: &str) -> String {
        format!("{}/{}/$metadata#{what}", self.context.base_url, self.request.version)
    }

    pub fn bad_request(&self, message: &str) -> Reply {
        Reply::error(self.context, StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// The position a `$skiptoken` asks for.
    pub fn cursor(&self) -> Result<Option<Cursor>, Reply> {
        match &self.query.skip_token {
            None => Ok(None),
            Some(token) => Cursor::decode(token).map(Some).map_err(|_| self.bad_request("The $skiptoken is invalid.")),
        }
    }

    /// A page with Graph's annotations; `next` becomes `@odata.nextLink`.
    pub fn page(&self, context: &str, items: Vec<Value>, next: Option<Cursor>) -> Value {
        let mut page = Map::new();
        page.insert("@odata.context".into(), Value::String(self.context_url(context)));
        page.insert("@odata.count".into(), items.len().into());
        if let Some(cursor) = next {
            let path = format!("/{}/{}", self.request.version, self.request.segments.join("/"));
            let link = next_link(&self.context.base_url, &path, &self.query.pairs, &cursor);
            page.insert("@odata.nextLink".into(), Value::String(link));
        }
        page.insert("value".into(), Value::Array(items));
        Value::Object(page)
    }

    /// One page of an id-keyed collection, filtered by `$filter`, each object shown by `show`.
    pub fn collection_page(
        &self,
        context: &str,
        collection: &Collection,
        show: impl Fn(&Map<String, Value>) -> Value,
    ) -> Reply {
        let after = match self.cursor() {
            Ok(None) => None,
            Ok(Some(Cursor::After(id))) => Some(id),
            Ok(Some(Cursor::Offset(_))) | Err(_) => return self.bad_request("The $skiptoken is invalid."),
        };
        let filter: Option<&Filter> = self.query.filter.as_ref();
        let matching =
            collection.after(after.as_deref()).filter(|(_, object)| filter.is_none_or(|f| f.matches(object)));
        let (objects, next) = page_after(matching, self.page_size());
        let items = objects.into_iter().map(show).collect();
        Reply::json(StatusCode::OK, self.page(context, items, next))
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
