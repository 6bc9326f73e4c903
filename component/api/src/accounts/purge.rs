//! Removing a person: their library (courses, activity, revisions, cached
//! renderings, settings) and their sign-in records.

use super::records::Account;
use crate::backend::{Backend, Dialect, Value};
use crate::errors::ApiResult;
use crate::library::Library;
use crate::store;

/// The library tables that carry an `owner` column (schema 3).
const LIBRARY_TABLES: &[&str] = &["courses", "activity", "revisions", "collection_cache"];

/// Whether `table` has an `owner` column. A database from before schema 3 has
/// one shared library whose rows cannot be told apart, so none are deleted.
fn has_owner_column(b: &impl Backend, table: &str) -> ApiResult<bool> {
    let rows = match b.dialect() {
        Dialect::Sqlite => b.execute(
            "SELECT count(*) FROM pragma_table_info(?) WHERE name = 'owner'",
            &[table.into()],
        )?,
        Dialect::Postgres => b.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = 'owner' AND table_schema = current_schema()",
            &[table.into()],
        )?,
    };
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0)
}

/// Deletes the account and everything it owns, in one write transaction for
/// the SQL part; the key-value settings (their own store on SQLite) after it.
pub fn remove(b: &impl Backend, account: &Account) -> ApiResult<()> {
    let mut owned = Vec::new();
    for table in LIBRARY_TABLES {
        if has_owner_column(b, table)? {
            owned.push(*table);
        }
    }
    store::write_tx(b, |tx| {
        for table in &owned {
            // Table names are our own constants above.
            tx.exec(
                &format!("DELETE FROM {table} WHERE owner = ?"),
                &[account.id.into()],
            )?;
        }
        for sql in [
            "DELETE FROM sessions WHERE account_id = ?",
            "DELETE FROM api_tokens WHERE account_id = ?",
            "DELETE FROM accounts WHERE id = ?",
        ] {
            tx.exec(sql, &[account.id.into()])?;
        }
        Ok(())
    })?;
    // Owner 1's keys are the unprefixed ones; owner 1 is the first admin, who
    // cannot be removed, so this only ever sees a prefixed partition.
    if account.id != crate::library::FIRST_OWNER {
        let lib = Library::new(b, account.id);
        for key in lib.kv_keys()? {
            lib.kv_delete(&key)?;
        }
    }
    Ok(())
}
