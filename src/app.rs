//! The application: language, shared data, routes.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::hooks::use_query_map;
use leptos_router::path;
use portal_i18n::Lang;

use crate::accounts::{LoginPage, RegisterPage};
use crate::apply::{
    ApplicationOverview, ApplicationShell, ApplyStart, CheckAnswersPage, QuestionPage,
    VerifyFormPage, VerifyPage,
};
use crate::cabinet::{CabinetPage, Section};
use crate::catalogue::{CataloguePage, ServicePage, provide_catalogue};
use crate::components::Layout;
use crate::home::HomePage;
use crate::i18n::{initial_lang, provide_i18n, use_i18n};
use crate::not_found::NotFoundPage;
use crate::session::provide_session;

#[component]
pub fn App() -> impl IntoView {
    provide_i18n(initial_lang());
    provide_catalogue();
    view! {
        <Router>
            <LangFromUrl/>
            <Portal/>
        </Router>
    }
}

/// Everything inside the router: the session (it navigates) and the pages.
#[component]
fn Portal() -> impl IntoView {
    provide_session();
    crate::live::provide_live();
    view! {
        <Layout>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/") view=HomePage/>
                <Route path=path!("/services") view=CataloguePage/>
                <Route path=path!("/services/:id") view=ServicePage/>
                <Route path=path!("/services/:id/apply") view=ApplyStart/>
                <ParentRoute path=path!("/applications/:id") view=ApplicationShell>
                    <Route path=path!("") view=ApplicationOverview/>
                    <Route path=path!("pages/:page") view=QuestionPage/>
                    <Route path=path!("check") view=CheckAnswersPage/>
                </ParentRoute>
                <Route path=path!("/verify") view=VerifyFormPage/>
                <Route path=path!("/verify/:code") view=VerifyPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/register") view=RegisterPage/>
                <Route path=path!("/cabinet") view=|| view! { <CabinetPage section=Section::Applications/> }/>
                <Route path=path!("/cabinet/notifications") view=|| view! { <CabinetPage section=Section::Notifications/> }/>
                <Route path=path!("/cabinet/profile") view=|| view! { <CabinetPage section=Section::Profile/> }/>
            </Routes>
        </Layout>
    }
}

/// Applies `?lang=` whenever the URL carries it (a shared link, the back button).
#[component]
fn LangFromUrl() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(lang) = query.read().get("lang").and_then(|v| Lang::parse(&v)) {
            if lang != i18n.lang_untracked() {
                i18n.set(lang);
            }
        }
    });
}
