//! `mask`, `mask_json` and the masking policy.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use waybill_redact::danger::Role;
use waybill_redact::{
    mask as mask_waybill, AddressRule, ItemRule, MaskPolicy as Policy, NameRule,
    PartyPolicy as Party, PhoneRule,
};

use crate::errors::Failure;
use crate::record::Source;

/// The rules for one party: `name` is "surname" or "hidden", `phone`
/// "last_digits" or "hidden", `address` "street", "district" or "city".
/// The defaults meet GB/T 41833-2022.
///
/// >>> import waybill_redact as wr
/// >>> wr.PartyPolicy(address="city")
/// PartyPolicy(name='surname', phone='last_digits', address='city')
#[pyclass(module = "waybill_redact", frozen, from_py_object)]
#[derive(Clone)]
pub struct PartyPolicy {
    rules: Party,
}

fn name_rule(s: &str) -> PyResult<NameRule> {
    match s {
        "surname" => Ok(NameRule::Surname),
        "hidden" => Ok(NameRule::Hidden),
        _ => Err(PyValueError::new_err(
            "name: expected 'surname' or 'hidden'",
        )),
    }
}

fn phone_rule(s: &str) -> PyResult<PhoneRule> {
    match s {
        "last_digits" => Ok(PhoneRule::LastDigits),
        "hidden" => Ok(PhoneRule::Hidden),
        _ => Err(PyValueError::new_err(
            "phone: expected 'last_digits' or 'hidden'",
        )),
    }
}

fn address_rule(s: &str) -> PyResult<AddressRule> {
    match s {
        "street" => Ok(AddressRule::Street),
        "district" => Ok(AddressRule::District),
        "city" => Ok(AddressRule::City),
        _ => Err(PyValueError::new_err(
            "address: expected 'street', 'district' or 'city'",
        )),
    }
}

fn role(s: &str) -> PyResult<Role> {
    match s {
        "recipient" => Ok(Role::Recipient),
        "sender" => Ok(Role::Sender),
        _ => Err(PyValueError::new_err(
            "role: expected 'recipient' or 'sender'",
        )),
    }
}

#[pymethods]
impl PartyPolicy {
    #[new]
    #[pyo3(signature = (*, name = "surname", phone = "last_digits", address = "street"))]
    fn new(name: &str, phone: &str, address: &str) -> PyResult<Self> {
        Ok(Self {
            rules: Party::default()
                .with_name(name_rule(name)?)
                .with_phone(phone_rule(phone)?)
                .with_address(address_rule(address)?),
        })
    }

    /// "surname" or "hidden".
    #[getter]
    fn name(&self) -> &'static str {
        match self.rules.name() {
            NameRule::Hidden => "hidden",
            _ => "surname",
        }
    }

    /// "last_digits" or "hidden".
    #[getter]
    fn phone(&self) -> &'static str {
        match self.rules.phone() {
            PhoneRule::Hidden => "hidden",
            _ => "last_digits",
        }
    }

    /// "street", "district" or "city".
    #[getter]
    fn address(&self) -> &'static str {
        match self.rules.address() {
            AddressRule::District => "district",
            AddressRule::City => "city",
            _ => "street",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "PartyPolicy(name={:?}, phone={:?}, address={:?})",
            self.name(),
            self.phone(),
            self.address()
        )
        .replace('"', "'")
    }
}

/// Which fields a label shows: one `PartyPolicy` per party, `items` ("count" or
/// "hidden") and the mask character. `MaskPolicy()` meets GB/T 41833-2022; nothing
/// here shows more. Showing more takes `dangerous()`.
///
/// >>> import waybill_redact as wr
/// >>> p = wr.MaskPolicy(recipient=wr.PartyPolicy(name="hidden"), items="hidden")
/// >>> p.is_dangerous
/// False
#[pyclass(module = "waybill_redact")]
pub struct MaskPolicy {
    pub(crate) policy: Policy,
}

#[pymethods]
impl MaskPolicy {
    #[new]
    #[pyo3(signature = (*, recipient = None, sender = None, items = "count", mask_char = "*"))]
    fn new(
        recipient: Option<PartyPolicy>,
        sender: Option<PartyPolicy>,
        items: &str,
        mask_char: &str,
    ) -> PyResult<Self> {
        let items = match items {
            "count" => ItemRule::Count,
            "hidden" => ItemRule::Hidden,
            _ => return Err(PyValueError::new_err("items: expected 'count' or 'hidden'")),
        };
        let mut chars = mask_char.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(Failure::from(waybill_redact::MaskError::InvalidMask {
                reason: "must be exactly one character",
            })
            .into());
        };
        let policy = Policy::default()
            .with_recipient(recipient.map(|p| p.rules).unwrap_or_default())
            .with_sender(sender.map(|p| p.rules).unwrap_or_default())
            .with_items(items)
            .with_mask_char(c)
            .map_err(Failure::from)?;
        Ok(Self { policy })
    }

    /// The recipient's rules.
    #[getter]
    fn recipient(&self) -> PartyPolicy {
        PartyPolicy {
            rules: self.policy.recipient().clone(),
        }
    }

    /// The sender's rules.
    #[getter]
    fn sender(&self) -> PartyPolicy {
        PartyPolicy {
            rules: self.policy.sender().clone(),
        }
    }

    /// True when a `dangerous()` override shows more than GB/T 41833 allows.
    #[getter]
    fn is_dangerous(&self) -> bool {
        self.policy.is_dangerous()
    }

    /// Overrides that show more than GB/T 41833-2022 allows. Labels printed with
    /// them leak personal data to anyone who photographs them. Each method
    /// changes this policy and returns the overrides, for chaining.
    ///
    /// >>> import waybill_redact as wr
    /// >>> p = wr.MaskPolicy()
    /// >>> _ = p.dangerous().show_full_name("recipient").show_item_details()
    /// >>> p.is_dangerous
    /// True
    fn dangerous(slf: Py<Self>) -> DangerousMaskPolicy {
        DangerousMaskPolicy { policy: slf }
    }
}

