//! The Undercover panel: the team's undercover accounts, their messages and controlled
//! purchases (as `GET /api/undercover` answers), and the forms that act through the lab's
//! undercover endpoints — each checked before it is sent.

use crate::lab::{AccountDraft, MessageDraft, PurchaseDraft, UndercoverMessage, UndercoverView};

/// Why a form cannot be sent yet (each a locale key the panel shows).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// No site or handle for the new account.
    #[error("undercover.error.account")]
    NoAccount,
    /// No account chosen to act from.
    #[error("undercover.error.selected")]
    NoSelection,
    /// No recipient or no text.
    #[error("undercover.error.message")]
    NoMessage,
    /// The listing number or quantity is not a positive number.
    #[error("undercover.error.listing")]
    BadListing,
}

/// What the trainee is typing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forms {
    /// New account: the site's id.
    pub site: String,
    /// New account: the handle.
    pub handle: String,
    /// Message: the recipient's handle.
    pub to: String,
    /// Message: subject.
    pub subject: String,
    /// Message: body.
    pub body: String,
    /// Purchase: the market's listing number.
    pub listing: String,
    /// Purchase: units (1 when empty).
    pub quantity: String,
}

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct UndercoverPanel {
    /// The team's undercover work, as last loaded.
    pub view: Option<UndercoverView>,
    /// The account acted from (`U1`).
    pub selected: Option<String>,
    /// The forms.
    pub forms: Forms,
}

impl UndercoverPanel {
    /// The account to open, or what is missing.
    pub fn account_draft(&self) -> Result<AccountDraft, FormError> {
        let (site, handle) = (self.forms.site.trim(), self.forms.handle.trim());
        if site.is_empty() || handle.is_empty() {
            return Err(FormError::NoAccount);
        }
        Ok(AccountDraft { site: site.into(), handle: handle.to_string() })
    }

    fn selected(&self) -> Result<String, FormError> {
        self.selected.clone().filter(|s| !s.is_empty()).ok_or(FormError::NoSelection)
    }

    /// The message to send from the selected account, or what is missing.
    pub fn message_draft(&self) -> Result<(String, MessageDraft), FormError> {
        let account = self.selected()?;
        if self.forms.to.trim().is_empty() || self.forms.body.trim().is_empty() {
            return Err(FormError::NoMessage);
        }
        Ok((
            account,
            MessageDraft { to: self.forms.to.trim().to_string(), subject: self.forms.subject.clone(), body: self.forms.body.clone() },
        ))
    }

    /// The purchase to make from the selected account, or what is wrong.
    pub fn purchase_draft(&self) -> Result<(String, PurchaseDraft), FormError> {
        let account = self.selected()?;
        let listing_id = self.forms.listing.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or(FormError::BadListing)?;
        let quantity = match self.forms.quantity.trim() {
            "" => 1,
            q => q.parse::<u32>().ok().filter(|n| *n > 0).ok_or(FormError::BadListing)?,
        };
        Ok((account, PurchaseDraft::new(listing_id, quantity)))
    }

    /// The messages of one account, in order.
    pub fn messages_of(&self, account: &str) -> Vec<&UndercoverMessage> {
        self.view.iter().flat_map(|v| v.messages.iter()).filter(|m| m.account == account).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_say_what_is_missing_before_anything_is_sent() {
        let mut p = UndercoverPanel::default();
        assert_eq!(p.account_draft().unwrap_err(), FormError::NoAccount);
        p.forms.site = "silk-lane".into();
        p.forms.handle = " quiet ".into();
        assert_eq!(p.account_draft().unwrap().handle, "quiet");
        assert_eq!(p.message_draft().unwrap_err(), FormError::NoSelection);
        p.selected = Some("U1".into());
        assert_eq!(p.message_draft().unwrap_err(), FormError::NoMessage);
        p.forms.to = "GreenLeafUK".into();
        p.forms.body = "hi".into();
        assert_eq!(p.message_draft().unwrap().0, "U1");
        p.forms.listing = "x".into();
        assert_eq!(p.purchase_draft().unwrap_err(), FormError::BadListing);
        p.forms.listing = "3".into();
        let (_, d) = p.purchase_draft().unwrap();
        assert_eq!((d.listing_id, d.quantity), (3, 1));
        p.forms.quantity = "0".into();
        assert_eq!(p.purchase_draft().unwrap_err(), FormError::BadListing);
    }
}
