//! The database: SQLite embedded by default, PostgreSQL when `PORTAL_DATABASE_URL` says
//! `postgres://…` (several server instances sharing one database).
//!
//! Queries are written once in SQL that both engines accept (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`, 64-bit integers for times, text for ids, `TRUE`/`FALSE`) and run through
//! [`on_db!`] and [`on_conn!`], which compile the same statement for whichever engine is in use.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{PgConnection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// The database: a pool for reads and ordinary writes, and a [`Writer`] that commits the
/// busiest writes in groups (on SQLite, which has one writer at a time, and on PostgreSQL,
/// where a durable commit per request would serialise a storm on the rows it locks).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Writer, std::sync::Arc<Readers>),
    Postgres(PgPool, Writer),
}

/// Runs the same statement on whichever pool `db` holds: `on_db!(db, |pool| query.execute(pool))`.
/// The body is compiled once per engine.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, ..) => $body,
            $crate::db::Db::Postgres($pool, _) => $body,
        }
    };
}

/// A connection of either engine, inside a caller's transaction.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

/// Runs a read that every request makes (`on_read!(db, |c| query.fetch_optional(c))`): on
/// SQLite through [`Readers`], else like [`on_db!`].
#[macro_export]
macro_rules! on_read {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(_, _, readers) => {
                let mut reader = readers.get().await;
                let $c = &mut *reader;
                $body
            }
            $crate::db::Db::Postgres($c, _) => $body,
        }
    };
}

/// Read connections to the SQLite file handed out without sqlx's pool, whose every release
/// pings the connection: a second round trip to the connection's thread after each query,
/// which on opening day cost a tenth of the server's time. A read dropped halfway leaves
/// nothing to clean up: the connection's thread finishes or abandons it, and the next
/// statement resets its own.
pub struct Readers {
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
    permits: tokio::sync::Semaphore,
}

/// How many read connections: SQLite reads in parallel, two cores do not need more.
const READERS: usize = 4;

impl Readers {
    async fn open(options: &SqliteConnectOptions) -> anyhow::Result<Readers> {
        use sqlx::ConnectOptions;
        let mut idle = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            idle.push(options.connect().await?);
        }
        Ok(Readers {
            idle: std::sync::Mutex::new(idle),
            permits: tokio::sync::Semaphore::new(READERS),
        })
    }

    /// An idle connection, waiting for one if all are busy.
    pub async fn get(&self) -> Reader<'_> {
        let permit = self.permits.acquire().await.expect("never closed");
        let connection = self
            .idle
            .lock()
            .expect("not poisoned")
            .pop()
            .expect("a permit stands for an idle connection");
        Reader {
            connection: Some(connection),
            readers: self,
            _permit: permit,
        }
    }
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readers")
    }
}

/// A read connection lent by [`Readers`]; given back when dropped.
pub struct Reader<'r> {
    connection: Option<SqliteConnection>,
    readers: &'r Readers,
    // Released after `drop` has put the connection back.
    _permit: tokio::sync::SemaphorePermit<'r>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.connection.as_ref().expect("lent until dropped")
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.connection.as_mut().expect("lent until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            self.readers
                .idle
                .lock()
                .expect("not poisoned")
                .push(connection);
        }
    }
}

/// Runs the same statement on a [`Conn`]: `on_conn!(&mut conn, |c| query.execute(c))`.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(inner) => {
                let $c = &mut **inner;
                $body
            }
            $crate::db::Conn::Postgres(inner) => {
                let $c = &mut **inner;
                $body
            }
        }
    };
}

/// A write whose changes are kept or undone as one: a savepoint of the [`Writer`]'s group
/// transaction. It answers what it found and whether to keep its changes (`false` undoes
/// them, leaving any other work alone).
pub type WriteWork<T> =
    Box<dyn for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, anyhow::Result<(T, bool)>> + Send>;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, (bool, Reply)> + Send>;

/// The writer's own connection, outside the pool; on PostgreSQL replaced from the pool when
/// it breaks (the server restarted, the network dropped it).
enum WriterConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection, PgPool),
}

