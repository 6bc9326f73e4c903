//! The one error shape every failure answers with:
//! `{"error":{"code":"...","message":"...","field":"..."}}`.

use crate::backend::BackendError;
use crate::http::Response;
use serde_json::{Map, Value as Json, json};

/// Boxed so that `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Extra members of the `error` object (e.g. `index` in a list).
    pub details: Map<String, Json>,
    /// Extra top-level members beside `error` (e.g. `current` on 412).
    pub extra: Map<String, Json>,
    pub headers: Vec<(String, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorBody {
        &mut self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorBody {
            status,
            code,
            message: message.into(),
            field: None,
            details: Map::new(),
            extra: Map::new(),
            headers: Vec::new(),
        }))
    }

    /// 400 for a field that fails validation.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(400, "invalid_field", message).with_field(field)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(400, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "not_found", message)
    }

    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            413,
            "body_too_large",
            format!("request body is larger than the limit of {limit} bytes"),
        )
        .with_detail("limit", json!(limit))
    }

    pub fn unsupported_media(expected: &str) -> Self {
        ApiError::new(
            415,
            "unsupported_media_type",
            format!("Content-Type must be {expected}"),
        )
        .with_header("accept", expected)
    }

    pub fn method_not_allowed(allow: &str) -> Self {
        ApiError::new(
            405,
            "method_not_allowed",
            format!("allowed methods: {allow}"),
        )
        .with_header("allow", allow)
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn with_detail(mut self, key: &str, value: Json) -> Self {
        self.details.insert(key.to_owned(), value);
        self
    }

    pub fn with_extra(mut self, key: &str, value: Json) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Prefix the field with a list position: `completionRatio` -> `[3].completionRatio`.
    pub fn at_index(mut self, index: usize) -> Self {
        self.field = Some(match self.field.take() {
            Some(f) => format!("[{index}].{f}"),
            None => format!("[{index}]"),
        });
        self.with_detail("index", json!(index))
    }

    pub fn body(&self) -> Json {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if let Some(field) = &self.field {
            error.insert("field".into(), json!(field));
        }
        for (k, v) in &self.details {
            error.insert(k.clone(), v.clone());
        }
        let mut top = Map::new();
        top.insert("error".into(), Json::Object(error));
        for (k, v) in &self.extra {
            top.insert(k.clone(), v.clone());
        }
        Json::Object(top)
    }

    pub fn into_response(self) -> Response {
        let mut resp = Response::json(self.status, &self.body());
        for (n, v) in &self.headers {
            resp = resp.with_header(n, v);
        }
        resp
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Busy => ApiError::new(
                503,
                "busy",
                "the database is busy with another write; retry shortly",
            )
            .with_header("retry-after", "1"),
            BackendError::Unavailable(msg) => ApiError::new(
                503,
                "database_unavailable",
                format!("the database cannot be reached ({msg}); retry shortly"),
            )
            .with_header("retry-after", "2"),
            BackendError::Other(msg) => {
                ApiError::new(503, "storage_unavailable", format!("storage error: {msg}"))
                    .with_header("retry-after", "1")
            }
        }
    }
}
