//! Building a waybill in code, for crates that embed this one: the same
//! validation as the JSON input, with field paths in the errors.

use time::OffsetDateTime;

use crate::model::ModelError;
use crate::model::{
    Address, AddressFields, Item, Party, PersonName, Phone, Routing, TrackingNumber, VirtualPhone,
    Waybill,
};

impl Address {
    /// A free-form address, read as a Chinese address and split by the official
    /// division table, longest name first (suffix rules for names it lacks).
    ///
    /// # Errors
    /// [`ModelError::Empty`], [`ModelError::TooLong`], [`ModelError::ControlCharacter`].
    pub fn free_form(text: &str) -> Result<Self, ModelError> {
        Self::from_free_form("address", text)
    }

    /// A structured address.
    ///
    /// # Errors
    /// [`ModelError::Country`] for an unknown country code, [`ModelError::Missing`]
    /// when every part is empty, and the text errors of [`Address::free_form`].
    pub fn structured(fields: &AddressFields<'_>) -> Result<Self, ModelError> {
        Self::from_parts("address", fields)
    }
}

impl Party {
    /// A sender or recipient.
    ///
    /// # Errors
    /// The first invalid field: name (`name`) or phone (`phone`).
    pub fn new(name: &str, phone: &str, address: Address) -> Result<Self, ModelError> {
        Ok(Self {
            name: PersonName::parse_field("name", name)?,
            phone: Phone::parse_field("phone", phone)?,
            virtual_phone: None,
            address,
        })
    }

    /// Adds a platform virtual number (printed in full instead of the masked real
    /// phone) with its extension and expiry.
    ///
    /// # Errors
    /// [`ModelError::Phone`] for a bad number, [`ModelError::Invalid`] for an
    /// extension that is not 1 to 8 digits.
    pub fn with_virtual_phone(
        mut self,
        number: &str,
        extension: Option<&str>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<Self, ModelError> {
        let number = Phone::parse_field("virtual_phone.number", number)?;
        if let Some(e) = extension {
            if e.is_empty() || e.len() > 8 || !e.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ModelError::Invalid {
                    field: "virtual_phone.extension".into(),
                    reason: "must be 1 to 8 digits",
                });
            }
        }
        self.virtual_phone = Some(VirtualPhone {
            number,
            extension: extension.map(str::to_owned),
            expires_at,
        });
        Ok(self)
    }
}

impl Item {
    /// One line of the contents: `quantity` pieces, with no description or
    /// category until [`with_description`](Self::with_description) and
    /// [`with_category`](Self::with_category) add them (two methods, so the two
    /// texts cannot be swapped by position).
    ///
    /// ```
    /// use waybill_redact::Item;
    /// let item = Item::new(2)?.with_description("婴儿奶粉 900g").with_category("母婴");
    /// assert_eq!(item.quantity(), 2);
    /// # Ok::<(), waybill_redact::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for a quantity of 0.
    pub fn new(quantity: u32) -> Result<Self, ModelError> {
        if quantity == 0 {
            return Err(ModelError::Invalid {
                field: "items.quantity".into(),
                reason: "must be at least 1",
            });
        }
        Ok(Self {
            description: None,
            category: None,
            quantity,
        })
    }

    /// Sets what the parcel holds (hidden on labels by default). Blank text is none.
    pub fn with_description(mut self, description: &str) -> Self {
        self.description = Some(description.trim().to_owned()).filter(|s| !s.is_empty());
        self
    }

    /// Sets the product category (hidden on labels by default). Blank text is none.
    pub fn with_category(mut self, category: &str) -> Self {
        self.category = Some(category.trim().to_owned()).filter(|s| !s.is_empty());
        self
    }
}

impl Routing {
    /// Sorting data: the routing code (大头笔) and the consolidation hub (集包地).
    pub fn new(sort_code: Option<&str>, hub: Option<&str>) -> Self {
        let text = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            sort_code: text(sort_code),
            hub: text(hub),
        }
    }
}

impl Waybill {
    /// A waybill with its required parts; add the rest with the `with_` methods.
    /// Every constructor validates as JSON input does.
    ///
    /// ```
    /// use waybill_redact::{mask, Address, Item, MaskPolicy, Party, Waybill};
    ///
    /// let recipient = Party::new(
    ///     "欧阳娜娜",
    ///     "+86 139 1234 5678",
    ///     Address::free_form("浙江省杭州市西湖区文三路478号华星时代广场A座1203室")?,
    /// )?;
    /// let waybill = Waybill::new("SF1234567890123", 571001, recipient)?
    ///     .with_items(vec![Item::new(1)?.with_category("美妆")])?
    ///     .with_weight_grams(350);
    /// let masked = mask(&waybill, &MaskPolicy::default());
    /// assert_eq!(masked.recipient().name().as_str(), "欧阳*");
    /// assert_eq!(masked.recipient().address().as_str(), "浙江省杭州市西湖区文三路****");
    /// # Ok::<(), waybill_redact::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// The errors of [`TrackingNumber`] parsing (field `tracking_number`).
    pub fn new(tracking_number: &str, zone: u32, recipient: Party) -> Result<Self, ModelError> {
        Ok(Self {
            tracking_number: TrackingNumber::parse_field("tracking_number", tracking_number)?,
            zone,
            carrier: None,
            service: None,
            routing: None,
            recipient,
            sender: None,
            items: Vec::new(),
            weight_grams: None,
            created_at: None,
        })
    }

