//! The regulated lifecycle of an application: which move leads from which state to which, and
//! who may make it. The server applies [`next`] to every change and records each as an event;
//! the workspace offers only [`allowed`] moves.

use serde::{Deserialize, Serialize};

use crate::application::Status;
use crate::date::Date;
use crate::organisation::OpeningHours;
use crate::service::RefusalGround;
use crate::text::Text;
use portal_i18n::Msg;

/// A move in the lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    /// The applicant sends the signed draft; its signature was confirmed.
    Submit,
    /// The applicant sends the signed draft; the signature's revocation status is not known yet.
    SubmitUnconfirmed,
    ConfirmSignature,
    RejectSignature,
    Withdraw,
    Register,
    RefuseToAccept,
    Assign,
    RecordInspection,
    Approve,
    Refuse,
    SetPickup,
    MarkIssued,
    ReturnToStorage,
    /// First grade: the school does not accept the claimed priority category's proof; the
    /// application keeps its place and competes without priority.
    RefusePriority,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::Submit,
        Action::SubmitUnconfirmed,
        Action::ConfirmSignature,
        Action::RejectSignature,
        Action::Withdraw,
        Action::Register,
        Action::RefuseToAccept,
        Action::Assign,
        Action::RecordInspection,
        Action::Approve,
        Action::Refuse,
        Action::SetPickup,
        Action::MarkIssued,
        Action::ReturnToStorage,
        Action::RefusePriority,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::SubmitUnconfirmed => "submit_unconfirmed",
            Action::ConfirmSignature => "confirm_signature",
            Action::RejectSignature => "reject_signature",
            Action::Withdraw => "withdraw",
            Action::Register => "register",
            Action::RefuseToAccept => "refuse_to_accept",
            Action::Assign => "assign",
            Action::RecordInspection => "record_inspection",
            Action::Approve => "approve",
            Action::Refuse => "refuse",
            Action::SetPickup => "set_pickup",
            Action::MarkIssued => "mark_issued",
            Action::ReturnToStorage => "return_to_storage",
            Action::RefusePriority => "refuse_priority",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == s)
    }

    /// How the timeline names the move.
    pub fn msg(self) -> Msg {
        match self {
            Action::Submit => Msg::WorkflowActionSubmit,
            Action::SubmitUnconfirmed => Msg::WorkflowActionSubmitUnconfirmed,
            Action::ConfirmSignature => Msg::WorkflowActionConfirmSignature,
            Action::RejectSignature => Msg::WorkflowActionRejectSignature,
            Action::Withdraw => Msg::WorkflowActionWithdraw,
            Action::Register => Msg::WorkflowActionRegister,
            Action::RefuseToAccept => Msg::WorkflowActionRefuseToAccept,
            Action::Assign => Msg::WorkflowActionAssign,
            Action::RecordInspection => Msg::WorkflowActionRecordInspection,
            Action::Approve => Msg::WorkflowActionApprove,
            Action::Refuse => Msg::WorkflowActionRefuse,
            Action::SetPickup => Msg::WorkflowActionSetPickup,
            Action::MarkIssued => Msg::WorkflowActionMarkIssued,
            Action::ReturnToStorage => Msg::WorkflowActionReturnToStorage,
            Action::RefusePriority => Msg::WorkflowActionRefusePriority,
        }
    }
}

/// Who makes a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Actor {
    Applicant,
    /// An officer of the organisation the application went to.
    Officer,
    /// The portal itself: signature re-checks, the one-month storage rule.
    System,
}

impl Actor {
    pub const ALL: [Actor; 3] = [Actor::Applicant, Actor::Officer, Actor::System];

