//! Between the WIT's `parameter-value` / `db-value` and tokio-postgres' wire types.
//!
//! Integer widths are strict both ways: a parameter is sent as exactly the width the
//! guest chose and tokio-postgres refuses it (an error value) when the server
//! expects another; a column is read as the width its type has. Types tokio-postgres
//! maps only with extra crates (dates, times, UUID, numeric, ranges, intervals) are
//! refused as parameters and come back as `unsupported` with their raw bytes.

#![allow(
    clippy::result_large_err,
    reason = "the WIT's error carries PostgreSQL's error fields and is what the guest receives"
)]

use std::error::Error as StdError;

use bytes::BytesMut;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, WrongType, to_sql_checked};

use crate::caps::bindings::spin::postgres::postgres::{
    DbDataType, DbError, DbValue, Error, ParameterValue, QueryError,
};

type BoxedError = Box<dyn StdError + Sync + Send>;

/// A parameter ready for tokio-postgres.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// SQL NULL for a parameter of any type (tokio-postgres' `Option::None` would
/// insist on the type of its `Some`).
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxedError> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// JSONB as the guest's bytes (the binary format is a version byte, then text).
#[derive(Debug)]
struct Jsonb(Vec<u8>);

impl ToSql for Jsonb {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxedError> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Jsonb {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxedError> {
        match raw.split_first() {
            Some((1, text)) => Ok(Jsonb(text.to_vec())),
            _ => Err("unknown jsonb binary format version".into()),
        }
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }
}

/// Any column's binary representation, for the types without a WIT mapping here.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxedError> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

pub fn to_params(params: Vec<ParameterValue>) -> Result<Vec<Param>, Error> {
    params
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            to_param(p).map_err(|what| {
                Error::BadParameter(format!(
                    "parameter ${}: {what} parameters are not supported by tracker-host",
                    i + 1
                ))
            })
        })
        .collect()
}

fn to_param(p: ParameterValue) -> Result<Param, &'static str> {
    let param: Param = match p {
        ParameterValue::Boolean(v) => Box::new(v),
        // PostgreSQL's one-byte integer is the `"char"` type, as tokio-postgres maps i8.
        ParameterValue::Int8(v) => Box::new(v),
        ParameterValue::Int16(v) => Box::new(v),
        ParameterValue::Int32(v) => Box::new(v),
        ParameterValue::Int64(v) => Box::new(v),
        ParameterValue::Floating32(v) => Box::new(v),
        ParameterValue::Floating64(v) => Box::new(v),
        ParameterValue::Str(v) => Box::new(v),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Jsonb(v) => Box::new(Jsonb(v)),
        ParameterValue::ArrayInt32(v) => Box::new(v),
        ParameterValue::ArrayInt64(v) => Box::new(v),
        ParameterValue::ArrayStr(v) => Box::new(v),
        ParameterValue::DbNull => Box::new(Null),
        ParameterValue::Date(_) => return Err("date"),
        ParameterValue::Time(_) => return Err("time"),
        ParameterValue::Datetime(_) => return Err("datetime"),
        ParameterValue::Timestamp(_) => return Err("timestamp"),
        ParameterValue::Uuid(_) => return Err("uuid"),
        ParameterValue::Decimal(_) => return Err("decimal"),
        ParameterValue::RangeInt32(_) => return Err("range-int32"),
        ParameterValue::RangeInt64(_) => return Err("range-int64"),
        ParameterValue::RangeDecimal(_) => return Err("range-decimal"),
        ParameterValue::ArrayDecimal(_) => return Err("array-decimal"),
        ParameterValue::Interval(_) => return Err("interval"),
    };
    Ok(param)
}

pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP => DbDataType::Datetime,
        Type::TIMESTAMPTZ => DbDataType::Timestamp,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_string()),
    }
}

