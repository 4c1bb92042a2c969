//! An object store that fails, stops or pauses at the Nth call: how the conformance suite crashes a
//! run at every store call, in process, on every backend.
//!
//! - `Fault::Fail`: that one call returns an error, as a store outage would; later calls pass.
//! - `Fault::Abort`: that call and every later one never return, as if the process died there:
//!   nothing the run does after it reaches the store. The test then drops the run.
//! - `Fault::Pause`: that call waits until the test lets it go (to let another run commit first).
//!
//! It also counts calls by kind, which is how the suite measures the requests of opening a table.
//! Multipart parts bypass the count: the suite's files are small enough for single puts.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Put,
    /// A create-if-absent or conditional put: a commit, a lease.
    Create,
    Get,
    Head,
    List,
    Rename,
    Copy,
    Delete,
    Multipart,
}

#[derive(Clone)]
pub enum Fault {
    Fail,
    Abort,
    /// `(paused, resume)`: notified when the call arrives; the call goes on once `resume` is.
    Pause(Arc<Notify>, Arc<Notify>),
}

/// Which call to fault: the `nth` (from 1) of `kind`, or of any kind.
#[derive(Clone)]
pub struct Plan {
    pub kind: Option<Op>,
    pub nth: usize,
    pub fault: Fault,
}

pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    plan: Mutex<Option<Plan>>,
    counts: Mutex<BTreeMap<Op, usize>>,
    total: AtomicUsize,
    aborted: AtomicBool,
    /// Set when the planned fault happened.
    pub tripped: Arc<Notify>,
    tripped_flag: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, plan: Option<Plan>) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            plan: Mutex::new(plan),
            counts: Mutex::default(),
            total: AtomicUsize::new(0),
            aborted: AtomicBool::new(false),
            tripped: Arc::new(Notify::new()),
            tripped_flag: AtomicBool::new(false),
        })
    }

    /// Calls so far, by kind.
    pub fn counts(&self) -> BTreeMap<Op, usize> {
        self.counts.lock().unwrap().clone()
    }

    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    pub fn has_tripped(&self) -> bool {
        self.tripped_flag.load(Ordering::SeqCst)
    }

    pub fn reset_counts(&self) {
        self.counts.lock().unwrap().clear();
        self.total.store(0, Ordering::SeqCst);
    }

    /// Counts a call and says what to do with it.
    fn enter(&self, op: Op) -> Option<Fault> {
        if self.aborted.load(Ordering::SeqCst) {
            return Some(Fault::Abort);
        }
        let total = self.total.fetch_add(1, Ordering::SeqCst) + 1;
        let of_kind = {
            let mut counts = self.counts.lock().unwrap();
            let count = counts.entry(op).or_default();
            *count += 1;
            *count
        };
        let mut plan = self.plan.lock().unwrap();
        let hit = plan.as_ref().is_some_and(|p| match p.kind {
            Some(kind) => kind == op && p.nth == of_kind,
            None => p.nth == total,
        });
        if !hit {
            return None;
        }
        let fault = plan.take().map(|p| p.fault);
        if matches!(fault, Some(Fault::Abort)) {
            self.aborted.store(true, Ordering::SeqCst);
        }
        self.tripped_flag.store(true, Ordering::SeqCst);
        self.tripped.notify_one();
        fault
    }

    async fn gate(&self, op: Op) -> Result<()> {
        match self.enter(op) {
            None => Ok(()),
            Some(Fault::Fail) => Err(object_store::Error::Generic {
                store: "faulty",
                source: format!("injected failure of a {op:?} call").into(),
            }),
            Some(Fault::Abort) => futures::future::pending().await,
            Some(Fault::Pause(paused, resume)) => {
                let resumed = resume.notified();
                paused.notify_one();
                resumed.await;
                Ok(())
            }
        }
    }
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        let op = if matches!(opts.mode, PutMode::Overwrite) { Op::Put } else { Op::Create };
        self.gate(op).await?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.gate(Op::Multipart).await?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.gate(if options.head { Op::Head } else { Op::Get }).await?;
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.gate(Op::Get).await?;
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        if let Some(fault) = self.enter(Op::Delete) {
            return fault_stream(fault);
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(fault) = self.enter(Op::List) {
            return fault_stream(fault);
        }
        self.inner.list(prefix)
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(fault) = self.enter(Op::List) {
            return fault_stream(fault);
        }
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.gate(Op::List).await?;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.gate(Op::Copy).await?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.gate(Op::Rename).await?;
        self.inner.rename_opts(from, to, options).await
    }
}

/// A listing or deletion that fails, or never answers. (A paused one simply fails: the suite pauses
/// single calls only.)
fn fault_stream<T: Send + 'static>(fault: Fault) -> BoxStream<'static, Result<T>> {
    match fault {
        Fault::Abort => futures::stream::pending().boxed(),
        Fault::Fail | Fault::Pause(..) => futures::stream::once(async {
            Err(object_store::Error::Generic { store: "faulty", source: "injected failure of a listing".into() })
        })
        .boxed(),
    }
}