    pub fn code(self) -> &'static str {
        match self {
            Actor::Applicant => "applicant",
            Actor::Officer => "officer",
            Actor::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Actor> {
        Actor::ALL.into_iter().find(|a| a.code() == s)
    }
}

/// What the service's definition changes in the lifecycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// A home inspection act must be recorded before a positive decision.
    pub home_inspection: bool,
    /// The application claims a first-grade priority category not refused yet.
    pub priority_claim: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forbidden {
    /// This actor never makes this move.
    NotYours,
    /// Not from the application's present state.
    NotNow,
}

/// Who makes each move.
fn actor_of(action: Action) -> Actor {
    match action {
        Action::Submit | Action::SubmitUnconfirmed | Action::Withdraw => Actor::Applicant,
        Action::ConfirmSignature | Action::RejectSignature | Action::ReturnToStorage => {
            Actor::System
        }
        Action::Register
        | Action::RefuseToAccept
        | Action::Assign
        | Action::RecordInspection
        | Action::Approve
        | Action::Refuse
        | Action::MarkIssued
        | Action::RefusePriority => Actor::Officer,
        // The officer proposes a time, or the applicant picks one.
        Action::SetPickup => Actor::Officer,
    }
}

/// The state `action` by `actor` leads to from `from`, or why it may not be made.
pub fn next(from: Status, action: Action, actor: Actor, rules: Rules) -> Result<Status, Forbidden> {
    let by_actor =
        actor_of(action) == actor || (action == Action::SetPickup && actor == Actor::Applicant);
    if !by_actor {
        return Err(Forbidden::NotYours);
    }
    use Status as S;
    let to = match (action, from) {
        (Action::Submit, S::Draft) => S::Submitted,
        (Action::SubmitUnconfirmed, S::Draft) => S::SignaturePending,
        (Action::ConfirmSignature, S::SignaturePending) => S::Submitted,
        (Action::RejectSignature, S::SignaturePending) => S::SignatureRejected,
        (Action::Withdraw, S::SignaturePending | S::Submitted) => S::Withdrawn,
        (Action::Register, S::Submitted) => S::Registered,
        (Action::RefuseToAccept, S::Submitted) => S::RefusedToAccept,
        // Reassigning during the review is allowed: people fall ill.
        (Action::Assign, S::Registered | S::InReview) => S::InReview,
        (Action::RecordInspection, S::InReview) if rules.home_inspection => S::HomeInspection,
        (Action::Approve, S::InReview) if !rules.home_inspection => S::ResultReady,
        (Action::Approve, S::HomeInspection) => S::ResultReady,
        (Action::Refuse, S::InReview | S::HomeInspection) => S::Refused,
        (Action::SetPickup, S::ResultReady) => S::ResultReady,
        (Action::MarkIssued, S::ResultReady) => S::Issued,
        (Action::ReturnToStorage, S::ResultReady) => S::ReturnedToStorage,
        (Action::RefusePriority, S::Submitted | S::Registered | S::InReview)
            if rules.priority_claim =>
        {
            from
        }
        _ => return Err(Forbidden::NotNow),
    };
    Ok(to)
}

/// The moves `actor` can make now.
pub fn allowed(from: Status, actor: Actor, rules: Rules) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| next(from, *a, actor, rules).is_ok())
        .collect()
}

/// An officer's move, with what the regulations require to go with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OfficerAction {
    /// Registers the application; the acceptance notice goes to the applicant.
    Register {},
    /// The package is incomplete or out of date: which documents, and why.
    RefuseToAccept {
        missing: Vec<String>,
        reason: String,
    },
    /// Assigns an executor (an officer of the same organisation).
    Assign { officer_id: String },
    /// The home inspection act: when, and what was found.
    RecordInspection { visited_on: Date, findings: String },
    /// A positive decision; `decision` is the text of the result document.
    Approve { decision: String },
    /// A motivated refusal: grounds from the service's definition, and the explanation.
    Refuse {
        grounds: Vec<String>,
        reason: String,
    },
    /// Proposes the time the applicant collects the result (a slot of the pickup place).
    SetPickup { slot: String },
    /// The result was handed over after the recipient showed an identity document, or a
    /// representative a notarised power of attorney.
    MarkIssued {
        shown: IdentityShown,
        recipient: String,
    },
    /// The claimed first-grade priority category is not proved: why, for the parent.
    RefusePriority { priority_reason: String },
}

