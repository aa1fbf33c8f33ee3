//! The provider's electronic documents: the result of the service, a motivated refusal, or a
//! refusal to accept. Rendered as a PDF in the applicant's language and signed on the server
//! with the provider organisation's key (CMS, detached), so it verifies like any signed document.

use portal_domain::eds::{KeyFile, KeyPurpose};
use portal_domain::organisation::Organisation;
use portal_domain::workflow::{Decision, ResultView};
use portal_i18n::{Lang, Msg, t};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::applications::store::ApplicationRow;
use crate::db::{Db, now_millis, random_hex};
use crate::on_db;
use crate::pdf::{LEFT, Page, WIDTH, local_date_time};
use crate::signing::pki::{Person, now_seconds};

/// A signed document ready to be stored with the move that issues it.
pub struct Document {
    pub decision: Decision,
    pub number: String,
    pub lang: Lang,
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
    pub signer: String,
    pub verification_code: String,
}

pub fn decision_code(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "approved",
        Decision::Refused => "refused",
        Decision::RefusedToAccept => "refused_to_accept",
    }
}

fn decision_parse(s: &str) -> Decision {
    match s {
        "refused" => Decision::Refused,
        "refused_to_accept" => Decision::RefusedToAccept,
        _ => Decision::Approved,
    }
}

/// What the document says besides its header.
pub struct Content<'a> {
    pub decision: Decision,
    /// The decision's text (approval) or the refusal's grounds and explanation, per language.
    pub text: &'a portal_domain::text::Text,
}

