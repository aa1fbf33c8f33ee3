//! Components mounted in headless Chromium: real DOM, real events, real browser storage.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use leptos_router::components::Router;
use portal_domain::catalogue::ServiceSummary;
use portal_domain::service::{ServiceDefinition, Stated};
use portal_i18n::Lang;
use portal_web::catalogue::{CatalogueBrowser, ServiceDetail};
use portal_web::components::LanguageSwitcher;
use portal_web::i18n::provide_i18n;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn definition(json: &str) -> ServiceDefinition {
    serde_json::from_str(json).expect("a valid definition")
}

fn enrolment() -> ServiceDefinition {
    definition(include_str!("../services/school-enrollment.json"))
}

fn summaries() -> Vec<ServiceSummary> {
    [
        include_str!("../services/school-enrollment.json"),
        include_str!("../services/teacher-attestation-intake.json"),
        include_str!("../services/adoption-lump-sum-payment.json"),
    ]
    .into_iter()
    .map(|json| ServiceSummary::from(&definition(json)))
    .collect()
}

/// A view mounted for one test. The tests share one page, so dropping this disposes of the
/// view's reactive owner too: otherwise an earlier test's router would still catch link clicks.
struct Mounted {
    root: HtmlElement,
    owner: Owner,
    handle: Option<Box<dyn std::any::Any>>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.handle.take();
        self.owner.cleanup();
        self.root.remove();
    }
}

/// Mounts a view into a fresh container, at a clean URL (the router keeps state in the URL).
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> Mounted {
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"))
        .unwrap();
    let document = document();
    let root = document
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document.body().unwrap().append_child(&root).unwrap();
    let owner = Owner::new();
    let handle = owner.with(|| mount_to(root.clone(), view));
    Mounted {
        root,
        owner,
        handle: Some(Box::new(handle)),
    }
}

fn mount_catalogue(lang: Lang) -> Mounted {
    let services = summaries();
    mount(move || {
        provide_i18n(lang);
        view! { <Router><CatalogueBrowser services=services.clone()/></Router> }
    })
}

fn text(root: &HtmlElement) -> String {
    root.text_content().unwrap_or_default()
}

fn query(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into()
}

