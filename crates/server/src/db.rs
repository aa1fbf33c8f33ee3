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

impl Conn<'_> {
    /// The same connection, lent again for a shorter while.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
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

/// Read connections to the SQLite file for the reads every request makes ([`Db::read`]),
/// used on the request's own thread: through sqlx each read is a round trip to the
/// connection's thread (two context switches, and on opening day a fifth of the server's
/// time). A read takes microseconds from memory-mapped pages, and WAL readers do not wait for
/// the writer.
pub struct Readers {
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    permits: tokio::sync::Semaphore,
}

/// Prepared statements kept per rusqlite connection: more than the distinct statements of
/// the busiest requests together (rusqlite keeps 16), so none is parsed again under load.
const STATEMENT_CACHE: usize = 128;

/// How many read connections: two cores do not run more reads at once.
const READERS: usize = 4;

impl Readers {
    fn open(options: &SqliteConnectOptions) -> anyhow::Result<Readers> {
        use rusqlite::OpenFlags;
        let mut idle = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = rusqlite::Connection::open_with_flags(
                options.get_filename(),
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(Duration::from_secs(10))?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.execute_batch(
                "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -16384; PRAGMA foreign_keys = ON;
                 PRAGMA temp_store = MEMORY",
            )?;
            idle.push(c);
        }
        Ok(Readers {
            idle: std::sync::Mutex::new(idle),
            permits: tokio::sync::Semaphore::new(READERS),
        })
    }

    /// Runs `read` on an idle connection, waiting for one if all are busy.
    async fn with<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let connection = self
            .idle
            .lock()
            .expect("not poisoned")
            .pop()
            .expect("a permit stands for an idle connection");
        let result = read(&connection);
        self.idle.lock().expect("not poisoned").push(connection);
        result
    }
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readers")
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

/// A value bound to a statement run through a [`Tx`]: typed also when null, as PostgreSQL
/// wants.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Blob(Option<&'a [u8]>),
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Int(Some(v)) => ValueRef::Integer(v),
            Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Arg::Blob(Some(v)) => ValueRef::Blob(v),
            Arg::Int(None) | Arg::Text(None) | Arg::Blob(None) => ValueRef::Null,
        }))
    }
}

/// Binds `args` to a sqlx query in order (`$1` is the first).
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::Blob(v) => query.bind(v),
            };
        }
        query
    }};
}