impl OfficerAction {
    pub fn action(&self) -> Action {
        match self {
            OfficerAction::Register {} => Action::Register,
            OfficerAction::RefuseToAccept { .. } => Action::RefuseToAccept,
            OfficerAction::Assign { .. } => Action::Assign,
            OfficerAction::RecordInspection { .. } => Action::RecordInspection,
            OfficerAction::Approve { .. } => Action::Approve,
            OfficerAction::Refuse { .. } => Action::Refuse,
            OfficerAction::SetPickup { .. } => Action::SetPickup,
            OfficerAction::MarkIssued { .. } => Action::MarkIssued,
            OfficerAction::RefusePriority { .. } => Action::RefusePriority,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdentityShown {
    IdentityDocument,
    NotarisedPowerOfAttorney,
}

/// `POST /api/workspace/applications/{id}/actions`: the action's fields next to `expected`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionRequest {
    /// The state the officer saw; if it changed meanwhile the move is refused (409).
    pub expected: Status,
    #[serde(flatten)]
    pub action: OfficerAction,
    /// Documents uploaded for this move (a scanned inspection act, say): ids from
    /// `POST /api/workspace/applications/{id}/files`, at most [`MAX_FILES_PER_MOVE`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

pub const MAX_FILES_PER_MOVE: usize = 10;

// Written out because serde cannot refuse unknown fields through `flatten`: `expected` is
// taken off, and the rest must be exactly one action with its own fields.
impl<'de> Deserialize<'de> for ActionRequest {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ActionRequest, D::Error> {
        use serde::de::Error;
        let mut object = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let expected = object
            .remove("expected")
            .ok_or_else(|| D::Error::missing_field("expected"))?;
        let expected = Status::deserialize(expected).map_err(D::Error::custom)?;
        let files = match object.remove("files") {
            Some(files) => Vec::<String>::deserialize(files).map_err(D::Error::custom)?,
            None => Vec::new(),
        };
        let action = OfficerAction::deserialize(serde_json::Value::Object(object))
            .map_err(D::Error::custom)?;
        Ok(ActionRequest {
            expected,
            action,
            files,
        })
    }
}

/// One recorded move, as the timeline shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub action: Action,
    pub actor: Actor,
    /// The officer's name; none for the applicant and the portal.
    pub actor_name: Option<String>,
    pub from: Status,
    pub to: Status,
    /// What the move says: the reason, the refusal's grounds, the inspection's findings…
    pub details: Vec<Text>,
    /// Documents attached to the move.
    #[serde(default)]
    pub files: Vec<CaseFile>,
}

/// A document an officer attached to a move. Its hash is part of the event, so the history
/// chain also vouches for the file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseFile {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// A step of the provider's procedure and the day it must be done by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadline {
    pub step: Text,
    pub due: Date,
    pub done: bool,
    pub overdue: bool,
}

/// Where and when the applicant collects the result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PickupView {
    pub slot: String,
    /// Unix milliseconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: Text,
    pub address: Text,
    pub phone: String,
    pub hours: OpeningHours,
}

/// A time the result can be collected, and how many places it still has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotView {
    pub id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub free: u32,
}

/// `PUT /api/applications/{id}/pickup`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PickupRequest {
    pub slot: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Decision {
    Approved,
    Refused,
    RefusedToAccept,
}

impl From<Decision> for crate::application::DocumentKind {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Approved => crate::application::DocumentKind::Approved,
            Decision::Refused => crate::application::DocumentKind::Refused,
            Decision::RefusedToAccept => crate::application::DocumentKind::RefusedToAccept,
        }
    }
}

/// The provider's signed electronic document: the result, a refusal, or a refusal to accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultView {
    pub decision: Decision,
    pub number: String,
    pub created_at: i64,
    pub verification_url: String,
    /// The organisation named by the signing certificate.
    pub signed_by: String,
}

