//! Applying online: start a draft, answer page by page, attach documents, check, send, and
//! get the receipt. Answers are saved as they are typed (see `draft`).

mod draft;
mod fields;
mod pages;
pub mod progress;
pub mod signing;
mod uploads;

pub use draft::Draft;
pub use fields::{Binding, FieldControl};
pub use pages::{
    ApplicationOverview, ApplicationShell, ApplyStart, CheckAnswersPage, MyApplications,
    QuestionPage, VerifyFormPage, VerifyPage,
};
