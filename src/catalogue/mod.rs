//! The public catalogue: the list of services with search and categories, and a service's page.

mod browser;
mod service;

pub use browser::{CatalogueBrowser, CataloguePage};
pub use service::{ServiceDetail, ServicePage};

use leptos::prelude::*;
use portal_domain::catalogue::ServiceSummary;

use crate::api::{self, ApiFailure};

/// The service list, fetched once per visit and shared by the pages that show it.
#[derive(Clone, Copy)]
pub struct CatalogueResource(pub LocalResource<Result<Vec<ServiceSummary>, ApiFailure>>);

pub fn provide_catalogue() {
    provide_context(CatalogueResource(LocalResource::new(api::services)));
}