    /// Sets the sender.
    #[must_use]
    pub fn with_sender(mut self, sender: Party) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Sets the contents.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] (field `items`) when the quantities add up to more
    /// than `u32::MAX`: the label prints their total.
    pub fn with_items(mut self, items: Vec<Item>) -> Result<Self, ModelError> {
        super::json::check_total_quantity(&items)?;
        self.items = items;
        Ok(self)
    }

    /// Sets the routing code and hub.
    #[must_use]
    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = Some(routing);
        self
    }

    /// Sets the carrier's name and service level.
    #[must_use]
    pub fn with_carrier(mut self, carrier: &str, service: Option<&str>) -> Self {
        self.carrier = Some(carrier.trim().to_owned()).filter(|c| !c.is_empty());
        self.service = service
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        self
    }

    /// Sets the gross weight.
    #[must_use]
    pub fn with_weight_grams(mut self, grams: u32) -> Self {
        self.weight_grams = Some(grams);
        self
    }

    /// Sets when the waybill was created.
    #[must_use]
    pub fn with_created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = Some(at);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::{mask, MaskPolicy};

    #[test]
    fn built_in_code_equals_read_from_json() {
        let built = Waybill::new(
            "SF1234567890123",
            755021,
            Party::new(
                "张三",
                "13812345678",
                Address::structured(&AddressFields {
                    province: Some("广东省"),
                    city: Some("深圳市"),
                    district: Some("南山区"),
                    street: Some("深南大道10000号"),
                    detail: Some("腾讯大厦1栋1单元1001室"),
                    ..Default::default()
                })
                .unwrap(),
            )
            .unwrap(),
        )
        .unwrap()
        .with_sender(
            Party::new(
                "李四",
                "15900001111",
                Address::free_form("浙江省杭州市余杭区文一西路969号").unwrap(),
            )
            .unwrap(),
        )
        .with_items(vec![Item::new(2)
            .unwrap()
            .with_description("婴儿奶粉 900g")
            .with_category("母婴")])
        .unwrap()
        .with_routing(Routing::new(Some("755W-021-03"), Some("深圳转运中心")))
        .with_carrier("顺丰速运", Some("标准快递"))
        .with_weight_grams(2100);
        let read = Waybill::from_json(
            r#"{"tracking_number":"SF1234567890123","zone":755021,"carrier":"顺丰速运","service":"标准快递",
            "routing":{"sort_code":"755W-021-03","hub":"深圳转运中心"},
            "recipient":{"name":"张三","phone":"13812345678","address":{"province":"广东省","city":"深圳市","district":"南山区","street":"深南大道10000号","detail":"腾讯大厦1栋1单元1001室"}},
            "sender":{"name":"李四","phone":"15900001111","address":"浙江省杭州市余杭区文一西路969号"},
            "items":[{"description":"婴儿奶粉 900g","category":"母婴","quantity":2}],"weight_grams":2100}"#,
        )
        .unwrap();
        let policy = MaskPolicy::default();
        assert_eq!(mask(&built, &policy), mask(&read, &policy));
    }

    #[test]
    fn constructors_validate() {
        assert!(matches!(
            Party::new(" ", "13812345678", Address::free_form("北京市").unwrap()),
            Err(ModelError::Empty { .. })
        ));
        assert!(matches!(
            Party::new("张三", "abc", Address::free_form("北京市").unwrap()),
            Err(ModelError::Phone { .. })
        ));
        assert!(matches!(
            Address::structured(&AddressFields {
                country: Some("UK"),
                city: Some("London"),
                ..Default::default()
            }),
            Err(ModelError::Country { .. })
        ));
        assert!(matches!(Item::new(0), Err(ModelError::Invalid { .. })));
        let big = Item::new(u32::MAX).unwrap();
        let one = Item::new(1).unwrap();
        let w = Waybill::new(
            "SF1234567890123",
            1,
            Party::new("王", "13812345678", Address::free_form("北京市").unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            w.clone()
                .with_items(vec![big.clone(), one])
                .unwrap_err()
                .to_string(),
            "items: quantities add up to more than 4294967295"
        );
        assert_eq!(
            w.with_items(vec![big]).unwrap().items()[0].quantity(),
            u32::MAX
        );
        let p = Party::new(
            "张三",
            "13812345678",
            Address::free_form("北京市朝阳区").unwrap(),
        )
        .unwrap();
        assert!(matches!(
            p.clone()
                .with_virtual_phone("17100001111", Some("12a"), None),
            Err(ModelError::Invalid { .. })
        ));
        assert_eq!(
            p.with_virtual_phone("17100001111", Some("2345"), None)
                .unwrap()
                .virtual_phone()
                .unwrap()
                .to_display(),
            "17100001111转2345"
        );
        assert!(matches!(
            Waybill::new(
                "EE471108152CN",
                1,
                Party::new("王", "010-64001234", Address::free_form("北京市").unwrap()).unwrap()
            ),
            Err(ModelError::CheckDigit { .. })
        ));
    }
}