/// A row read through a [`Tx`], from either driver.
pub trait TxRow:
    Sized
    + Send
    + Unpin
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
{
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// A connection inside the [`Writer`]'s group transaction for work written once for both
/// engines with [`Arg`]s: on SQLite the connection's own handle, used on the writer's thread
/// (each statement through sqlx would be a round trip to the connection's thread, and the
/// writer, one at a time, waits for every one: on opening day that, not the CPU, limited the
/// submissions per second); otherwise through sqlx.
pub enum Tx<'c> {
    Direct(&'c mut rusqlite::Connection),
    Sqlx(Conn<'c>),
}

impl Tx<'_> {
    /// Runs a statement that returns no rows: how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> anyhow::Result<u64> {
        match self {
            Tx::Direct(c) => Ok(direct_statement(c, sql, args)?.raw_execute()? as u64),
            Tx::Sqlx(conn) => Ok(on_conn!(conn, |c| bind_args!(sqlx::query(sql), args)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?),
        }
    }

    /// Runs a statement that returns at most one row of interest: the first.
    pub async fn fetch_optional<R: TxRow>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> anyhow::Result<Option<R>> {
        match self {
            Tx::Direct(c) => direct_rows(c, sql, args, Some(1)).map(|mut rows| rows.pop()),
            Tx::Sqlx(conn) => Ok(on_conn!(conn, |c| bind_args!(
                sqlx::query_as::<_, R>(sql),
                args
            )
            .fetch_optional(c)
            .await)?),
        }
    }

    /// Runs a statement that returns one integer (`RETURNING n`).
    pub async fn fetch_i64(&mut self, sql: &str, args: &[Arg<'_>]) -> anyhow::Result<i64> {
        let (n,): (i64,) = self
            .fetch_optional(sql, args)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the statement returned no row"))?;
        Ok(n)
    }
}

impl TxRow for (i64,) {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

impl TxRow for (String, i64) {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

impl TxRow for (i64, i64, Option<i64>) {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    }
}

/// `sql` prepared (once per connection) on `c` with `args` bound to its `$n` parameters, which
/// SQLite numbers in order of first appearance, not by their digits.
fn direct_statement<'c>(
    c: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> anyhow::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = c.prepare_cached(sql)?;
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or_default();
        let arg = name
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| args.get(n.wrapping_sub(1)))
            .ok_or_else(|| anyhow::anyhow!("no argument for parameter {name:?} of {sql}"))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    Ok(statement)
}

/// The rows `sql` returns on `c`, at most `limit` of them (the statement is not stepped
/// further: a `RETURNING` statement has made all its changes at the first step).
fn direct_rows<R: TxRow>(
    c: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    limit: Option<usize>,
) -> anyhow::Result<Vec<R>> {
    let mut statement = direct_statement(c, sql, args)?;
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while limit.is_none_or(|n| found.len() < n) {
        match rows.next()? {
            Some(row) => found.push(R::from_direct(row)?),
            None => break,
        }
    }
    Ok(found)
}

/// Whether `error` is a database's refusal of a duplicate key, from either driver.
pub fn is_unique_violation(error: &anyhow::Error) -> bool {
    if let Some(sqlx::Error::Database(e)) = error.downcast_ref::<sqlx::Error>() {
        return e.is_unique_violation();
    }
    matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// Work for the [`Writer`] written with a [`Tx`]; like [`WriteWork`] otherwise.
pub type TxWork<T> =
    Box<dyn for<'c> FnOnce(Tx<'c>) -> BoxFuture<'c, anyhow::Result<(T, bool)>> + Send>;

/// A write whose changes are kept or undone as one: a savepoint of the [`Writer`]'s group
/// transaction. It answers what it found and whether to keep its changes (`false` undoes
/// them, leaving any other work alone).
pub type WriteWork<T> =
    Box<dyn for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, anyhow::Result<(T, bool)>> + Send>;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A piece of work queued for the [`Writer`]: what it keeps, and how to answer its caller.
enum Job {
    Sqlx(Box<dyn for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, (bool, Reply)> + Send>),
    Tx(Box<dyn for<'c> FnOnce(Tx<'c>) -> BoxFuture<'c, (bool, Reply)> + Send>),
}

/// The SQLite writer's connection, and the same connection's handle for [`Tx::Direct`].
struct SqliteWriter {
    // Used only while `sqlx`'s handle is locked out of its thread; dropped first (see `Drop`).
    direct: std::mem::ManuallyDrop<rusqlite::Connection>,
    sqlx: SqliteConnection,
}

impl SqliteWriter {
    async fn new(mut sqlx: SqliteConnection) -> anyhow::Result<SqliteWriter> {
        let raw = sqlx.lock_handle().await?.as_raw_handle();
        // SAFETY: the handle stays open while `sqlx` lives, which outlives `direct` (see
        // `Drop`), and `direct` is used only while `sqlx`'s handle is locked, so never at the
        // same time as sqlx's thread.
        let direct = unsafe { rusqlite::Connection::from_handle(raw.as_ptr())? };
        direct.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(SqliteWriter {
            direct: std::mem::ManuallyDrop::new(direct),
            sqlx,
        })
    }
}

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        // `direct`'s cached statements are finalised on the handle, so sqlx's thread must not be
        // using it then (a statement of a dropped request may still be running there), and
        // before sqlx closes it (it refuses to close a handle with statements open).
        let locked = futures_executor::block_on(self.sqlx.lock_handle());
        // SAFETY: dropped once, here; the field is not used again.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.direct) };
        drop(locked);
    }
}

/// The writer's own connection, outside the pool; on PostgreSQL replaced from the pool when
/// it breaks (the server restarted, the network dropped it).
enum WriterConnection {
    Sqlite(SqliteWriter),
    Postgres(PgConnection, PgPool),
}

impl WriterConnection {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            WriterConnection::Sqlite(w) => Conn::Sqlite(&mut w.sqlx),
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

