//! Objects planned for fetching ahead of the parser and those fetched, waiting to be taken: the
//! bookkeeping of [`super::prefetch`], apart from the fetching itself, so that the client can
//! own it without importing the module that fetches.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::S3Error;
use super::types::Fetched;

/// An object: its bucket and key.
pub(super) type ObjectId = (String, String);

/// Objects planned for fetching ahead and those fetched, waiting to be taken.
pub(super) struct Prefetch {
    state: Mutex<State>,
    arrived: Condvar,
    permits: Arc<Semaphore>,
}

#[derive(Default)]
struct State {
    planned: HashSet<ObjectId>,
    /// A fetched object keeps its permit until it is taken: a slot of the memory budget.
    ready: HashMap<ObjectId, (Result<Fetched, S3Error>, OwnedSemaphorePermit)>,
}

impl Prefetch {
    /// Nothing planned, with `concurrency` objects in flight or waiting at most.
    pub(super) fn new(concurrency: usize) -> Prefetch {
        Prefetch {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            permits: Arc::new(Semaphore::new(concurrency)),
        }
    }

    /// Plans `objects`, keeping their order; returns those not already planned.
    pub(super) fn plan(&self, objects: Vec<ObjectId>) -> Vec<ObjectId> {
        let mut state = self.lock();
        objects
            .into_iter()
            .filter(|id| state.planned.insert(id.clone()))
            .collect()
    }

    /// The slots of the memory budget: one is held from the GET's start until the object is
    /// taken.
    pub(super) fn permits(&self) -> Arc<Semaphore> {
        Arc::clone(&self.permits)
    }

    /// Hands over a fetched object (or its error) with the slot it holds.
    pub(super) fn deliver(
        &self,
        id: ObjectId,
        result: Result<Fetched, S3Error>,
        permit: OwnedSemaphorePermit,
    ) {
        self.lock().ready.insert(id, (result, permit));
        self.arrived.notify_all();
    }

    /// The planned object `id`, waited for until it has arrived, and no longer planned (its
    /// slot freed); `None` when it was not planned.
    pub(super) fn take(&self, id: &ObjectId) -> Option<Result<Fetched, S3Error>> {
        let mut state = self.lock();
        if !state.planned.contains(id) {
            return None;
        }
        loop {
            if let Some((result, _permit)) = state.ready.remove(id) {
                state.planned.remove(id);
                return Some(result);
            }
            state = self
                .arrived
                .wait(state)
                .unwrap_or_else(|poison| poison.into_inner());
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}
