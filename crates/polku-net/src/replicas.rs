//! The hub's replicas: one store, several connections to it, so that the
//! sync sessions of different laptops run at once on different cores.
//!
//! Each member is a replica over its own connection to the same store
//! (`SyncReplica::another` in `polku-api`), locked only for one step of one
//! session. A session runs all its steps on the member it was given at its
//! start: the one with the fewest sessions, preferring the one that last
//! served the same laptop (its per-peer caches are warm). SQLite serialises
//! the members' write transactions, and every write a sync step makes reads
//! what it builds on inside its own transaction (documents are merged into
//! the stored copy, audit entries continue the stored chain, erasures are
//! read again), so steps of different sessions may interleave freely.
//!
//! Work on the store outside a sync session whose reads and writes are not
//! one transaction (an enrolment changing the organisation document, a
//! backup) runs [`HubReplicas::exclusive`]: no sync step runs meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use polku_audit::NodeId;

/// Peers whose last member is remembered.
const REMEMBERED_PEERS: usize = 4096;

/// The hub's replicas of one store (see the module docs).
pub struct HubReplicas<R> {
    members: Vec<Arc<Mutex<R>>>,
    /// Sessions running on each member.
    busy: Vec<AtomicUsize>,
    /// The member that last served each peer.
    last: Mutex<HashMap<NodeId, usize>>,
    /// Held shared by sync steps, alone by [`HubReplicas::exclusive`].
    gate: RwLock<()>,
}

impl<R> std::fmt::Debug for HubReplicas<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubReplicas")
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the replica as SQLite left it
    // (transactions roll back); going on is safe.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<R> HubReplicas<R> {
    /// Replicas of one store, each over its own connection; the first is
    /// the one [`HubReplicas::exclusive`] uses. At least one.
    pub fn new(members: Vec<R>) -> Option<Arc<Self>> {
        Self::of(
            members
                .into_iter()
                .map(|r| Arc::new(Mutex::new(r)))
                .collect(),
        )
    }

    /// Replicas for serving: `first` and `n - 1` more made from it by
    /// `another` (each over its own connection to the store).
    pub fn build<E>(
        first: R,
        n: usize,
        another: impl Fn(&R) -> Result<R, E>,
    ) -> Result<Arc<Self>, E> {
        let mut members = Vec::with_capacity(n.max(1));
        for _ in 1..n.max(1) {
            members.push(another(&first)?);
        }
        members.insert(0, first);
        Ok(Self::new(members).expect("at least one replica"))
    }

    /// How many replicas a hub serves on: one per core, at most 4.
    pub fn per_core() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    }

    /// [`HubReplicas::new`] over replicas already shared.
    pub fn of(members: Vec<Arc<Mutex<R>>>) -> Option<Arc<Self>> {
        if members.is_empty() {
            return None;
        }
        Some(Arc::new(Self {
            busy: members.iter().map(|_| AtomicUsize::new(0)).collect(),
            members,
            last: Mutex::new(HashMap::new()),
            gate: RwLock::new(()),
        }))
    }

    /// How many replicas there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Never: there is at least one.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether nothing holds the replicas now (no sync step, no exclusive
    /// work).
    pub fn is_free(&self) -> bool {
        self.gate.try_write().is_ok() && self.members.iter().all(|m| m.try_lock().is_ok())
    }

    /// The replicas back, once nothing else holds them (else `Err(self)`).
    pub fn into_replicas(self: Arc<Self>) -> Result<Vec<R>, Arc<Self>> {
        let pool = Arc::try_unwrap(self)?;
        let mut out = Vec::with_capacity(pool.members.len());
        let mut rest = pool.members.into_iter();
        for m in rest.by_ref() {
            match Arc::try_unwrap(m) {
                Ok(m) => out.push(m.into_inner().unwrap_or_else(|p| p.into_inner())),
                // A connection task still holds one: drop the rest with it.
                Err(_) => break,
            }
        }
        Ok(out)
    }

    /// Runs `f` on the first replica while no sync step runs on any.
    pub fn exclusive<T>(&self, f: impl FnOnce(&mut R) -> T) -> T {
        let _alone = self.gate.write().unwrap_or_else(|p| p.into_inner());
        f(&mut lock(&self.members[0]))
    }

    /// Runs `f` on the least busy replica beside sync steps: for work that
    /// is one transaction reading what it builds on (an audit entry).
    pub fn shared<T>(self: &Arc<Self>, f: impl FnOnce(&mut R) -> T) -> T {
        self.lease(None).run(f)
    }

    /// [`HubReplicas::shared`] on the member `peer`'s sessions went to, if
    /// it is among the least busy: for the audit entry of a session just
    /// ended, which then leaves what that member keeps of the store for the
    /// peer's next session valid (another member's write would drop it).
    pub fn shared_for<T>(self: &Arc<Self>, peer: NodeId, f: impl FnOnce(&mut R) -> T) -> T {
        self.lease(Some(peer)).run(f)
    }

    /// Runs `f` on member `index` beside other members' steps.
    pub(crate) fn run_on<T>(&self, index: usize, f: impl FnOnce(&mut R) -> T) -> T {
        let _step = self.gate.read().unwrap_or_else(|p| p.into_inner());
        f(&mut lock(&self.members[index]))
    }

    /// The member a session of `peer` (or other work, `None`) runs on,
    /// counted busy until the lease is dropped.
    pub(crate) fn lease(self: &Arc<Self>, peer: Option<NodeId>) -> Lease<R> {
        let least = self
            .busy
            .iter()
            .map(|b| b.load(Ordering::SeqCst))
            .min()
            .unwrap_or(0);
        let preferred = peer.and_then(|p| lock(&self.last).get(&p).copied());
        let index = match preferred {
            Some(i) if self.busy[i].load(Ordering::SeqCst) == least => i,
            _ => self
                .busy
                .iter()
                .position(|b| b.load(Ordering::SeqCst) == least)
                .unwrap_or(0),
        };
        self.busy[index].fetch_add(1, Ordering::SeqCst);
        if let Some(p) = peer {
            let mut last = lock(&self.last);
            if last.len() >= REMEMBERED_PEERS && !last.contains_key(&p) {
                last.clear();
            }
            last.insert(p, index);
        }
        Lease {
            pool: self.clone(),
            index,
        }
    }
}