    /// Runs each of `group` in its own savepoint of the open group transaction (the first's is
    /// open already), undoing a piece's changes when it says so or when its savepoint could
    /// not be made. On SQLite the handle stays locked out of sqlx's thread from one [`Tx`]
    /// piece to the next, so a storm of submissions runs with no thread hop between them.
    async fn run_group(&mut self, group: &mut Vec<Job>) -> Vec<Reply> {
        const NEXT: &str = "RELEASE work; SAVEPOINT work";
        const UNDO: &str = "ROLLBACK TO work";
        let mut replies = Vec::with_capacity(group.len());
        match self {
            WriterConnection::Sqlite(SqliteWriter { direct, sqlx }) => {
                use sqlx::Executor;
                let mut jobs = group.drain(..).enumerate().peekable();
                while let Some((i, job)) = jobs.next() {
                    let job = match job {
                        Job::Tx(job) => job,
                        Job::Sqlx(job) => {
                            let saved = if i > 0 {
                                sqlx.execute(NEXT).await.map(drop)
                            } else {
                                Ok(())
                            };
                            let (keep, reply) = job(Conn::Sqlite(sqlx)).await;
                            if !keep || saved.is_err() {
                                if let Err(e) = sqlx.execute(UNDO).await {
                                    tracing::error!(error = %e, "cannot roll back a savepoint");
                                }
                            }
                            replies.push(reply);
                            continue;
                        }
                    };
                    let locked = match sqlx.lock_handle().await {
                        Ok(locked) => locked,
                        Err(e) => {
                            // Dropping the work tells its caller.
                            tracing::error!(error = %e, "cannot lock the database writer's handle");
                            continue;
                        }
                    };
                    // This and the Tx pieces right after it, on the handle while it is locked.
                    let mut next = Some((i, job));
                    while let Some((i, job)) = next.take() {
                        // Others' turn on this thread now and then: the pieces run here.
                        tokio::task::consume_budget().await;
                        let saved = if i > 0 {
                            next_savepoint(direct)
                        } else {
                            Ok(())
                        };
                        let (keep, reply) = job(Tx::Direct(direct)).await;
                        if !keep || saved.is_err() {
                            if let Err(e) =
                                direct.prepare_cached(UNDO).and_then(|mut s| s.execute([]))
                            {
                                tracing::error!(error = %e, "cannot roll back a savepoint");
                            }
                        }
                        replies.push(reply);
                        if let Some((_, Job::Tx(_))) = jobs.peek() {
                            if let Some((i, Job::Tx(job))) = jobs.next() {
                                next = Some((i, job));
                            }
                        }
                    }
                    drop(locked);
                }
            }
            WriterConnection::Postgres(..) => {
                for (i, job) in group.drain(..).enumerate() {
                    let saved = if i > 0 {
                        exec(self, NEXT).await
                    } else {
                        Ok(())
                    };
                    let (keep, reply) = match job {
                        Job::Sqlx(job) => job(self.conn()).await,
                        Job::Tx(job) => job(Tx::Sqlx(self.conn())).await,
                    };
                    if !keep || saved.is_err() {
                        if let Err(e) = exec(self, UNDO).await {
                            tracing::error!(error = %e, "cannot roll back a savepoint");
                        }
                    }
                    replies.push(reply);
                }
            }
        }
        replies
    }
}

/// `RELEASE work; SAVEPOINT work` on the writer's handle through its statement cache: they run
/// for every piece of work, on the one writer's path, and were parsed again each time.
fn next_savepoint(direct: &rusqlite::Connection) -> rusqlite::Result<()> {
    direct.prepare_cached("RELEASE work")?.execute([])?;
    direct.prepare_cached("SAVEPOINT work")?.execute([])?;
    Ok(())
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
            WriterConnection::Sqlite(w) => w.sqlx.execute(sql).await.map(drop),
            WriterConnection::Postgres(c, _) => c.execute(sql).await.map(drop),
        }
    })
}

/// What a caller gives the [`Writer`].
enum Work<T> {
    Sqlx(WriteWork<T>),
    Tx(TxWork<T>),
}

