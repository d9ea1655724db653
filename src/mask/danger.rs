//! Overrides that show more than GB/T 41833-2022 allows.
//!
//! A label printed with any of these leaks personal data to whoever photographs
//! it. They exist for closed settings (a warehouse's internal returns label, a
//! test print) and are named so that a reviewer sees them.

use super::policy::{MaskPolicy, PartyPolicy};

/// Which party an override applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The recipient.
    Recipient,
    /// The sender.
    Sender,
}

/// Dangerous overrides of a [`MaskPolicy`], from [`MaskPolicy::dangerous`].
#[derive(Debug)]
pub struct DangerousMaskPolicy<'a> {
    pub(super) policy: &'a mut MaskPolicy,
}

impl DangerousMaskPolicy<'_> {
    fn party(&mut self, role: Role) -> &mut PartyPolicy {
        match role {
            Role::Recipient => &mut self.policy.recipient,
            Role::Sender => &mut self.policy.sender,
        }
    }

    /// Prints the party's full name.
    pub fn show_full_name(&mut self, role: Role) -> &mut Self {
        self.party(role).danger.full_name = true;
        self
    }

    /// Shows the last `digits` digits of the party's phone number, even if fewer
    /// than 6 stay hidden.
    pub fn show_phone_digits(&mut self, role: Role, digits: u8) -> &mut Self {
        self.party(role).danger.phone_visible_digits = Some(digits);
        self
    }

    /// Prints the party's full address, house number and room included.
    pub fn show_full_address(&mut self, role: Role) -> &mut Self {
        self.party(role).danger.full_address = true;
        self
    }

    /// Prints item descriptions and categories.
    pub fn show_item_details(&mut self) -> &mut Self {
        self.policy.show_item_details = true;
        self
    }
}