/// Dangerous overrides of a `MaskPolicy`, from `MaskPolicy.dangerous()`.
/// `role` is "recipient" or "sender".
#[pyclass(module = "waybill_redact", frozen)]
pub struct DangerousMaskPolicy {
    policy: Py<MaskPolicy>,
}

impl DangerousMaskPolicy {
    fn change(
        slf: PyRef<'_, Self>,
        f: impl FnOnce(&mut waybill_redact::danger::DangerousMaskPolicy<'_>),
    ) -> PyRef<'_, Self> {
        {
            let mut policy = slf.policy.borrow_mut(slf.py());
            f(&mut policy.policy.dangerous());
        }
        slf
    }
}

#[pymethods]
impl DangerousMaskPolicy {
    /// Prints the party's full name.
    fn show_full_name<'py>(slf: PyRef<'py, Self>, role: &str) -> PyResult<PyRef<'py, Self>> {
        let role = self::role(role)?;
        Ok(Self::change(slf, |d| {
            d.show_full_name(role);
        }))
    }

    /// Shows the last `digits` digits of the party's phone number, even if fewer
    /// than 6 stay hidden.
    fn show_phone_digits<'py>(
        slf: PyRef<'py, Self>,
        role: &str,
        digits: u8,
    ) -> PyResult<PyRef<'py, Self>> {
        let role = self::role(role)?;
        Ok(Self::change(slf, |d| {
            d.show_phone_digits(role, digits);
        }))
    }

    /// Prints the party's full address, house number and room included.
    fn show_full_address<'py>(slf: PyRef<'py, Self>, role: &str) -> PyResult<PyRef<'py, Self>> {
        let role = self::role(role)?;
        Ok(Self::change(slf, |d| {
            d.show_full_address(role);
        }))
    }

    /// Prints item descriptions and categories.
    fn show_item_details(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        Self::change(slf, |d| {
            d.show_item_details();
        })
    }
}

/// The policy argument: the caller's, or the default.
pub(crate) fn policy_of(policy: Option<PyRef<'_, MaskPolicy>>) -> Policy {
    policy.map(|p| p.policy.clone()).unwrap_or_default()
}

/// The masked record as JSON text, exactly the line `waybill-redact mask` prints.
fn masked_json(py: Python<'_>, source: &Source, policy: &Policy) -> PyResult<String> {
    py.detach(|| {
        let waybill = source.waybill().map_err(|f| f.at(source.position()))?;
        serde_json::to_string(&mask_waybill(&waybill, policy))
            .map_err(|e| Failure::new(crate::errors::Kind::Mask, e.to_string()))
    })
    .map_err(PyErr::from)
}

/// Masks a record: the strings a label prints, as a dict. `record` is a dict,
/// JSON text in the input format, or a `Record`. The result is the JSON object
/// `waybill-redact mask` prints for it, parsed.
///
/// >>> import waybill_redact as wr
/// >>> m = wr.mask({"tracking_number": "SF1234567890123", "zone": 755021,
/// ...     "recipient": {"name": "张三", "phone": "13812345678",
/// ...                   "address": "广东省深圳市南山区深南大道10000号"}})
/// >>> m["recipient"]["name"], m["recipient"]["phone"]
/// ('张*', '******5678')
#[pyfunction]
#[pyo3(signature = (record, policy = None))]
pub fn mask(
    record: &Bound<'_, PyAny>,
    policy: Option<PyRef<'_, MaskPolicy>>,
) -> PyResult<Py<PyAny>> {
    let py = record.py();
    let source = Source::extract(record)?;
    let text = masked_json(py, &source, &policy_of(policy))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// `mask` as JSON text: byte for byte the line `waybill-redact mask` prints
/// for the record (without the line break).
///
/// >>> import waybill_redact as wr
/// >>> wr.mask_json('{"tracking_number":"SF1234567890123","zone":755021,'
/// ...     '"recipient":{"name":"张三","phone":"13812345678",'
/// ...     '"address":"广东省深圳市南山区深南大道10000号"}}')
/// '{"tracking_number":"SF1234567890123","recipient":{"name":"张*","phone":"******5678","address":"广东省深圳市南山区深南大道****"},"sender":null,"items":""}'
#[pyfunction]
#[pyo3(signature = (record, policy = None))]
pub fn mask_json(
    record: &Bound<'_, PyAny>,
    policy: Option<PyRef<'_, MaskPolicy>>,
) -> PyResult<String> {
    let source = Source::extract(record)?;
    masked_json(record.py(), &source, &policy_of(policy))
}