impl WriterConnection {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            WriterConnection::Sqlite(c) => Conn::Sqlite(c),
            WriterConnection::Postgres(c, _) => Conn::Postgres(c),
        }
    }

    /// After a failure: a fresh connection on PostgreSQL (SQLite's file does not go away).
    async fn renew(&mut self) {
        if let WriterConnection::Postgres(connection, pool) = self {
            match pool.acquire().await {
                Ok(fresh) => *connection = fresh.detach(),
                Err(e) => tracing::error!(error = %e, "cannot reconnect the database writer"),
            }
        }
    }
}

/// Group commit: one connection runs every queued piece of work in one transaction, a
/// savepoint each, and answers them all after a single durable commit. Under a storm this
/// turns thousands of fsyncs and lock waits per second into a few dozen, and a request is
/// still answered only once its rows are on disk.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// A place in line for the [`Writer`]: work written with a turn is queued only after the work
/// of the turn before it, so callers working concurrently still commit in a fixed order (the
/// portal's sending at the first-grade opening keeps the order of scheduling, while the
/// checks before each write run side by side). A turn dropped unused passes the line on.
pub struct Turn {
    previous: Option<oneshot::Receiver<()>>,
    mine: Option<oneshot::Sender<()>>,
}

impl Turn {
    /// `count` turns, in line.
    pub fn line(count: usize) -> Vec<Turn> {
        let mut turns = Vec::with_capacity(count);
        let mut previous = None;
        for _ in 0..count {
            let (mine, next) = oneshot::channel();
            turns.push(Turn {
                previous: previous.take(),
                mine: Some(mine),
            });
            previous = Some(next);
        }
        turns
    }

    /// Until the turn before has queued its work (or given up its turn).
    async fn wait(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = previous.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some(mine) = self.mine.take() else { return };
        match self.previous.take() {
            None => {
                let _ = mine.send(());
            }
            // Given up before its turn came: the next waits for the one before this.
            Some(previous) => {
                tokio::spawn(async move {
                    let _ = previous.await;
                    let _ = mine.send(());
                });
            }
        }
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Turn")
    }
}

/// The most pieces of work one transaction takes: bounds how long the first one waits.
const GROUP_LIMIT: usize = 256;

/// A statement of the writer's own (boxed: it keeps the spawned loop's future `Send`).
fn exec<'c>(
    connection: &'c mut WriterConnection,
    sql: &'static str,
) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move {
        use sqlx::Executor;
        // Without arguments, so that two statements go in one round trip (PostgreSQL's simple
        // query protocol; SQLite runs each statement of the text).
        match connection {
            WriterConnection::Sqlite(c) => c.execute(sql).await.map(drop),
            WriterConnection::Postgres(c, _) => c.execute(sql).await.map(drop),
        }
    })
}

impl Writer {
    fn start(connection: WriterConnection) -> Writer {
        let (jobs, queue) = mpsc::channel(4 * GROUP_LIMIT);
        tokio::spawn(Writer::run(connection, queue));
        Writer { jobs }
    }

    async fn run(mut connection: WriterConnection, mut queue: mpsc::Receiver<Job>) {
        // Each statement is a round trip to the connection's thread (or server), so the
        // savepoints ride with the statement before them.
        let begin = match connection {
            // Take the write lock now, not at the first write (which could then fail busy).
            WriterConnection::Sqlite(_) => "BEGIN IMMEDIATE; SAVEPOINT work",
            WriterConnection::Postgres(..) => "BEGIN; SAVEPOINT work",
        };
        let mut group = Vec::with_capacity(GROUP_LIMIT);
        while queue.recv_many(&mut group, GROUP_LIMIT).await > 0 {
            let mut replies = Vec::with_capacity(group.len());
            if let Err(e) = exec(&mut connection, begin).await {
                // Nothing ran; dropping the work tells each caller so.
                tracing::error!(error = %e, "cannot begin a group of writes");
                let _ = exec(&mut connection, "ROLLBACK").await;
                group.clear();
                connection.renew().await;
                continue;
            }
            let mut saved = Ok(());
            for (i, job) in group.drain(..).enumerate() {
                if i > 0 {
                    saved = exec(&mut connection, "RELEASE work; SAVEPOINT work").await;
                }
                let (keep, reply) = job(connection.conn()).await;
                if !keep || saved.is_err() {
                    if let Err(e) = exec(&mut connection, "ROLLBACK TO work").await {
                        tracing::error!(error = %e, "cannot roll back a savepoint");
                    }
                }
                replies.push(reply);
            }
            let committed = exec(&mut connection, "RELEASE work; COMMIT")
                .await
                .map_err(|e| e.to_string());
            if committed.is_err() {
                if exec(&mut connection, "ROLLBACK").await.is_err() {
                    connection.renew().await;
                }
            }
            for reply in replies {
                reply(committed.clone());
            }
        }
    }

