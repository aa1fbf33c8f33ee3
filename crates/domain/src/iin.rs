//! The IIN (ЖСН / ИИН), Kazakhstan's individual identification number.
//!
//! Twelve digits: 1–6 the birth date YYMMDD; 7 the century and sex (1–6); 8–11 a serial number;
//! 12 a control digit. The control digit is Σ dᵢ·wᵢ mod 11 over digits 1–11 with weights 1..11;
//! when that is 10 it is recomputed with weights 3..11,1,2, and a second 10 means no such number
//! is issued (Government Decree No. 565 of 11 June 2003, as implemented by public validators).

use std::fmt;

use portal_i18n::Msg;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iin([u8; 12]);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IinError {
    Empty,
    /// Something other than digits (spaces between groups are accepted and ignored).
    NotDigits,
    WrongLength {
        digits: usize,
    },
    /// Digits 1–6 are not a real date.
    BirthDate,
    /// Digit 7 is 0 or 7–9: it encodes neither century nor sex.
    CenturySex,
    /// Digit 12 is not the control digit of digits 1–11.
    Checksum,
    /// Both control-digit passes give 10: numbers like this are never issued.
    NeverIssued,
}

impl IinError {
    /// The message key of this error in the locale files.
    pub fn message(self) -> Msg {
        match self {
            IinError::Empty => Msg::ErrorIinEmpty,
            IinError::NotDigits => Msg::ErrorIinNotDigits,
            IinError::WrongLength { .. } => Msg::ErrorIinLength,
            IinError::BirthDate => Msg::ErrorIinBirthDate,
            IinError::CenturySex => Msg::ErrorIinCenturySex,
            IinError::Checksum => Msg::ErrorIinChecksum,
            IinError::NeverIssued => Msg::ErrorIinNeverIssued,
        }
    }
}

impl fmt::Display for IinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(portal_i18n::t(portal_i18n::Lang::En, self.message()))
    }
}

impl std::error::Error for IinError {}

const WEIGHTS_FIRST: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const WEIGHTS_SECOND: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The control digit of the first 11 digits, or `None` when no number with them is issued.
/// The IIN that the 11 digits `first_eleven` begin, with its control digit; `None` when they
/// are not 11 digits or no IIN is issued with them (programs that make test numbers use it).
pub fn complete(first_eleven: &str) -> Option<String> {
    let digits: [u8; 11] = first_eleven
        .bytes()
        .map(|b| b.wrapping_sub(b'0'))
        .filter(|d| *d <= 9)
        .collect::<Vec<_>>()
        .try_into()
        .ok()?;
    control_digit(&digits).map(|c| format!("{first_eleven}{c}"))
}

pub fn control_digit(first_eleven: &[u8; 11]) -> Option<u8> {
    let sum = |weights: &[u32; 11]| {
        first_eleven
            .iter()
            .zip(weights)
            .map(|(d, w)| u32::from(*d) * w)
            .sum::<u32>()
            % 11
    };
    match sum(&WEIGHTS_FIRST) {
        10 => match sum(&WEIGHTS_SECOND) {
            10 => None,
            c => Some(c as u8),
        },
        c => Some(c as u8),
    }
}

impl Iin {
    pub fn parse(input: &str) -> Result<Iin, IinError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IinError::Empty);
        }
        let mut digits = Vec::with_capacity(12);
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                ' ' | '\u{a0}' => {}
                _ => return Err(IinError::NotDigits),
            }
        }
        let digits: [u8; 12] = digits
            .try_into()
            .map_err(|d: Vec<u8>| IinError::WrongLength { digits: d.len() })?;
        if !(1..=6).contains(&digits[6]) {
            return Err(IinError::CenturySex);
        }
        let iin = Iin(digits);
        if iin.compute_birth_date().is_none() {
            return Err(IinError::BirthDate);
        }
        let first_eleven: [u8; 11] = digits[..11].try_into().expect("eleven digits");
        match control_digit(&first_eleven) {
            None => Err(IinError::NeverIssued),
            Some(c) if c != digits[11] => Err(IinError::Checksum),
            Some(_) => Ok(iin),
        }
    }

    pub fn as_digits(&self) -> &[u8; 12] {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        self.compute_birth_date().expect("checked when parsed")
    }

    pub fn sex(&self) -> Sex {
        if self.0[6] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The IIN with the serial and control digits hidden, for screens that only need to show
    /// whose record it is: `900101******`.
    pub fn masked(&self) -> String {
        let mut s = self.to_string();
        s.replace_range(6.., "******");
        s
    }

    fn compute_birth_date(&self) -> Option<Date> {
        let d = &self.0;
        let two = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
        let century = match d[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            _ => return None,
        };
        Date::from_ymd(century + two(0) as i32, two(2), two(4)).ok()
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

// Never print a whole IIN into logs by accident through `{:?}`.
impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({})", self.masked())
    }
}

impl std::str::FromStr for Iin {
    type Err = IinError;
    fn from_str(s: &str) -> Result<Iin, IinError> {
        Iin::parse(s)
    }
}

impl Serialize for Iin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Iin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Iin, D::Error> {
        let s = String::deserialize(deserializer)?;
        Iin::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_control(first: &str) -> String {
        complete(first).expect("issued")
    }

    #[test]
    fn accepts_a_valid_number_and_derives_birth_date_and_sex() {
        let iin = Iin::parse(&with_control("90010130012")).unwrap();
        assert_eq!(iin.birth_date().to_string(), "1990-01-01");
        assert_eq!(iin.sex(), Sex::Male);
        let girl = Iin::parse(&with_control("19052060012")).unwrap();
        assert_eq!(girl.birth_date().to_string(), "2019-05-20");
        assert_eq!(girl.sex(), Sex::Female);
    }