/// Whether to keep a piece of work's changes, and how to answer its caller once the group's
/// commit is known.
fn replying<T: Send + 'static>(
    result: anyhow::Result<(T, bool)>,
    answer: oneshot::Sender<anyhow::Result<T>>,
) -> (bool, Reply) {
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
            if let Err(e) = exec(&mut connection, begin).await {
                // Nothing ran; dropping the work tells each caller so.
                tracing::error!(error = %e, "cannot begin a group of writes");
                let _ = exec(&mut connection, "ROLLBACK").await;
                group.clear();
                connection.renew().await;
                continue;
            }
            let replies = connection.run_group(&mut group).await;
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
        work: Work<T>,
        mut turn: Option<Turn>,
    ) -> anyhow::Result<T> {
        let (answer, answered) = oneshot::channel::<anyhow::Result<T>>();
        let job = match work {
            Work::Sqlx(work) => Job::Sqlx(Box::new(move |connection| {
                Box::pin(async move { replying(work(connection).await, answer) })
            })),
            Work::Tx(work) => Job::Tx(Box::new(move |tx| {
                Box::pin(async move { replying(work(tx).await, answer) })
            })),
        };
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

/// Copies the write-ahead log into the database file every second on a thread of its own, as
/// long as the database is open (`alive`). Passive: it never waits for, or holds up, the writer
/// or a reader. Once a second rather than five times: a page changed by many groups in that
/// time (the last page of an index, a counter) is copied once (on opening day the server's
/// file writes per submission fell by a fifth); the log holds a second of writes at most.
fn checkpoint_in_background(
    options: &SqliteConnectOptions,
    alive: std::sync::Weak<Readers>,
) -> anyhow::Result<()> {
    let connection = rusqlite::Connection::open_with_flags(
        options.get_filename(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(Duration::from_millis(1000));
                let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    row.get::<_, i64>(0)
                });
                if let Err(e) = done {
                    tracing::warn!(error = %e, "cannot checkpoint the database");
                }
            }
        })?;
    Ok(())
}