    /// Runs `work` in the next group (queued after `turn`'s predecessor, if any) and answers
    /// once the group is committed (or failed).
    async fn write<T: Send + 'static>(
        &self,
        work: WriteWork<T>,
        mut turn: Option<Turn>,
    ) -> anyhow::Result<T> {
        let (answer, answered) = oneshot::channel::<anyhow::Result<T>>();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = work(connection).await;
                let keep = matches!(result, Ok((_, true)));
                let reply: Reply = Box::new(move |committed| {
                    let outcome = match (result, committed) {
                        (Ok((value, _)), Ok(())) => Ok(value),
                        (Ok(_), Err(e)) => Err(anyhow::anyhow!("the group commit failed: {e}")),
                        (Err(e), _) => Err(e),
                    };
                    let _ = answer.send(outcome);
                });
                (keep, reply)
            })
        });
        if let Some(turn) = &mut turn {
            turn.wait().await;
        }
        self.jobs
            .send(job)
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        // Queued: the next in line may queue its work.
        drop(turn);
        answered
            .await
            .map_err(|_| anyhow::anyhow!("the database writer dropped the work"))?
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            return Db::connect_postgres(url).await;
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| "PORTAL_DATABASE_URL is not a valid sqlite: URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a power cut; group commits keep it fast.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            // Reads from memory-mapped pages and a larger page cache per connection rather
            // than a `pread` and a copy per page: the opening-day storm is mostly reads.
            .pragma("mmap_size", "1073741824")
            .pragma("cache_size", "-16384")
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("cannot create the database directory {}", parent.display())
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection is checked by using it; a ping before every query costs a round trip.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open the SQLite database {url}"))?;
        // The writer's own connection, outside the pool.
        let connection = pool.acquire().await?.detach();
        let readers = Readers::open(&options).await?;
        Ok(Db::Sqlite(
            pool.clone(),
            Writer::start(WriterConnection::Sqlite(connection)),
            std::sync::Arc::new(readers),
        ))
    }

    async fn connect_postgres(url: &str) -> anyhow::Result<Db> {
        let options = PgConnectOptions::from_str(url)
            .with_context(|| "PORTAL_DATABASE_URL is not a valid postgres: URL")?;
        let pool = PgPoolOptions::new()
            // Per instance: several instances share the server's connection limit.
            .max_connections(16)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .context("cannot connect to the PostgreSQL database")?;
        let connection = pool.acquire().await?.detach();
        let writer = Writer::start(WriterConnection::Postgres(connection, pool.clone()));
        Ok(Db::Postgres(pool, writer))
    }

    /// Runs `work` through the group-committing [`Writer`]; answered once its changes are
    /// committed.
    pub async fn write<T: Send + 'static>(&self, work: WriteWork<T>) -> anyhow::Result<T> {
        self.write_in_turn(work, None).await
    }

    /// [`Db::write`], the work queued only after that of the turn before `turn`.
    pub async fn write_in_turn<T: Send + 'static>(
        &self,
        work: WriteWork<T>,
        turn: Option<Turn>,
    ) -> anyhow::Result<T> {
        match self {
            Db::Sqlite(_, writer, _) | Db::Postgres(_, writer) => writer.write(work, turn).await,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool, ..) => sqlx::migrate!("../../migrations/sqlite")
                .run(pool)
                .await
                .context("migrating the database")?,
            Db::Postgres(pool, _) => sqlx::migrate!("../../migrations/postgres")
                .run(pool)
                .await
                .context("migrating the database")?,
        }
        Ok(())
    }

    /// Runs background `work` (a job named `job`) unless another instance is running the same
    /// job right now; `None` then. Several instances on PostgreSQL each run every job's loop,
    /// and a transaction-scoped advisory lock lets one of them at a time through (released at
    /// the end, or if the instance dies). A SQLite database has one instance.
    pub async fn exclusively<T>(
        &self,
        job: &str,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<Option<T>> {
        let Db::Postgres(pool, _) = self else {
            return work.await.map(Some);
        };
        let key = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(job.as_bytes());
            i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
        };
        let mut lock = pool.begin().await?;
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(key)
            .fetch_one(&mut *lock)
            .await?;
        if !mine {
            return Ok(None);
        }
        let done = work.await;
        lock.commit().await?;
        done.map(Some)
    }

    /// Which engine holds the data: `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(..) => "postgres",
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn is_reachable(&self) -> bool {
        on_db!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .is_ok())
    }
}