/// Renders and signs the document for `row` with `provider`'s key.
pub async fn issue(
    state: &AppState,
    row: &ApplicationRow,
    provider: &Organisation,
    content: Content<'_>,
) -> anyhow::Result<Document> {
    let lang = row
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    let number = format!("{}-R", row.number.as_deref().unwrap_or(&row.id));
    let verification_code = random_hex(16);
    let url = format!("{}/verify/{verification_code}", state.config.public_url);
    let user = crate::accounts::users::by_id(&state.db, &row.user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the applicant vanished"))?;
    let applicant = user.full_name();
    let service = state
        .catalogue
        .get(&row.service_id)
        .map(|s| s.definition.name.get(lang).to_string())
        .unwrap_or_default();
    let now = now_millis();
    let title = match content.decision {
        Decision::Approved => Msg::ResultTitleApproved,
        Decision::Refused => Msg::ResultTitleRefused,
        Decision::RefusedToAccept => Msg::ResultTitleRefusedToAccept,
    };
    let key = provider_key(state, provider).await?;
    let signer = key.summary().holder.clone();
    let (doc, mut page) = Page::new(&format!("{} {number}", t(lang, title)));
    page.text(provider.name.get(lang), 10.0, true, LEFT, WIDTH);
    page.text(provider.address.get(lang), 9.0, false, LEFT, WIDTH);
    page.y -= 4.0;
    page.text(t(lang, title), 16.0, true, LEFT, WIDTH);
    page.y -= 3.0;
    page.field(t(lang, Msg::ResultNumber), &number);
    page.field(t(lang, Msg::ResultDate), &local_date_time(now));
    page.field(t(lang, Msg::ReceiptService), &service);
    page.field(
        t(lang, Msg::ReceiptApplicant),
        &format!("{applicant}, {} {}", t(lang, Msg::ReceiptIin), user.iin),
    );
    let submitted = row.submitted_at.map(local_date_time).unwrap_or_default();
    page.field(
        t(lang, Msg::ResultApplication),
        &crate::workflow::fill(
            lang,
            Msg::ResultApplicationValue,
            &[
                ("number", row.number.clone().unwrap_or_default()),
                ("date", submitted),
            ],
        ),
    );
    let label = match content.decision {
        Decision::Approved => Msg::ResultDecision,
        Decision::Refused | Decision::RefusedToAccept => Msg::ResultGrounds,
    };
    page.field(t(lang, label), content.text.get(lang));
    if content.decision != Decision::Approved {
        page.text(t(lang, Msg::ResultAppeal), 9.0, false, LEFT, WIDTH);
        page.y -= 2.5;
    }
    page.field(t(lang, Msg::ResultSignedBy), &signer);
    page.verification_qr(&url, t(lang, Msg::ResultVerify))?;
    let pdf = page.save(doc);
    let cms = key
        .sign_detached(&pdf, now / 1000)
        .map_err(|e| anyhow::anyhow!("cannot sign the result: {e}"))?;
    Ok(Document {
        decision: content.decision,
        number,
        lang,
        pdf,
        cms,
        signer,
        verification_code,
    })
}

/// The provider's key file, issued by the portal's test CA the first time it signs (demo).
async fn provider_key(state: &AppState, provider: &Organisation) -> anyhow::Result<KeyFile> {
    let stored: Option<(Vec<u8>, String)> = on_db!(&state.db, |pool| {
        sqlx::query_as("SELECT pkcs12, password FROM provider_keys WHERE organisation_id = $1")
            .bind(&provider.id)
            .fetch_optional(pool)
            .await
    })?;
    if let Some((p12, password)) = stored {
        return KeyFile::open(&p12, &password)
            .map_err(|e| anyhow::anyhow!("the stored provider key: {e:?}"));
    }
    // The organisation's business identification number stands where a person's IIN would.
    let digest = Sha256::digest(provider.id.as_bytes());
    let bin: String = digest
        .iter()
        .take(12)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    let person = Person {
        iin: &bin,
        last_name: provider.name.ru.as_str(),
        first_name: "",
    };
    let authority = &state.signing.authority;
    let issued = authority.issue(
        &person,
        KeyPurpose::Signing,
        now_seconds() - 3600,
        5 * 365,
        "http://localhost/pki/issuing.crl",
    )?;
    let password = random_hex(16);
    let p12 = authority.pkcs12(&issued, &password)?;
    on_db!(&state.db, |pool| {
        sqlx::query("INSERT INTO provider_keys (organisation_id, pkcs12, password, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (organisation_id) DO NOTHING")
            .bind(&provider.id)
            .bind(&p12)
            .bind(&password)
            .bind(now_millis())
            .execute(pool)
            .await.map(|r| r.rows_affected())
    })?;
    // Another request may have stored its key first: use whichever is stored.
    Box::pin(provider_key(state, provider)).await
}

pub async fn insert(
    conn: &mut crate::db::Conn<'_>,
    application_id: &str,
    d: &Document,
    now: i64,
) -> anyhow::Result<()> {
    crate::on_conn!(conn, |c| {
        sqlx::query(
        "INSERT INTO results (application_id, kind, number, lang, pdf, cms, signer, verification_code, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(application_id)
    .bind(decision_code(d.decision))
    .bind(&d.number)
    .bind(d.lang.code())
    .bind(&d.pdf)
    .bind(&d.cms)
    .bind(&d.signer)
    .bind(&d.verification_code)
    .bind(now)
    .execute(c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct ResultRow {
    pub application_id: String,
    pub kind: String,
    pub number: String,
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
    pub signer: String,
    pub verification_code: String,
    pub created_at: i64,
}

impl ResultRow {
    pub fn decision(&self) -> Decision {
        decision_parse(&self.kind)
    }
}

const COLUMNS: &str =
    "application_id, kind, number, pdf, cms, signer, verification_code, created_at";

pub async fn of(db: &Db, application_id: &str) -> anyhow::Result<Option<ResultRow>> {
    let sql = format!("SELECT {COLUMNS} FROM results WHERE application_id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(application_id)
        .fetch_optional(pool)
        .await)?)
}

pub async fn by_code(db: &Db, code: &str) -> anyhow::Result<Option<ResultRow>> {
    let sql = format!("SELECT {COLUMNS} FROM results WHERE verification_code = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(code)
        .fetch_optional(pool)
        .await)?)
}

pub async fn view(state: &AppState, application_id: &str) -> anyhow::Result<Option<ResultView>> {
    Ok(of(&state.db, application_id).await?.map(|r| ResultView {
        decision: r.decision(),
        verification_url: format!("{}/verify/{}", state.config.public_url, r.verification_code),
        number: r.number,
        created_at: r.created_at,
        signed_by: r.signer,
    }))
}

/// Whether the document's signature verifies now against the trusted CAs, as of its signing.
pub async fn signature_valid(state: &AppState, row: &ResultRow) -> bool {
    let expectation = crate::signing::verify::Expectation {
        content: &row.pdf,
        iin: None,
        purpose: KeyPurpose::Signing,
        at: row.created_at / 1000,
    };
    matches!(
        crate::signing::verify::verify(
            &row.cms,
            &expectation,
            &state.signing.trust,
            &state.signing.crls
        )
        .await,
        crate::signing::verify::Outcome::Valid(_)
    )
}
