//! Tracking numbers, with UPU S10 and GS1 SSCC check digits.

use crate::model::ModelError;

/// Which check scheme a [`TrackingNumber`] was validated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackingScheme {
    /// UPU S10 (`EE471108151CN`): two letters, eight digits, a check digit, two letters.
    UpuS10,
    /// GS1 SSCC: 18 digits ending in a GS1 mod-10 check digit.
    Sscc,
    /// Any other carrier format: 8–32 ASCII letters and digits, no check digit known.
    Carrier,
}

/// A parcel's tracking number.
///
/// # Guarantees
/// - 8 to 32 ASCII letters and digits, letters upper-cased.
/// - If it has the UPU S10 shape, its S10 check digit is right.
/// - If it is 18 digits (an SSCC), its GS1 mod-10 check digit is right.
///
/// A tracking number is printed on the label in clear, so it is not personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingNumber {
    text: String,
    scheme: TrackingScheme,
}

/// S10 weights for the eight serial digits.
const S10_WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

impl TrackingNumber {
    /// Validates a tracking number. `field` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Empty`], [`ModelError::TrackingNumber`] for a wrong length or
    /// character, [`ModelError::CheckDigit`] for a wrong S10 or SSCC check digit.
    pub(crate) fn parse_field(field: &str, text: &str) -> Result<Self, ModelError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ModelError::Empty {
                field: field.into(),
            });
        }
        if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ModelError::TrackingNumber {
                field: field.into(),
                reason: "only ASCII letters and digits are allowed",
            });
        }
        if !(8..=32).contains(&text.len()) {
            return Err(ModelError::TrackingNumber {
                field: field.into(),
                reason: "must be 8 to 32 characters",
            });
        }
        let text = text.to_ascii_uppercase();
        let bytes = text.as_bytes();
        let scheme = if is_s10_shape(bytes) {
            let expected = s10_check_digit(&bytes[2..10]);
            if bytes[10] != expected {
                return Err(ModelError::CheckDigit {
                    field: field.into(),
                    scheme: "UPU S10",
                    expected: char::from(expected),
                });
            }
            TrackingScheme::UpuS10
        } else if bytes.len() == 18 && bytes.iter().all(u8::is_ascii_digit) {
            let expected = gs1_check_digit(&bytes[..17]);
            if bytes[17] != expected {
                return Err(ModelError::CheckDigit {
                    field: field.into(),
                    scheme: "GS1 SSCC",
                    expected: char::from(expected),
                });
            }
            TrackingScheme::Sscc
        } else {
            TrackingScheme::Carrier
        };
        Ok(Self { text, scheme })
    }

    /// The tracking number as printed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The check scheme it was validated against.
    pub fn scheme(&self) -> TrackingScheme {
        self.scheme
    }
}

impl core::str::FromStr for TrackingNumber {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        Self::parse_field("tracking_number", s)
    }
}

/// Serialises as its text: it is printed on the label anyway.
impl serde::Serialize for TrackingNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl core::fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_s10_shape(b: &[u8]) -> bool {
    b.len() == 13
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_uppercase)
}

/// UPU S10 check digit over eight serial digits: 11 − (Σ wᵢdᵢ mod 11), 10→0, 11→5.
fn s10_check_digit(serial: &[u8]) -> u8 {
    let sum: u32 = serial
        .iter()
        .zip(S10_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => b'0',
        11 => b'5',
        c => b'0' + c as u8,
    }
}

/// GS1 mod-10: weights 3,1,3,… from the rightmost data digit.
fn gs1_check_digit(data: &[u8]) -> u8 {
    let sum: u32 = data
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_examples_from_upu() {
        // UPU S10 worked example: serial 47312482, check digit 9.
        assert_eq!(s10_check_digit(b"47312482"), b'9');
        let t: TrackingNumber = "RR473124829CN".parse().unwrap();
        assert_eq!(t.scheme(), TrackingScheme::UpuS10);
        let t: TrackingNumber = "ee471108151cn".parse().unwrap();
        assert_eq!(t.as_str(), "EE471108151CN");
    }

    #[test]
    fn s10_wrong_digit_is_rejected() {
        let err = "RR473124828CN".parse::<TrackingNumber>().unwrap_err();
        assert_eq!(
            err,
            ModelError::CheckDigit {
                field: "tracking_number".into(),
                scheme: "UPU S10",
                expected: '9'
            }
        );
    }

    #[test]
    fn s10_remainder_rules() {
        // Σ mod 11 == 1 → 10 → 0; Σ mod 11 == 0 → 11 → 5.
        // 00000001: 7 → 11-7 = 4.
        assert_eq!(s10_check_digit(b"00000001"), b'4');
        assert_eq!(s10_check_digit(b"00000000"), b'5');
        // 10000000: 8·1 = 8 → 3; 20000000: 16 mod 11 = 5 → 6; 70000000: 56 mod 11 = 1 → 0.
        assert_eq!(s10_check_digit(b"70000000"), b'0');
    }

    #[test]
    fn sscc_check_digit() {
        // The SSCC example of the GS1 General Specifications: (00) 1 0614141 234567890 8.
        assert_eq!(gs1_check_digit(b"10614141234567890"), b'8');
        assert!("106141412345678908".parse::<TrackingNumber>().is_ok());
        assert!(matches!(
            "106141412345678900".parse::<TrackingNumber>(),
            Err(ModelError::CheckDigit {
                scheme: "GS1 SSCC",
                expected: '8',
                ..
            })
        ));
    }

    #[test]
    fn carrier_formats_and_bad_input() {
        let t: TrackingNumber = "SF1234567890123".parse().unwrap();
        assert_eq!(t.scheme(), TrackingScheme::Carrier);
        assert!(matches!(
            "SF12".parse::<TrackingNumber>(),
            Err(ModelError::TrackingNumber { .. })
        ));
        assert!(matches!(
            "SF 1234567890".parse::<TrackingNumber>(),
            Err(ModelError::TrackingNumber { .. })
        ));
        assert!(matches!(
            "顺丰1234567890".parse::<TrackingNumber>(),
            Err(ModelError::TrackingNumber { .. })
        ));
        assert!(matches!(
            " ".parse::<TrackingNumber>(),
            Err(ModelError::Empty { .. })
        ));
    }
}
