//! Reported-number precision: a number as AWS printed it, and whether an exact value agrees.

use serde::Serialize;
use serde_json::value::RawValue;

/// A number as a record carries it: its value and its exact JSON text.
///
/// AWS writes averages rounded to 10 decimal places (`0.0000882145`, `85.4202380952`,
/// `6`), or with 6 significant digits in exponent notation (`8.82145e-05`, `9.82222E-5`).
/// [`ReportedNumber::agrees_with`] compares an exactly computed value with what AWS printed at
/// that precision.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportedNumber {
    /// The value.
    pub value: f64,
    /// The JSON text it was read from (for a number given as a JSON string, the string's
    /// content).
    pub text: String,
}

impl ReportedNumber {
    /// The largest difference from an exact value that still agrees with this number: one unit
    /// in the last place AWS prints. In exponent notation (6 significant digits) that is
    /// `10^(e−5)` for a value of magnitude `10^e`; otherwise one unit of the 10th decimal
    /// place (`1e-10`), since AWS drops trailing zeros and the printed digits do not tell the
    /// precision. One event more or less always changes an average by far more: by
    /// `1 / duration`, at least `1e-5` for any window shorter than 70 days.
    pub fn tolerance(&self) -> f64 {
        let exponent_form = self.text.bytes().any(|b| b == b'e' || b == b'E');
        if exponent_form && self.value != 0.0 {
            10f64.powf(self.value.abs().log10().floor() - 5.0)
        } else {
            // Above 1e5 an f64 no longer resolves 1e-10; allow its own rounding.
            1e-10f64.max(self.value.abs() * 4.0 * f64::EPSILON)
        }
    }

    /// Whether `exact` prints as this number at AWS's precision; see
    /// [`ReportedNumber::tolerance`].
    ///
    /// ```
    /// use trailsight_engine::reference::ReportedNumber;
    /// let aws = |text: &str| ReportedNumber { value: text.parse().unwrap(), text: text.into() };
    /// assert!(aws("8.82145e-05").agrees_with(1.0 / 11336.0));
    /// assert!(aws("0.0000882145").agrees_with(1.0 / 11336.0));
    /// assert!(aws("85.4202380952").agrees_with(861_036.0 / 10080.0));
    /// assert!(!aws("85.4202380952").agrees_with(861_037.0 / 10080.0));
    /// assert!(!aws("0.6").agrees_with(0.61));
    /// ```
    pub fn agrees_with(&self, exact: f64) -> bool {
        // The margin absorbs the binary rounding of the tolerance itself.
        (exact - self.value).abs() <= self.tolerance() * (1.0 + 1e-9)
    }
}

impl Serialize for ReportedNumber {
    /// As the JSON number it was read from, digit for digit.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.text.clone()) {
            Ok(raw) if self.text.parse::<f64>().is_ok() => raw.serialize(serializer),
            _ => serializer.serialize_f64(self.value),
        }
    }
}