    #[test]
    fn every_century_digit_maps_to_its_century_and_sex() {
        for (digit, year, sex) in [
            (1, 1885, Sex::Male),
            (2, 1885, Sex::Female),
            (3, 1985, Sex::Male),
            (4, 1985, Sex::Female),
            (5, 2085, Sex::Male),
            (6, 2085, Sex::Female),
        ] {
            let iin = Iin::parse(&with_control(&format!("850315{digit}0042"))).unwrap();
            assert_eq!(iin.birth_date().year(), year);
            assert_eq!(iin.sex(), sex);
        }
    }

    #[test]
    fn the_first_weights_decide_when_their_sum_is_not_ten() {
        // 1·9+2·0+3·0+4·1+5·0+6·1+7·3+8·0+9·0+10·1+11·2 = 72; 72 mod 11 = 6
        assert_eq!(control_digit(&[9, 0, 0, 1, 0, 1, 3, 0, 0, 1, 2]), Some(6));
        assert!(Iin::parse("900101300126").is_ok());
    }

    #[test]
    fn the_second_weights_decide_when_the_first_sum_is_ten() {
        // Search for a real case so the test exercises the second pass, whatever the digits.
        let (first, expected) = (0..100_000u32)
            .map(|serial| format!("800101{}{:04}", 3, serial))
            .filter_map(|s| {
                let d: [u8; 11] = s
                    .bytes()
                    .map(|b| b - b'0')
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap();
                let first_sum = d
                    .iter()
                    .zip(WEIGHTS_FIRST)
                    .map(|(x, w)| u32::from(*x) * w)
                    .sum::<u32>()
                    % 11;
                let second_sum = d
                    .iter()
                    .zip(WEIGHTS_SECOND)
                    .map(|(x, w)| u32::from(*x) * w)
                    .sum::<u32>()
                    % 11;
                (first_sum == 10 && second_sum != 10).then_some((s, second_sum))
            })
            .next()
            .expect("some serial needs the second pass");
        let iin = format!("{first}{expected}");
        assert!(Iin::parse(&iin).is_ok(), "{iin}");
        let wrong = format!("{first}{}", (expected + 1) % 10);
        assert_eq!(Iin::parse(&wrong), Err(IinError::Checksum));
    }

    #[test]
    fn a_number_whose_both_passes_give_ten_is_never_issued() {
        let first = (0..100_000u32)
            .map(|serial| format!("800101{}{:04}", 3, serial))
            .find(|s| {
                let d: [u8; 11] = s
                    .bytes()
                    .map(|b| b - b'0')
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap();
                control_digit(&d).is_none()
            })
            .expect("some serial is never issued");
        for last in 0..10 {
            assert_eq!(
                Iin::parse(&format!("{first}{last}")),
                Err(IinError::NeverIssued)
            );
        }
    }

    #[test]
    fn rejects_each_class_of_bad_input_with_its_own_error() {
        assert_eq!(Iin::parse(""), Err(IinError::Empty));
        assert_eq!(Iin::parse("   "), Err(IinError::Empty));
        assert_eq!(Iin::parse("90010130012a"), Err(IinError::NotDigits));
        assert_eq!(Iin::parse("9001-0130-0126"), Err(IinError::NotDigits));
        assert_eq!(Iin::parse("٩٠٠١٠١٣٠٠١٢٦"), Err(IinError::NotDigits));
        assert_eq!(
            Iin::parse("90010130012"),
            Err(IinError::WrongLength { digits: 11 })
        );
        assert_eq!(
            Iin::parse("9001013001266"),
            Err(IinError::WrongLength { digits: 13 })
        );
        assert_eq!(
            Iin::parse(&with_control("90130130012")),
            Err(IinError::BirthDate)
        );
        assert_eq!(
            Iin::parse(&with_control("90023030012")),
            Err(IinError::BirthDate)
        );
        assert_eq!(Iin::parse("900101000126"), Err(IinError::CenturySex));
        assert_eq!(Iin::parse("900101700126"), Err(IinError::CenturySex));
        assert_eq!(Iin::parse("900101300127"), Err(IinError::Checksum));
    }

    #[test]
    fn leap_day_births_depend_on_the_century() {
        assert!(
            Iin::parse(&with_control("00022950012")).is_ok(),
            "2000 was a leap year"
        );
        assert_eq!(
            Iin::parse(&with_control("00022910012")),
            Err(IinError::BirthDate),
            "1800 was not"
        );
    }

    #[test]
    fn spaces_between_digit_groups_are_ignored() {
        assert_eq!(
            Iin::parse(" 900101 300126 ").unwrap().to_string(),
            "900101300126"
        );
    }

    #[test]
    fn masking_and_debug_hide_the_serial() {
        let iin = Iin::parse("900101300126").unwrap();
        assert_eq!(iin.masked(), "900101******");
        assert_eq!(format!("{iin:?}"), "Iin(900101******)");
    }

    #[test]
    fn every_error_has_a_message() {
        for e in [
            IinError::Empty,
            IinError::NotDigits,
            IinError::WrongLength { digits: 3 },
            IinError::BirthDate,
            IinError::CenturySex,
            IinError::Checksum,
            IinError::NeverIssued,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Iin>("\"900101300126\"").is_ok());
        assert!(serde_json::from_str::<Iin>("\"900101300127\"").is_err());
    }
}