/// What happened to a submitted application, and what comes next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub timeline: Vec<EventView>,
    pub deadlines: Vec<Deadline>,
    /// The whole term's last day.
    pub due: Option<Date>,
    pub overdue: bool,
    pub pickup: Option<PickupView>,
    pub result: Option<ResultView>,
    /// The moves the viewer can make now.
    pub allowed: Vec<Action>,
    /// Whether the result is collected in person (a paper result): pickup applies.
    pub paper_result: bool,
}

/// An application in the officer's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueItem {
    pub id: String,
    pub number: String,
    pub service_id: String,
    pub service_name: Text,
    pub applicant: String,
    pub applicant_iin: String,
    pub status: Status,
    pub submitted_at: i64,
    pub due: Option<Date>,
    pub overdue: bool,
    pub assignee: Option<String>,
}

/// The applicant as the officer sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicantView {
    pub name: String,
    pub iin: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// An officer of the same organisation, to assign to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Colleague {
    pub id: String,
    pub name: String,
}

/// `GET /api/workspace/applications/{id}`: everything the officer needs to decide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    pub application: crate::application::ApplicationView,
    pub progress: Progress,
    pub applicant: ApplicantView,
    pub assignee: Option<Colleague>,
    pub colleagues: Vec<Colleague>,
    pub refusal_grounds: Vec<RefusalGround>,
    pub documents: Vec<crate::service::DocumentItem>,
    pub home_inspection: bool,
    /// Every recorded event's hash matches its content and the one before it.
    pub history_intact: bool,
    /// The answers as the form asks them, labelled.
    pub answers: Vec<crate::form::SummarySection>,
}

/// `GET /api/workspace/applications` filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct QueueFilter {
    pub status: Option<Status>,
    pub service: Option<String>,
    /// `overdue`, `today` (due today or overdue) or `week` (due within 7 days).
    pub due: Option<String>,
    /// An application number or the applicant's IIN (or its beginning).
    pub q: Option<String>,
}

/// The grounds for refusal every service has, whatever its own regulation lists: the Law "On
/// public services", art. 19-1 (general knowledge from outside the seeds; most seed regulations
/// only refer to "paragraph 10 of the Standard" without its text).
pub fn general_refusal_grounds() -> Vec<RefusalGround> {
    let ground = |id: &str, en: &str, ru: &str, kk: &str| RefusalGround {
        id: id.to_string(),
        text: Text {
            kk: kk.into(),
            ru: ru.into(),
            en: en.into(),
        },
    };
    vec![
        ground(
            "law-unreliable-documents",
            "The documents submitted, or the data in them, were found to be unreliable.",
            "Установлена недостоверность представленных документов и (или) данных (сведений), содержащихся в них.",
            "Ұсынылған құжаттардың және (немесе) олардағы деректердің (мәліметтердің) дұрыс еместігі анықталды.",
        ),
        ground(
            "law-requirements-not-met",
            "The applicant, or the materials, data and information submitted, do not meet the requirements of the regulations.",
            "Несоответствие услугополучателя и (или) представленных материалов, данных и сведений требованиям нормативных правовых актов.",
            "Көрсетілетін қызметті алушының және (немесе) ұсынылған материалдардың, деректер мен мәліметтердің нормативтік құқықтық актілердің талаптарына сәйкес келмеуі.",
        ),
        ground(
            "law-court-decision",
            "A court decision in force bars the applicant from the activity, or deprives them of the special right, the service is needed for.",
            "В отношении услугополучателя имеется вступившее в законную силу решение суда о запрещении деятельности или лишении специального права, связанного с получением услуги.",
            "Көрсетілетін қызметті алушыға қатысты қызметке тыйым салу немесе қызметті алуға байланысты арнаулы құқығынан айыру туралы заңды күшіне енген сот шешімі бар.",
        ),
    ]
}