/// Column `i` of `row`, by the column's type.
pub fn db_value(row: &Row, i: usize) -> Result<DbValue, Error> {
    fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<Option<T>, Error> {
        row.try_get::<_, Option<T>>(i)
            .map_err(|e| Error::ValueConversionFailed(e.to_string()))
    }
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> DbValue) -> DbValue {
        v.map_or(DbValue::DbNull, f)
    }
    let ty = row
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| Error::ValueConversionFailed(format!("no column {i}")))?;
    Ok(match ty {
        Type::BOOL => or_null(get(row, i)?, DbValue::Boolean),
        Type::CHAR => or_null(get(row, i)?, DbValue::Int8),
        Type::INT2 => or_null(get(row, i)?, DbValue::Int16),
        Type::INT4 => or_null(get(row, i)?, DbValue::Int32),
        Type::INT8 => or_null(get(row, i)?, DbValue::Int64),
        Type::FLOAT4 => or_null(get(row, i)?, DbValue::Floating32),
        Type::FLOAT8 => or_null(get(row, i)?, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            or_null(get(row, i)?, DbValue::Str)
        }
        Type::BYTEA => or_null(get(row, i)?, DbValue::Binary),
        Type::JSONB => or_null(get(row, i)?, |Jsonb(v)| DbValue::Jsonb(v)),
        Type::INT4_ARRAY => or_null(get(row, i)?, DbValue::ArrayInt32),
        Type::INT8_ARRAY => or_null(get(row, i)?, DbValue::ArrayInt64),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            or_null(get(row, i)?, DbValue::ArrayStr)
        }
        _ => or_null(get(row, i)?, |Raw(v)| DbValue::Unsupported(v)),
    })
}

/// A failed statement: PostgreSQL's own error when there is one; a parameter the
/// server's type for it refuses is the guest's `bad-parameter`.
pub fn query_error(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let mut extras = Vec::new();
        let mut extra = |name: &str, v: Option<&str>| {
            if let Some(v) = v {
                extras.push((name.to_string(), v.to_string()));
            }
        };
        extra("hint", db.hint());
        extra("schema", db.schema());
        extra("table", db.table());
        extra("column", db.column());
        extra("constraint", db.constraint());
        return Error::QueryFailed(QueryError::DbError(DbError {
            as_text: db.to_string(),
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        }));
    }
    // tokio-postgres' own text leaves out the cause ("error serializing
    // parameter 0"); the cause names the types.
    let text = match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    if e.source()
        .is_some_and(|s| s.downcast_ref::<WrongType>().is_some())
    {
        return Error::BadParameter(text);
    }
    if e.is_closed() {
        return Error::ConnectionFailed(text);
    }
    Error::QueryFailed(QueryError::Text(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_parameters_are_bad_parameter_naming_the_position() {
        let err = to_params(vec![
            ParameterValue::Int32(1),
            ParameterValue::Uuid("00000000-0000-0000-0000-000000000000".into()),
        ]);
        match err {
            Err(Error::BadParameter(m)) => assert!(m.contains("$2") && m.contains("uuid"), "{m}"),
            _ => panic!("expected bad-parameter"),
        }
    }

    #[test]
    fn integer_parameters_keep_their_width() {
        let params = to_params(vec![
            ParameterValue::Int16(1),
            ParameterValue::Int32(1),
            ParameterValue::Int64(1),
            ParameterValue::DbNull,
        ])
        .expect("supported");
        let mut buf = BytesMut::new();
        // The INT8 column refuses a 32-bit value: an error, not a silent widening.
        assert!(params[1].to_sql_checked(&Type::INT8, &mut buf).is_err());
        assert!(params[2].to_sql_checked(&Type::INT8, &mut buf).is_ok());
        assert!(params[0].to_sql_checked(&Type::INT2, &mut buf).is_ok());
        assert!(params[0].to_sql_checked(&Type::INT4, &mut buf).is_err());
        assert!(params[3].to_sql_checked(&Type::INT8, &mut buf).is_ok());
    }
}