/// One member of [`HubReplicas`], busy while held.
pub(crate) struct Lease<R> {
    pub(crate) pool: Arc<HubReplicas<R>>,
    pub(crate) index: usize,
}

impl<R> Lease<R> {
    /// Runs `f` on the member, beside other members' steps.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut R) -> T) -> T {
        self.pool.run_on(self.index, f)
    }

    /// Which member.
    #[cfg(test)]
    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

impl<R> Drop for Lease<R> {
    fn drop(&mut self) {
        self.pool.busy[self.index].fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(b: u8) -> NodeId {
        NodeId::from_bytes([b; 32])
    }

    #[test]
    fn sessions_go_to_the_least_busy_member_and_back_to_their_last_one() {
        let pool = HubReplicas::new(vec![0u32, 1u32]).expect("pool");
        let a = pool.lease(Some(node(1)));
        let b = pool.lease(Some(node(2)));
        assert_ne!(a.index(), b.index(), "two sessions at once use both");
        let (ia, ib) = (a.index(), b.index());
        drop(a);
        drop(b);
        // Both idle: each laptop comes back to the member it had.
        let b2 = pool.lease(Some(node(2)));
        assert_eq!(b2.index(), ib);
        let a2 = pool.lease(Some(node(1)));
        assert_eq!(a2.index(), ia);
        // Its last member busy: a laptop goes to the idle one.
        drop(b2);
        let a3 = pool.lease(Some(node(1)));
        assert_eq!(a3.index(), ib, "the idle member, not the busy last one");
        drop((a2, a3));
        assert!(pool.busy.iter().all(|b| b.load(Ordering::SeqCst) == 0));
    }

    #[test]
    fn a_sessions_audit_entry_goes_to_the_member_it_ran_on() {
        let pool = HubReplicas::new(vec![0u32, 1u32]).expect("pool");
        // Laptop 2's session ran on the member laptop 1's did not take.
        let a = pool.lease(Some(node(1)));
        let b = pool.lease(Some(node(2)));
        let ib = b.index();
        drop((a, b));
        // Both idle: its entry goes to that member, not to the first idle
        // one (where `shared` puts other work).
        assert_eq!(pool.shared_for(node(2), |m| *m), ib as u32);
        assert_eq!(pool.shared(|m| *m), 0);
        // That member busy: to the idle one rather than wait.
        let busy = pool.lease(Some(node(2)));
        assert_eq!(pool.shared_for(node(2), |m| *m), 1 - ib as u32);
        drop(busy);
    }

    #[test]
    fn exclusive_work_waits_for_running_steps() {
        let pool = HubReplicas::new(vec![0u32, 0u32]).expect("pool");
        let order = Arc::new(Mutex::new(Vec::new()));
        let lease = pool.lease(None);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let o = order.clone();
            let p = &pool;
            s.spawn(move || {
                lease.run(|_| {
                    tx.send(()).expect("send");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    lock(&o).push("step");
                });
            });
            rx.recv().expect("step running");
            p.exclusive(|_| lock(&order).push("exclusive"));
        });
        assert_eq!(*lock(&order), ["step", "exclusive"]);
    }
}