/// Milliseconds since the Unix epoch: how the database stores instants on every engine.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// `bytes` random bytes from the operating system, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random identifier for a row (128 bits).
pub fn new_id() -> String {
    random_hex(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count(db: &Db) -> i64 {
        on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(pool)
            .await
            .unwrap())
    }

    fn insert(value: i64, keep: bool) -> WriteWork<i64> {
        Box::new(move |mut conn| {
            Box::pin(async move {
                on_conn!(&mut conn, |c| sqlx::query("INSERT INTO t (v) VALUES ($1)")
                    .bind(value)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))?;
                Ok((value, keep))
            })
        })
    }

    /// A new SQLite database (kept while the directory lives) with table `t` as `columns`.
    async fn database_with_t(columns: &str) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let create = format!("CREATE TABLE t ({columns})");
        on_db!(&db, |pool| sqlx::query(&create)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .unwrap());
        (dir, db)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_keeps_each_piece_of_work_apart() {
        let (_dir, db) = database_with_t("v INTEGER PRIMARY KEY").await;
        // Many concurrent writers: each is answered after its group is committed and sees its
        // own rows in the database; work that asks to be undone, or fails, leaves the others.
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move { db.write(insert(i, i % 3 != 0)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(count(&db).await, 200, "the undone third rolled back alone");
        let duplicate = db.write(insert(1, true)).await;
        assert!(duplicate.is_err(), "a failing statement is reported");
        assert_eq!(db.write(insert(1_000, true)).await.unwrap(), 1_000);
        assert_eq!(count(&db).await, 201, "the writer goes on after a failure");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_written_in_turn_is_committed_in_line_order_whoever_is_ready_first() {
        let (_dir, db) = database_with_t("v INTEGER PRIMARY KEY, written INTEGER NOT NULL").await;
        let written = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        // Later turns get ready sooner; every seventh gives its turn up without writing.
        let tasks: Vec<_> = Turn::line(60)
            .into_iter()
            .enumerate()
            .map(|(i, turn)| {
                let (db, written) = (db.clone(), written.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(((60 - i) % 13) as u64 * 3)).await;
                    if i % 7 == 3 {
                        drop(turn);
                        return;
                    }
                    let work: WriteWork<()> = Box::new(move |mut conn| {
                        Box::pin(async move {
                            let order = written.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            on_conn!(&mut conn, |c| sqlx::query(
                                "INSERT INTO t (v, written) VALUES ($1, $2)"
                            )
                            .bind(i as i64)
                            .bind(order)
                            .execute(c)
                            .await
                            .map(|r| r.rows_affected()))?;
                            Ok(((), true))
                        })
                    });
                    db.write_in_turn(work, Some(turn)).await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let rows: Vec<(i64,)> = on_db!(&db, |pool| sqlx::query_as(
            "SELECT v FROM t ORDER BY written"
        )
        .fetch_all(pool)
        .await
        .unwrap());
        let expected: Vec<i64> = (0..60).filter(|i| i % 7 != 3).collect();
        assert_eq!(rows.into_iter().map(|r| r.0).collect::<Vec<_>>(), expected);
    }
}