/// SQLite counts every allocation it makes under a global lock, for statistics the portal
/// never reads (about 2% of the writer's time in perf). Only possible before SQLite starts: the
/// first database opened in a process (the server's) decides; later calls change nothing.
fn skip_sqlite_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a configuration call SQLite allows before its initialisation (and refuses,
        // harmlessly, after it).
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::os::raw::c_int,
            );
        }
    });
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            return Db::connect_postgres(url).await;
        }
        skip_sqlite_memory_statistics();
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
            // The writer's savepoint journals in memory, not in a temporary file.
            .pragma("temp_store", "memory")
            // Checkpoints run on their own thread (`checkpoint_in_background`), not inside
            // the commit of whichever connection filled the log: the writer's.
            .pragma("wal_autocheckpoint", "0")
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
        let readers = std::sync::Arc::new(
            Readers::open(&options)
                .with_context(|| format!("cannot open the SQLite database {url} for reading"))?,
        );
        checkpoint_in_background(&options, std::sync::Arc::downgrade(&readers))?;
        Ok(Db::Sqlite(
            pool.clone(),
            Writer::start(WriterConnection::Sqlite(
                SqliteWriter::new(connection).await?,
            )),
            readers,
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
        self.writer().write(Work::Sqlx(work), None).await
    }

    /// [`Db::write`] of work written with a [`Tx`], queued only after that of the turn before
    /// `turn` (if any).
    pub async fn write_tx<T: Send + 'static>(
        &self,
        work: TxWork<T>,
        turn: Option<Turn>,
    ) -> anyhow::Result<T> {
        self.writer().write(Work::Tx(work), turn).await
    }

    /// A read that every request makes, written once for both engines: on SQLite on one of
    /// [`Readers`]' connections on this thread, else through the pool. The first row, if any.
    pub async fn read<R: TxRow>(&self, sql: &str, args: &[Arg<'_>]) -> anyhow::Result<Option<R>> {
        match self {
            Db::Sqlite(_, _, readers) => readers
                .with(|c| direct_rows(c, sql, args, Some(1)))
                .await
                .map(|mut rows| rows.pop()),
            Db::Postgres(pool, _) => Ok(bind_args!(sqlx::query_as::<_, R>(sql), args)
                .fetch_optional(pool)
                .await?),
        }
    }

    /// [`Db::read`] of every row.
    pub async fn read_all<R: TxRow>(&self, sql: &str, args: &[Arg<'_>]) -> anyhow::Result<Vec<R>> {
        match self {
            Db::Sqlite(_, _, readers) => readers.with(|c| direct_rows(c, sql, args, None)).await,
            Db::Postgres(pool, _) => Ok(bind_args!(sqlx::query_as::<_, R>(sql), args)
                .fetch_all(pool)
                .await?),
        }
    }

    fn writer(&self) -> &Writer {
        match self {
            Db::Sqlite(_, writer, _) | Db::Postgres(_, writer) => writer,
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
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    let mut hex = String::with_capacity(bytes * 2);
    for b in buf {
        hex.push(DIGITS[usize::from(b >> 4)] as char);
        hex.push(DIGITS[usize::from(b & 15)] as char);
    }
    hex
}

/// A new identifier for a row: 32 hex digits, the creation's millisecond (48 bits) then 80
/// random bits, as in a UUIDv7. Rows made one after another then sit side by side in every
/// index of their id, so a storm of new rows (notifications on opening day) adds to the last
/// page of each rather than to a random page each; 80 bits still cannot be guessed.
pub fn new_id() -> String {
    let millis = now_millis().clamp(0, (1 << 48) - 1);
    format!("{millis:012x}{}", random_hex(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_unique_and_sort_in_the_order_they_were_made() {
        let first = new_id();
        std::thread::sleep(Duration::from_millis(2));
        let second = new_id();
        for id in [&first, &second] {
            assert_eq!(id.len(), 32);
            assert!(
                id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{id}"
            );
        }
        assert!(first < second, "{first} then {second}");
        // Made in the same millisecond, they still differ in their random part.
        let same: std::collections::HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(same.len(), 1000);
        let hex = random_hex(3);
        assert_eq!(hex.len(), 6);
        assert_ne!(random_hex(16), random_hex(16));
    }

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
    async fn the_log_is_copied_into_the_database_file_in_the_background() {
        let (dir, db) = database_with_t("v INTEGER PRIMARY KEY").await;
        for i in 0..50 {
            db.write(insert(i, true)).await.unwrap();
        }
        // The file itself, read without its write-ahead log, gets every row.
        let file = format!("file:{}/t.db?immutable=1", dir.path().display());
        let in_the_file = || {
            let c = rusqlite::Connection::open_with_flags(
                &file,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
            )
            .unwrap();
            c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap_or(0)
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while in_the_file() < 50 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(in_the_file(), 50);
        assert_eq!(count(&db).await, 50);
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

    /// Work through a [`Tx`]: `$n` bound by number wherever and however often it appears.
    fn insert_tx(value: i64, keep: bool) -> TxWork<Option<(i64,)>> {
        Box::new(move |mut tx| {
            Box::pin(async move {
                let doubled = tx
                    .fetch_optional::<(i64,)>(
                        "INSERT INTO t (label, v) VALUES ('tx ' || $2, $1 * $2 / $2) RETURNING v * 2",
                        &[Arg::Int(Some(value)), Arg::Text(Some("1"))],
                    )
                    .await;
                match doubled {
                    Err(e) if is_unique_violation(&e) => Ok((None, false)),
                    other => Ok((other?, keep)),
                }
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_through_a_tx_and_through_sqlx_share_groups_and_keep_apart() {
        let (_dir, db) = database_with_t("v INTEGER PRIMARY KEY, label TEXT").await;
        // Interleaved in the same groups: sqlx work, and Tx work (on SQLite the writer's own
        // handle), each kept or undone alone.
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        db.write(insert(i, i % 3 != 0)).await.map(|_| ())
                    } else {
                        let answered = db.write_tx(insert_tx(i, i % 3 != 0), None).await?;
                        assert_eq!(answered, Some((i * 2,)), "RETURNING read back");
                        Ok(())
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(count(&db).await, 200, "the undone third rolled back alone");
        let labelled: i64 = on_db!(&db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM t WHERE label = 'tx 1'"
        )
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(labelled, 100, "the Tx half, with its text argument");
        // A duplicate key is recognised as one whichever way it was written.
        assert_eq!(db.write_tx(insert_tx(1, true), None).await.unwrap(), None);
        assert!(db.write(insert(1, true)).await.is_err());
        assert_eq!(
            db.write_tx(insert_tx(1_001, true), None).await.unwrap(),
            Some((2_002,))
        );
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
                    let work: TxWork<()> = Box::new(move |mut tx| {
                        Box::pin(async move {
                            let order = written.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tx.execute(
                                "INSERT INTO t (v, written) VALUES ($1, $2)",
                                &[Arg::Int(Some(i as i64)), Arg::Int(Some(order))],
                            )
                            .await?;
                            Ok(((), true))
                        })
                    });
                    db.write_tx(work, Some(turn)).await.unwrap();
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
