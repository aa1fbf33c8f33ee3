//! What the population register says about a child, as the portal shows it to a parent.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::form::AddressAnswer;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterChild {
    pub iin: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub birth_date: Date,
    /// The registered home address.
    pub address: AddressAnswer,
    /// The register holds the birth certificate: no copy is needed.
    pub birth_certificate: bool,
}
