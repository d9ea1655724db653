//! Masking policy: one rule per field, defaulting to GB/T 41833-2022 and beyond.

use crate::mask::MaskError;

/// How a name is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NameRule {
    /// The surname (compound surnames recognised), then a fixed mask. One-grapheme
    /// names are hidden whole. Meets GB/T 41833 (at least one hanzi hidden).
    #[default]
    Surname,
    /// Only the mask.
    Hidden,
}

/// How a phone number is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PhoneRule {
    /// At most the last 4 digits, never fewer than 6 hidden (GB/T 41833 asks for 6).
    /// A platform virtual number is shown in full instead.
    #[default]
    LastDigits,
    /// Only the mask (and the country code outside China). A virtual number is
    /// still shown: it reveals nothing about the real one.
    Hidden,
}

/// How much of an address is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AddressRule {
    /// Province, city, district, township and the road name without its number.
    /// International addresses: city, region, truncated postal code and country.
    #[default]
    Street,
    /// Province, city, district and township only.
    District,
    /// Province and city only.
    City,
}

/// How the contents are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ItemRule {
    /// The total quantity only (`共2件`): description and category are hidden.
    #[default]
    Count,
    /// Nothing.
    Hidden,
}

/// The rules for one party.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyPolicy {
    pub(crate) name: NameRule,
    pub(crate) phone: PhoneRule,
    pub(crate) address: AddressRule,
    pub(crate) danger: PartyDanger,
}

/// Overrides that show more than GB/T 41833 allows; set only through
/// [`danger::DangerousMaskPolicy`](super::danger::DangerousMaskPolicy).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PartyDanger {
    pub full_name: bool,
    pub phone_visible_digits: Option<u8>,
    pub full_address: bool,
}

impl PartyPolicy {
    /// Sets the name rule.
    #[must_use]
    pub fn with_name(mut self, rule: NameRule) -> Self {
        self.name = rule;
        self
    }

    /// Sets the phone rule.
    #[must_use]
    pub fn with_phone(mut self, rule: PhoneRule) -> Self {
        self.phone = rule;
        self
    }

    /// Sets the address rule.
    #[must_use]
    pub fn with_address(mut self, rule: AddressRule) -> Self {
        self.address = rule;
        self
    }

    /// The name rule.
    pub fn name(&self) -> NameRule {
        self.name
    }

    /// The phone rule.
    pub fn phone(&self) -> PhoneRule {
        self.phone
    }

    /// The address rule.
    pub fn address(&self) -> AddressRule {
        self.address
    }

    fn is_dangerous(&self) -> bool {
        self.danger != PartyDanger::default()
    }
}

/// Which fields a label shows, per party, and the mask strings it uses.
///
/// `MaskPolicy::default()` meets GB/T 41833-2022 and goes beyond it: see the rule
/// enums. Nothing here can show more than that floor; that takes
/// [`MaskPolicy::dangerous`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskPolicy {
    pub(crate) recipient: PartyPolicy,
    pub(crate) sender: PartyPolicy,
    pub(crate) items: ItemRule,
    pub(crate) show_item_details: bool,
    pub(crate) mask_char: char,
}

impl Default for MaskPolicy {
    fn default() -> Self {
        Self {
            recipient: PartyPolicy::default(),
            sender: PartyPolicy::default(),
            items: ItemRule::default(),
            show_item_details: false,
            mask_char: '*',
        }
    }
}

impl MaskPolicy {
    /// Sets the recipient's rules.
    #[must_use]
    pub fn with_recipient(mut self, rules: PartyPolicy) -> Self {
        self.recipient = PartyPolicy {
            danger: self.recipient.danger,
            ..rules
        };
        self
    }

    /// Sets the sender's rules.
    #[must_use]
    pub fn with_sender(mut self, rules: PartyPolicy) -> Self {
        self.sender = PartyPolicy {
            danger: self.sender.danger,
            ..rules
        };
        self
    }

    /// Sets the contents rule.
    #[must_use]
    pub fn with_items(mut self, rule: ItemRule) -> Self {
        self.items = rule;
        self
    }

    /// Sets the character masks are made of (`*` by default).
    ///
    /// # Errors
    /// [`MaskError::InvalidMask`] for a letter, digit, white space or control
    /// character, which a reader could take for data.
    pub fn with_mask_char(mut self, c: char) -> Result<Self, MaskError> {
        if c.is_alphanumeric() || c.is_whitespace() || c.is_control() {
            return Err(MaskError::InvalidMask {
                reason: "must not be a letter, digit, space or control character",
            });
        }
        self.mask_char = c;
        Ok(self)
    }

    /// The recipient's rules.
    pub fn recipient(&self) -> &PartyPolicy {
        &self.recipient
    }

    /// The sender's rules.
    pub fn sender(&self) -> &PartyPolicy {
        &self.sender
    }

    /// True when a dangerous override shows more than GB/T 41833 allows.
    pub fn is_dangerous(&self) -> bool {
        self.recipient.is_dangerous() || self.sender.is_dangerous() || self.show_item_details
    }

    /// Overrides that show more than GB/T 41833-2022 allows. Labels printed with
    /// them leak personal data to anyone who photographs them.
    pub fn dangerous(&mut self) -> super::danger::DangerousMaskPolicy<'_> {
        super::danger::DangerousMaskPolicy { policy: self }
    }

    pub(crate) fn mask_string(&self, len: usize) -> String {
        core::iter::repeat_n(self.mask_char, len).collect()
    }
}
