//! Server-side signature verification throughput: how many submitted signatures per second the
//! server can check (CMS parsing, the digest over the rebuilt document, the RSA signature, the
//! chain, and the revocation lookup in a cached CRL), on all cores, and the cost of one.
//! Figures, not assertions: `cargo bench -p portal-server --bench signatures` (or
//! `scripts/bench-signing`, which also measures signing in the browser).

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_domain::eds::{KeyFile, KeyPurpose, SigningDocument};
use portal_domain::form::Answers;
use portal_server::signing::crl::CrlSource;
use portal_server::signing::pki::{Authority, Person, now_seconds};
use portal_server::signing::verify::{Expectation, Outcome, TrustStore, verify};

const IIN: &str = "880314412019";

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::create(dir.path(), "Bench").unwrap();
        let person = Person {
            iin: IIN,
            last_name: "Сәрсенова",
            first_name: "Айгерім",
        };
        let issued = ca
            .issue(
                &person,
                KeyPurpose::Signing,
                now_seconds() - 3600,
                365,
                "http://127.0.0.1:1/unused.crl",
            )
            .unwrap();
        let key = KeyFile::open(&ca.pkcs12(&issued, "bench-pw").unwrap(), "bench-pw").unwrap();
        // A CRL of a realistic size: 10,000 revoked serials, served over HTTP once and cached.
        let revoked: Vec<(Vec<u8>, i64)> = (0u32..10_000)
            .map(|i| {
                (
                    (i + 1_000_000).to_be_bytes().to_vec(),
                    now_seconds() - 86_400,
                )
            })
            .collect();
        let crl = ca
            .crl(&revoked, 1, now_seconds() - 60, Duration::from_secs(3600))
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/issuing.crl",
            axum::routing::get(move || async move { crl.clone() }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let crls = Arc::new(CrlSource::new(Some(format!("http://{addr}/issuing.crl"))));
        let trust = Arc::new(TrustStore::new(vec![ca.root.clone(), ca.issuing.clone()]).unwrap());

        let mut answers = Answers::new();
        for i in 0..20 {
            answers.insert(
                format!("field_{i}"),
                portal_domain::form::Answer::Text("Тимирязев көшесі, 10".repeat(2)),
            );
        }
        let document = Arc::new(
            SigningDocument::new(
                "app-1",
                "school-enrollment",
                IIN,
                None,
                answers,
                vec![],
                "nonce",
                "2026-06-01T09:30:00Z",
            )
            .canonical_bytes(),
        );
        let started = Instant::now();
        let cms = Arc::new(key.sign_detached(&document, now_seconds()).unwrap());
        println!(
            "signing one application (RSA-2048, SHA-256, CAdES-BES), native: {:.2} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );

        let check = {
            let (crls, trust, document, cms) =
                (crls.clone(), trust.clone(), document.clone(), cms.clone());
            move || {
                let (crls, trust, document, cms) =
                    (crls.clone(), trust.clone(), document.clone(), cms.clone());
                async move {
                    let expectation = Expectation {
                        content: &document,
                        iin: Some(IIN),
                        purpose: KeyPurpose::Signing,
                        at: now_seconds(),
                    };
                    matches!(
                        verify(&cms, &expectation, &trust, &crls).await,
                        Outcome::Valid(_)
                    )
                }
            }
        };
        let first = Instant::now();
        assert!(check().await, "the benchmark's signature must verify");
        println!(
            "first verification (fetches and checks the CRL of 10,000 entries): {:.1} ms",
            first.elapsed().as_secs_f64() * 1000.0
        );

        let one = Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            check().await;
        }
        println!(
            "one verification, one core: {:.3} ms",
            one.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
        );

        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let check = check.clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        // Verification is CPU work: each worker runs it on its own thread.
                        let ok = tokio::task::block_in_place(|| {
                            tokio::runtime::Handle::current().block_on(check())
                        });
                        assert!(ok);
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "verifications per second, {workers} threads: {:.0} ({total} in {elapsed:.1} s)",
            total as f64 / elapsed
        );
    });
}