fn count(root: &HtmlElement, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

/// Lets effects, resources and the router's asynchronous navigation finish.
async fn settle() {
    for _ in 0..3 {
        tick().await;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    tick().await;
}

fn clear_remembered_language() {
    window()
        .local_storage()
        .unwrap()
        .unwrap()
        .remove_item("portal.lang")
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_language_switcher_changes_the_page_language_and_remembers_it() {
    clear_remembered_language();
    let mounted = mount(|| {
        provide_i18n(Lang::Kk);
        view! { <Router><LanguageSwitcher/></Router> }
    });
    let root = mounted.root.clone();
    settle().await;
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("kk")
    );
    let english = query(&root, "a[hreflang=en]");
    assert_eq!(
        english.get_attribute("lang").as_deref(),
        Some("en"),
        "each name is marked with its own language"
    );
    assert_eq!(
        query(&root, "a[hreflang=kk]")
            .get_attribute("aria-current")
            .as_deref(),
        Some("true")
    );

    english.click();
    settle().await;
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("en")
    );
    assert_eq!(
        english.get_attribute("aria-current").as_deref(),
        Some("true")
    );
    assert_eq!(
        query(&root, "a[hreflang=kk]").get_attribute("aria-current"),
        None
    );
    let stored = window()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item("portal.lang")
        .unwrap();
    assert_eq!(stored.as_deref(), Some("en"));
    assert!(
        window().location().search().unwrap().contains("lang=en"),
        "the URL carries the choice"
    );
}

#[wasm_bindgen_test]
async fn the_catalogue_filters_while_typing_and_says_how_many_were_found() {
    let mounted = mount_catalogue(Lang::En);
    let root = mounted.root.clone();
    settle().await;
    assert_eq!(count(&root, ".service-card"), 3);
    assert_eq!(
        query(&root, ".results-count").text_content().unwrap(),
        "3 services"
    );

    let input: HtmlInputElement = query(&root, "input[type=search]").unchecked_into();
    input.set_value("teacher");
    input.dispatch_event(&Event::new("input").unwrap()).unwrap();
    settle().await;
    assert_eq!(count(&root, ".service-card"), 1);
    assert_eq!(
        query(&root, ".results-count").text_content().unwrap(),
        "1 service"
    );
    assert!(text(&root).contains("Teacher attestation"));

    input.set_value("spaceship");
    input.dispatch_event(&Event::new("input").unwrap()).unwrap();
    settle().await;
    assert_eq!(count(&root, ".service-card"), 0);
    assert!(text(&root).contains("No service matches your search."));
}

#[wasm_bindgen_test]
async fn russian_counts_use_russian_plural_forms() {
    let mounted = mount_catalogue(Lang::Ru);
    let root = mounted.root.clone();
    settle().await;
    assert_eq!(
        query(&root, ".results-count").text_content().unwrap(),
        "3 услуги"
    );
}

#[wasm_bindgen_test]
async fn a_category_link_filters_the_list() {
    let mounted = mount_catalogue(Lang::En);
    let root = mounted.root.clone();
    settle().await;
    let teachers = root.query_selector_all(".categories a").unwrap();
    let link = (0..teachers.length())
        .map(|i| teachers.item(i).unwrap().unchecked_into::<HtmlElement>())
        .find(|a| a.text_content().unwrap() == "Teachers")
        .expect("a Teachers category link");
    link.click();
    settle().await;
    assert_eq!(count(&root, ".service-card"), 1);
    assert_eq!(link.get_attribute("aria-current").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
async fn a_service_page_says_what_the_regulation_does_not_state() {
    let mut def = enrolment();
    def.fee = Stated::NotInSeed;
    let mounted = mount(move || {
        provide_i18n(Lang::En);
        view! { <Router><ServiceDetail definition=def.clone()/></Router> }
    });
    let root = mounted.root.clone();
    settle().await;
    let page = text(&root);
    assert!(page.contains("School enrolment, including first grade"));
    assert!(
        page.contains("Not stated in the regulation"),
        "the unstated fee is named as such"
    );
    assert!(page.contains("5 working days"));
    assert!(page.contains("Enrolment in first grade: 1 June to 30 August"));
    assert!(page.contains("General knowledge, not from the regulation"));
    assert_eq!(
        query(&root, "a.button--start")
            .get_attribute("href")
            .as_deref(),
        Some("/services/school-enrollment/apply")
    );
    assert_eq!(count(&root, "h1"), 1, "one main heading");
}

#[wasm_bindgen_test]
async fn a_service_page_follows_a_language_switch() {
    clear_remembered_language();
    let def = enrolment();
    let mounted = mount(move || {
        provide_i18n(Lang::En);
        view! {
            <Router>
                <LanguageSwitcher/>
                <ServiceDetail definition=def.clone()/>
            </Router>
        }
    });
    let root = mounted.root.clone();
    settle().await;
    query(&root, "a[hreflang=kk]").click();
    settle().await;
    let page = text(&root);
    assert!(
        page.contains("Мектепке қабылдау, оның ішінде бірінші сыныпқа"),
        "{page}"
    );
    assert!(page.contains("5 жұмыс күні"));
    assert!(!page.contains("working days"));
}

#[wasm_bindgen_test]
async fn an_in_person_service_says_where_to_go_instead_of_offering_to_apply() {
    let def = definition(include_str!("../services/teacher-attestation-intake.json"));
    let mounted = mount(move || {
        provide_i18n(Lang::En);
        view! { <Router><ServiceDetail definition=def.clone()/></Router> }
    });
    let root = mounted.root.clone();
    settle().await;
    assert_eq!(count(&root, "a.button--start"), 0);
    assert!(text(&root).contains("How to apply in person"));
    assert!(text(&root).contains("The regulation does not state a term."));
}

#[wasm_bindgen_test]
fn after_signing_in_only_pages_of_this_site_are_followed() {
    use portal_web::session::safe_next;
    assert_eq!(
        safe_next(Some("/cabinet/profile?tab=1".into())).as_deref(),
        Some("/cabinet/profile?tab=1")
    );
    for hostile in [
        "//evil.example/phish",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login?next=/cabinet",
    ] {
        assert_eq!(safe_next(Some(hostile.into())), None, "{hostile}");
    }
    assert_eq!(safe_next(None), None);
}

#[wasm_bindgen_test]
fn the_sign_in_page_never_wraps_itself() {
    use portal_web::session::login_url;
    assert_eq!(
        login_url("/cabinet/profile", true),
        "/login?expired=1&next=%2Fcabinet%2Fprofile"
    );
    assert_eq!(login_url("/cabinet", false), "/login?next=%2Fcabinet");
    assert_eq!(
        login_url("/login?expired=1&next=%2Fcabinet", true),
        "/login?expired=1&next=%2Fcabinet"
    );
    assert_eq!(login_url("/", false), "/login");
}

mod applying {
    use super::*;
    use portal_domain::application::{ApplicationView, Status, UploadLimits};
    use portal_domain::form::{Answer, FieldKind};
    use portal_domain::organisation::Organisation;
    use portal_web::apply::{Binding, Draft, FieldControl};
    use portal_web::forms::FormErrors;

    fn guardianship() -> ServiceDefinition {
        definition(include_str!("../services/guardianship-establishment.json"))
    }

    fn draft_of(service: ServiceDefinition) -> Draft {
        let view = ApplicationView {
            id: "0123456789abcdef0123456789abcdef".into(),
            service_id: service.id.clone(),
            status: Status::Draft,
            version: 1,
            answers: Default::default(),
            attachments: vec![],
            limits: UploadLimits {
                max_file_bytes: 20 << 20,
                max_application_bytes: 100 << 20,
            },
            created_at: 0,
            updated_at: 0,
            submission: None,
            scheduled_for: None,
            first_grade_school: None,
        };
        Draft::new(view, service)
    }

    fn input(root: &HtmlElement, selector: &str, value: &str) {
        let el = query(root, selector).unchecked_into::<HtmlInputElement>();
        el.set_value(value);
        el.dispatch_event(&Event::new("input").unwrap()).unwrap();
    }

    /// The field `id` of the service's form, mounted alone, bound to a fresh draft.
    fn mount_field(
        service: ServiceDefinition,
        id: &'static str,
    ) -> (Mounted, StoredValue<Option<Draft>>) {
        mount_field_with(service, id, Vec::new())
    }

    /// [`mount_field`] with these organisations to choose from.
    fn mount_field_with(
        service: ServiceDefinition,
        id: &'static str,
        providers: Vec<Organisation>,
    ) -> (Mounted, StoredValue<Option<Draft>>) {
        let field = service
            .form
            .as_ref()
            .unwrap()
            .fields()
            .into_iter()
            .find(|f| f.id == id)
            .unwrap();
        let slot = StoredValue::new(None);
        let mounted = mount(move || {
            provide_i18n(Lang::En);
            let draft = draft_of(service);
            slot.set_value(Some(draft));
            let errors = FormErrors::new("f");
            let binding = Binding::top_level(draft, id.to_string());
            view! { <FieldControl draft=draft field=field path=id.to_string() binding=binding errors=errors providers=Signal::stored(providers)/> }
        });
        (mounted, slot)
    }

    /// A school as `/api/providers` lists it, with the demo categories of `categories`.
    fn school(id: &str, categories: serde_json::Value) -> Organisation {
        let t = |s: &str| serde_json::json!({"kk": s, "ru": s, "en": s});
        serde_json::from_value(serde_json::json!({
            "id": id, "kind": "school", "name": t(&format!("School {id}")), "address": t("Almaty"),
            "phone": "+7 727 300 00 00", "hours": {"days": [null, null, null, null, null, null, null]},
            "provider": true, "pickup_place": true, "territory": [], "slot_capacity": 1,
            "first_grade_places": 100, "first_grade_priorities": categories, "demo": true
        }))
        .unwrap()
    }

    #[wasm_bindgen_test]
    async fn the_priority_categories_are_the_chosen_schools_with_their_proof() {
        window().local_storage().unwrap().unwrap().clear().unwrap();
        let t = |s: &str| serde_json::json!({"kk": s, "ru": s, "en": s});
        let schools = vec![
            school(
                "with-categories",
                serde_json::json!([
                    {"id": "special-needs", "name": t("Special educational needs"), "proof": t("The PMPK conclusion")},
                    {"id": "sibling", "name": t("A sibling studies here"), "proof": t("A certificate from the school")},
                ]),
            ),
            school("without-categories", serde_json::json!([])),
        ];
        let (mounted, draft) = mount_field_with(enrolment(), "priority", schools);
        let draft = draft.get_value().unwrap();
        settle().await;
        let root = &mounted.root;
        assert!(
            text(root).contains("Choose the school first"),
            "{}",
            text(root)
        );
        draft.set_answer("school", Some(Answer::Text("with-categories".into())));
        settle().await;
        assert_eq!(
            count(root, "input[type=radio]"),
            3,
            "two categories and none"
        );
        assert!(
            text(root).contains("Proof: The PMPK conclusion"),
            "{}",
            text(root)
        );
        let sibling = query(root, "#f-priority-sibling");
        assert_eq!(
            sibling.get_attribute("aria-describedby").as_deref(),
            Some("f-priority-sibling-proof"),
            "the proof is read with its choice"
        );
        sibling.click();
        settle().await;
        assert_eq!(
            draft.answers.get_untracked().get("priority"),
            Some(&Answer::Text("sibling".into()))
        );
        // A school without categories: nothing to choose, the answer is "none".
        draft.set_answer("school", Some(Answer::Text("without-categories".into())));
        settle().await;
        assert_eq!(count(root, "input[type=radio]"), 0);
        assert!(
            text(root).contains("has no priority categories"),
            "{}",
            text(root)
        );
        assert_eq!(
            draft.answers.get_untracked().get("priority"),
            Some(&Answer::Text("none".into()))
        );
        window().local_storage().unwrap().unwrap().clear().unwrap();
    }

    #[wasm_bindgen_test]
    async fn a_repeatable_group_adds_fills_and_removes_items() {
        window().local_storage().unwrap().unwrap().clear().unwrap();
        let (mounted, draft) = mount_field(guardianship(), "children");
        let draft = draft.get_value().unwrap();
        settle().await;
        let root = &mounted.root;
        assert!(matches!(
            guardianship()
                .form
                .unwrap()
                .fields()
                .iter()
                .find(|f| f.id == "children")
                .unwrap()
                .kind,
            FieldKind::Group { .. }
        ));
        assert_eq!(count(root, "fieldset.group-item"), 0);
        query(root, "button.button--secondary").click();
        settle().await;
        assert_eq!(count(root, "fieldset.group-item"), 1);
        assert!(text(root).contains("Child 1"), "{}", text(root));
        input(root, "#f-children-0--iin", "190520688017");
        input(root, "#f-children-0--first_name", "Аружан");
        settle().await;
        let answers = draft.answers.get_untracked();
        let Some(Answer::Items(items)) = answers.get("children") else {
            panic!("{answers:?}")
        };
        assert_eq!(
            items[0].get("iin"),
            Some(&Answer::Text("190520688017".into()))
        );
        assert_eq!(
            items[0].get("first_name"),
            Some(&Answer::Text("Аружан".into()))
        );
        // Kept in this browser at once, before any save reaches the server.
        let local = window()
            .local_storage()
            .unwrap()
            .unwrap()
            .get_item("portal.draft.0123456789abcdef0123456789abcdef")
            .unwrap()
            .unwrap();
        assert!(local.contains("Аружан"), "{local}");

        // A second child, then the first removed: the second moves up.
        let add = root.query_selector_all("button.button--secondary").unwrap();
        add.item(add.length() - 1)
            .unwrap()
            .unchecked_into::<HtmlElement>()
            .click();
        settle().await;
        input(root, "#f-children-1--first_name", "Нұрсұлтан");
        settle().await;
        query(root, "fieldset.group-item button").click();
        settle().await;
        assert_eq!(count(root, "fieldset.group-item"), 1);
        let Some(Answer::Items(items)) = draft.answers.get_untracked().get("children").cloned()
        else {
            panic!()
        };
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].get("first_name"),
            Some(&Answer::Text("Нұрсұлтан".into()))
        );
        window().local_storage().unwrap().unwrap().clear().unwrap();
    }

    #[wasm_bindgen_test]
    async fn an_address_is_one_answer_of_four_parts() {
        window().local_storage().unwrap().unwrap().clear().unwrap();
        let (mounted, draft) = mount_field(enrolment(), "residence");
        let draft = draft.get_value().unwrap();
        settle().await;
        let root = &mounted.root;
        assert_eq!(
            query(root, "fieldset legend").text_content().unwrap(),
            "The child's home address"
        );
        input(root, "#f-residence-locality", "Алматы");
        input(root, "#f-residence-house", "10");
        settle().await;
        let Some(Answer::Address(a)) = draft.answers.get_untracked().get("residence").cloned()
        else {
            panic!()
        };
        assert_eq!(
            (a.locality.as_str(), a.street.as_str(), a.house.as_str()),
            ("Алматы", "", "10")
        );
        input(root, "#f-residence-locality", "");
        input(root, "#f-residence-house", "");
        settle().await;
        assert!(
            draft.answers.get_untracked().get("residence").is_none(),
            "an empty address is no answer"
        );
        window().local_storage().unwrap().unwrap().clear().unwrap();
    }
}

// NCALayer's protocol, as the client reads and writes it.
mod ncalayer_protocol {
    use portal_i18n::Lang;
    use portal_web::ncalayer::*;
    use serde_json::{Value, json};
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn frames_are_read_as_ncalayer_sends_them() {
        assert_eq!(read("--heartbeat--"), Reply::Ignore);
        assert_eq!(read(r#"{"result":{"version":"1.4"}}"#), Reply::Ignore);
        assert_eq!(
            read(r#"{"status":true,"body":{"result":["MIIB"]}}"#),
            Reply::Signed("MIIB".into())
        );
        assert_eq!(
            read(r#"{"status":true,"body":{"result":"MIIB"}}"#),
            Reply::Signed("MIIB".into())
        );
        assert_eq!(read(r#"{"status":true,"body":{}}"#), Reply::Cancelled);
        assert_eq!(
            read(
                r#"{"status":false,"code":"MODULE_NOT_FOUND","details":"kz.gov.pki.knca.basics"}"#
            ),
            Reply::BasicsFailed("kz.gov.pki.knca.basics".into())
        );
        assert_eq!(
            read(r#"{"code":"200","responseObject":"MIIC"}"#),
            Reply::Signed("MIIC".into())
        );
        assert_eq!(
            read(r#"{"code":"500","message":"action.canceled"}"#),
            Reply::Cancelled
        );
        assert_eq!(
            read(r#"{"code":"500","message":"no keys"}"#),
            Reply::Failed("no keys".into())
        );
    }

    #[wasm_bindgen_test]
    fn the_basics_request_is_a_detached_cms_for_the_applicants_iin() {
        let request: Value = serde_json::from_str(&basics_request(
            "ZGF0YQ==",
            Some("880314412019"),
            KeyType::Signing,
            Lang::Kk,
        ))
        .unwrap();
        assert_eq!(request["module"], "kz.gov.pki.knca.basics");
        assert_eq!(request["args"]["format"], "cms");
        assert_eq!(request["args"]["signingParams"]["encapsulate"], false);
        assert_eq!(request["args"]["signerParams"]["iin"], "880314412019");
        assert_eq!(request["args"]["data"], "ZGF0YQ==");
        let fallback: Value =
            serde_json::from_str(&common_utils_request("ZGF0YQ==", KeyType::Authentication))
                .unwrap();
        assert_eq!(
            fallback["args"],
            json!(["PKCS12", "AUTHENTICATION", "ZGF0YQ==", false])
        );
    }
}
