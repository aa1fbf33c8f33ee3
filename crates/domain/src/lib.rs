//! The portal's rules, shared by the browser and the server.
//!
//! Nothing here does I/O or depends on a framework: validated types (the IIN, dates), the
//! service-definition schema and the catalogue search compile for wasm32 and for the server, so
//! a rule is written once and both sides apply it the same way.

/// Serialises a type that parses from and displays as a string (`MM-DD`, `HH:MM`…) as that
/// string, and describes it to OpenAPI with its pattern.
macro_rules! serde_as_string {
    ($ty:ident, $expected:literal, $pattern:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let s = String::deserialize(deserializer)?;
                $ty::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("`{}` is not ", $expected), s))
                })
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($expected))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use serde_as_string;

pub mod accounts;
pub mod api;
pub mod application;
pub mod calendar;
pub mod catalogue;
pub mod contact;
pub mod date;
pub mod eds;
pub mod first_grade;
pub mod form;
pub mod iin;
pub mod notifications;
pub mod organisation;
pub mod pattern;
pub mod pdf;
pub mod population;
pub mod service;
pub mod text;
pub mod validation;
pub mod workflow;

pub use portal_i18n::{Lang, Msg};
