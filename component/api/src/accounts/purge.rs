//! Removing a person: their sign-in records and their library.

use super::records::{self, Account, Flag};
use crate::backend::Backend;
use crate::errors::ApiResult;
use crate::library::Library;
use crate::store;

/// Deletes the account and everything it owns. In steps that can each be
/// retried: first the person is locked out (sessions and tokens gone, account
/// disabled), then their library is erased (`store::erase_library`: courses,
/// activity, revision, cached rendering, settings, feed token), and only then
/// the account row. A failure part-way leaves a disabled account the admin can
/// remove again, never a library nobody can reach.
pub fn remove(b: &impl Backend, account: &Account) -> ApiResult<()> {
    store::write_tx(b, |tx| {
        for sql in [
            "DELETE FROM sessions WHERE account_id = ?",
            "DELETE FROM api_tokens WHERE account_id = ?",
        ] {
            tx.exec(sql, &[account.id.into()])?;
        }
        records::set_flag(tx.backend(), account.id, Flag::Disabled, true)
    })?;
    store::erase_library(&Library::new(b, account.id))?;
    b.execute("DELETE FROM accounts WHERE id = ?", &[account.id.into()])?;
    Ok(())
}