/// How far the provider's steps got, by state: the first `n` steps are done.
pub fn steps_done(status: Status, steps: usize) -> usize {
    match status {
        Status::Draft | Status::SignaturePending | Status::Submitted => 0,
        Status::Registered => 1.min(steps),
        Status::InReview | Status::HomeInspection => 2.min(steps),
        _ => steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every allowed move, written out independently of `next`: (from, action, actor, to,
    /// whether the service has a home inspection — `None` for both).
    const ALLOWED: &[(Status, Action, Actor, Status, Option<bool>)] = &[
        (
            Status::Draft,
            Action::Submit,
            Actor::Applicant,
            Status::Submitted,
            None,
        ),
        (
            Status::Draft,
            Action::SubmitUnconfirmed,
            Actor::Applicant,
            Status::SignaturePending,
            None,
        ),
        (
            Status::SignaturePending,
            Action::ConfirmSignature,
            Actor::System,
            Status::Submitted,
            None,
        ),
        (
            Status::SignaturePending,
            Action::RejectSignature,
            Actor::System,
            Status::SignatureRejected,
            None,
        ),
        (
            Status::SignaturePending,
            Action::Withdraw,
            Actor::Applicant,
            Status::Withdrawn,
            None,
        ),
        (
            Status::Submitted,
            Action::Withdraw,
            Actor::Applicant,
            Status::Withdrawn,
            None,
        ),
        (
            Status::Submitted,
            Action::Register,
            Actor::Officer,
            Status::Registered,
            None,
        ),
        (
            Status::Submitted,
            Action::RefuseToAccept,
            Actor::Officer,
            Status::RefusedToAccept,
            None,
        ),
        (
            Status::Registered,
            Action::Assign,
            Actor::Officer,
            Status::InReview,
            None,
        ),
        (
            Status::InReview,
            Action::Assign,
            Actor::Officer,
            Status::InReview,
            None,
        ),
        (
            Status::InReview,
            Action::RecordInspection,
            Actor::Officer,
            Status::HomeInspection,
            Some(true),
        ),
        (
            Status::InReview,
            Action::Approve,
            Actor::Officer,
            Status::ResultReady,
            Some(false),
        ),
        (
            Status::HomeInspection,
            Action::Approve,
            Actor::Officer,
            Status::ResultReady,
            None,
        ),
        (
            Status::InReview,
            Action::Refuse,
            Actor::Officer,
            Status::Refused,
            None,
        ),
        (
            Status::HomeInspection,
            Action::Refuse,
            Actor::Officer,
            Status::Refused,
            None,
        ),
        (
            Status::ResultReady,
            Action::SetPickup,
            Actor::Officer,
            Status::ResultReady,
            None,
        ),
        (
            Status::ResultReady,
            Action::SetPickup,
            Actor::Applicant,
            Status::ResultReady,
            None,
        ),
        (
            Status::ResultReady,
            Action::MarkIssued,
            Actor::Officer,
            Status::Issued,
            None,
        ),
        (
            Status::ResultReady,
            Action::ReturnToStorage,
            Actor::System,
            Status::ReturnedToStorage,
            None,
        ),
    ];

    /// The moves allowed only while the application claims a priority category not refused.
    const WITH_PRIORITY_CLAIM: &[(Status, Action, Actor, Status)] = &[
        (
            Status::Submitted,
            Action::RefusePriority,
            Actor::Officer,
            Status::Submitted,
        ),
        (
            Status::Registered,
            Action::RefusePriority,
            Actor::Officer,
            Status::Registered,
        ),
        (
            Status::InReview,
            Action::RefusePriority,
            Actor::Officer,
            Status::InReview,
        ),
    ];

    #[test]
    fn every_move_from_every_state_by_every_actor() {
        let mut checked = 0;
        for (inspection, priority_claim) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let rules = Rules {
                home_inspection: inspection,
                priority_claim,
            };
            for from in Status::ALL {
                for action in Action::ALL {
                    for actor in Actor::ALL {
                        let claimed = WITH_PRIORITY_CLAIM
                            .iter()
                            .filter(|_| priority_claim)
                            .map(|(f, a, r, to)| (*f, *a, *r, *to, None));
                        let expected = ALLOWED
                            .iter()
                            .copied()
                            .chain(claimed)
                            .find(|(f, a, r, _, only)| {
                                *f == from
                                    && *a == action
                                    && *r == actor
                                    && only.is_none_or(|o| o == inspection)
                            })
                            .map(|(_, _, _, to, _)| to);
                        let got = next(from, action, actor, rules);
                        match expected {
                            Some(to) => assert_eq!(
                                got,
                                Ok(to),
                                "{from:?} --{action:?} by {actor:?}--> (inspection {inspection}, priority {priority_claim})"
                            ),
                            None => assert!(
                                got.is_err(),
                                "{from:?} --{action:?} by {actor:?} must be forbidden (inspection {inspection}, priority {priority_claim}), got {got:?}"
                            ),
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 13 * 15 * 3);
    }

    #[test]
    fn a_wrong_actor_is_told_apart_from_a_wrong_moment() {
        let rules = Rules::default();
        assert_eq!(
            next(Status::Submitted, Action::Register, Actor::Applicant, rules),
            Err(Forbidden::NotYours)
        );
        assert_eq!(
            next(Status::Issued, Action::Register, Actor::Officer, rules),
            Err(Forbidden::NotNow)
        );
        assert_eq!(
            next(
                Status::Registered,
                Action::Withdraw,
                Actor::Applicant,
                rules
            ),
            Err(Forbidden::NotNow),
            "only before registration"
        );
    }

    #[test]
    fn final_states_allow_nothing() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for actor in Actor::ALL {
                for inspection in [false, true] {
                    assert!(
                        allowed(
                            from,
                            actor,
                            Rules {
                                home_inspection: inspection,
                                priority_claim: true,
                            }
                        )
                        .is_empty(),
                        "{from:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_inspection_comes_before_a_positive_decision_where_required() {
        let rules = Rules {
            home_inspection: true,
            priority_claim: false,
        };
        assert_eq!(
            allowed(Status::InReview, Actor::Officer, rules),
            vec![Action::Assign, Action::RecordInspection, Action::Refuse]
        );
        assert_eq!(
            allowed(Status::HomeInspection, Actor::Officer, rules),
            vec![Action::Approve, Action::Refuse]
        );
        assert_eq!(
            allowed(Status::InReview, Actor::Officer, Rules::default()),
            vec![Action::Assign, Action::Approve, Action::Refuse]
        );
    }

    #[test]
    fn codes_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        for r in Actor::ALL {
            assert_eq!(Actor::parse(r.code()), Some(r));
        }
    }

    #[test]
    fn officer_actions_read_from_tagged_json() {
        let request: ActionRequest = serde_json::from_str(
            r#"{"expected": "in_review", "action": "refuse", "grounds": ["g1"], "reason": "x"}"#,
        )
        .unwrap();
        assert_eq!(request.expected, Status::InReview);
        assert_eq!(request.action.action(), Action::Refuse);
        assert!(
            serde_json::from_str::<ActionRequest>(
                r#"{"expected": "submitted", "action": "explode"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<ActionRequest>(
                r#"{"expected": "submitted", "action": "register", "extra": 1}"#
            )
            .is_err()
        );
        let priority: ActionRequest = serde_json::from_str(
            r#"{"expected": "registered", "action": "refuse_priority", "priority_reason": "The certificate is for another child."}"#,
        )
        .unwrap();
        assert_eq!(priority.action.action(), Action::RefusePriority);
        assert!(
            serde_json::from_str::<ActionRequest>(r#"{"action": "register"}"#).is_err(),
            "the expected state is required"
        );
        let with_files: ActionRequest = serde_json::from_str(
            r#"{"expected": "home_inspection", "action": "record_inspection", "visited_on": "2026-03-02", "findings": "ok", "files": ["a"]}"#,
        )
        .unwrap();
        assert_eq!(with_files.files, vec!["a".to_string()]);
        assert_eq!(with_files.action.action(), Action::RecordInspection);
        assert!(
            serde_json::from_str::<ActionRequest>(
                r#"{"expected": "submitted", "action": "register", "files": "a"}"#
            )
            .is_err(),
            "files is a list"
        );
    }
}
