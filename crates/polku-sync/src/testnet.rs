//! A deterministic in-process network of named nodes, each a
//! [`MemReplica`], for scenario tests and benchmarks.
//!
//! ```
//! use polku_sync::testnet::Net;
//!
//! let mut net = Net::new();
//! net.add_hub("hub");
//! net.add_laptop("laptop-1", "hub");
//! let doc = net.new_doc("laptop-1", "unit-a", &[("phone", "040 123")]);
//! let (laptop, hub) = net.sync("laptop-1", "hub").expect("sync completes");
//! assert_eq!(laptop.docs_sent, 1);
//! assert_eq!(hub.docs_created, 1);
//! assert_eq!(net.heads("hub", doc), net.heads("laptop-1", doc));
//! ```
//!
//! [`Net::connect`] opens a connection (both sessions start), and
//! [`Net::run_until_quiescent`] delivers frames — one per direction per
//! connection in turn — until nothing is in flight. A [`Fault`] drops the
//! connection after some frames, or corrupts, truncates or rewrites one.

use std::collections::{BTreeMap, VecDeque};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use chrono::{DateTime, TimeZone, Utc};
use polku_audit::{Action, Detail, Entry, NodeId, NodeKey};
use polku_core::{DocId, DocKind, OrgId};
use uuid::Uuid;

use crate::docset::HeadsHash;
use crate::error::SyncError;
use crate::mem::MemReplica;
use crate::protocol::Role;
use crate::report::SyncReport;
use crate::session::{Limits, Session, SessionConfig};

/// A node of the network.
#[derive(Debug)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its signing key (derived from the name).
    pub key: NodeKey,
    /// Its replica.
    pub replica: MemReplica,
}

/// What happens to a connection's frames.
pub enum Fault {
    /// Nothing.
    None,
    /// The connection drops after this many frames were delivered (both directions).
    DropAfter(usize),
    /// The n-th delivered frame (from 0) has a byte XORed with `mask` at
    /// `offset` (modulo its length).
    Corrupt {
        /// Which frame.
        frame: usize,
        /// Where.
        offset: usize,
        /// XOR mask (non-zero).
        mask: u8,
    },
    /// The n-th delivered frame is cut to `keep` bytes.
    Truncate {
        /// Which frame.
        frame: usize,
        /// Bytes kept.
        keep: usize,
    },
    /// Every frame passes through the function: (index, sender name, bytes) → bytes.
    Map(FrameMap),
    /// The connection drops just before the `frame`-th frame (from 0) sent
    /// by the node `from` is delivered: neither side gets anything more.
    CutAt {
        /// The sender whose frame is never delivered.
        from: String,
        /// Which of its frames.
        frame: usize,
    },
}

/// A frame rewriter for [`Fault::Map`]: (index, sender name, bytes) → bytes.
pub type FrameMap = Box<dyn FnMut(usize, &str, Vec<u8>) -> Vec<u8>>;

impl std::fmt::Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::None => f.write_str("None"),
            Fault::DropAfter(n) => write!(f, "DropAfter({n})"),
            Fault::Corrupt { frame, .. } => write!(f, "Corrupt(frame {frame})"),
            Fault::Truncate { frame, keep } => write!(f, "Truncate(frame {frame}, {keep})"),
            Fault::Map(_) => f.write_str("Map(..)"),
            Fault::CutAt { from, frame } => write!(f, "CutAt({from}, frame {frame})"),
        }
    }
}

/// How one side's session ended.
#[derive(Debug)]
pub enum Outcome {
    /// Still running.
    Running,
    /// Completed.
    Done(Box<SyncReport>),
    /// Ended with an error.
    Failed(SyncError),
    /// The connection went away under it.
    Aborted,
    /// Nothing in flight but the session not finished (a protocol bug).
    Stalled,
}

impl Outcome {
    /// The report, if completed.
    pub fn report(&self) -> Option<&SyncReport> {
        match self {
            Outcome::Done(r) => Some(r),
            _ => None,
        }
    }
    /// The error, if failed.
    pub fn error(&self) -> Option<&SyncError> {
        match self {
            Outcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Side {
    node: String,
    session: Session,
    inbox: VecDeque<Vec<u8>>,
    outcome: Outcome,
}

#[derive(Debug)]
struct Conn {
    sides: [Side; 2],
    fault: Fault,
    delivered: usize,
    /// Frames delivered, by the index of the side that sent them.
    delivered_from: [usize; 2],
    closed: bool,
}

/// A connection handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnId(usize);

/// The network. See the module docs.
#[derive(Debug)]
pub struct Net {
    org: OrgId,
    nodes: BTreeMap<String, Node>,
    conns: Vec<Conn>,
    seq: u64,
    limits: Limits,
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

/// A fixed instant for tests: 2026-03-02 09:00 UTC plus `minutes`.
pub fn test_time(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(minutes)
}

impl Net {
    /// An empty network of one organisation.
    pub fn new() -> Self {
        Self {
            org: OrgId(Uuid::from_bytes([0x0a; 16])),
            nodes: BTreeMap::new(),
            conns: Vec::new(),
            seq: 0,
            limits: Limits::default(),
        }
    }

    /// Uses these limits for connections opened from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The organisation.
    pub fn org(&self) -> OrgId {
        self.org
    }

    fn key_for(name: &str) -> NodeKey {
        NodeKey::from_bytes(blake3::hash(name.as_bytes()).as_bytes())
    }

    /// Adds a hub.
    pub fn add_hub(&mut self, name: &str) -> NodeId {
        let key = Self::key_for(name);
        let id = key.node_id();
        let replica = MemReplica::hub(id);
        self.nodes.insert(
            name.to_owned(),
            Node {
                name: name.to_owned(),
                role: Role::Hub,
                key,
                replica,
            },
        );
        id
    }

    /// Adds a laptop pinned to `hub` and enrolled there.
    pub fn add_laptop(&mut self, name: &str, hub: &str) -> NodeId {
        let key = Self::key_for(name);
        let id = key.node_id();
        let hub_id = self.id(hub);
        self.replica_mut(hub).enrol(id);
        self.nodes.insert(
            name.to_owned(),
            Node {
                name: name.to_owned(),
                role: Role::Laptop,
                key,
                replica: MemReplica::laptop(id, hub_id),
            },
        );
        id
    }

    fn node(&self, name: &str) -> &Node {
        match self.nodes.get(name) {
            Some(n) => n,
            None => panic!("no node named {name}"),
        }
    }

    fn node_mut(&mut self, name: &str) -> &mut Node {
        match self.nodes.get_mut(name) {
            Some(n) => n,
            None => panic!("no node named {name}"),
        }
    }

    /// A node's id.
    pub fn id(&self, name: &str) -> NodeId {
        self.node(name).key.node_id()
    }

    /// A node's replica.
    pub fn replica(&self, name: &str) -> &MemReplica {
        &self.node(name).replica
    }

    /// A node's replica, mutable (to edit documents as the app would).
    pub fn replica_mut(&mut self, name: &str) -> &mut MemReplica {
        &mut self.node_mut(name).replica
    }

    /// The heads hash of a document on a node.
    pub fn heads(&self, name: &str, doc: DocId) -> Option<HeadsHash> {
        self.replica(name).heads_map().get(&doc).copied()
    }

    /// A fresh deterministic document id.
    pub fn next_id(&mut self) -> DocId {
        self.seq += 1;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.seq.to_be_bytes());
        bytes[8] = 0x5e;
        DocId(Uuid::from_bytes(bytes))
    }

    /// Creates a client-like document on a node: `unit` and the given
    /// string fields at the root, and a `memo` text.
    pub fn new_doc(&mut self, name: &str, unit: &str, fields: &[(&str, &str)]) -> DocId {
        let id = self.next_id();
        let mut doc = AutoCommit::new();
        let built = (|| -> Result<(), automerge::AutomergeError> {
            doc.put(ROOT, "id", id.to_string())?;
            doc.put(ROOT, crate::mem::UNIT_KEY, unit)?;
            for (k, v) in fields {
                doc.put(ROOT, *k, *v)?;
            }
            let memo = doc.put_object(ROOT, "memo", automerge::ObjType::Text)?;
            doc.splice_text(&memo, 0, 0, "")?;
            Ok(())
        })();
        assert!(built.is_ok(), "building a test document");
        doc.commit();
        self.replica_mut(name).insert(id, DocKind::Client, doc);
        id
    }

    /// Sets a root string field of a document on a node (an app edit).
    pub fn set_field(&mut self, name: &str, doc: DocId, key: &str, value: &str) -> bool {
        let key = key.to_owned();
        let value = value.to_owned();
        self.replica_mut(name).edit(doc, move |d| {
            let _ = d.put(ROOT, key.as_str(), value.as_str());
        })
    }

    /// Erases a document on a node (a tombstone signed by its key).
    pub fn erase(&mut self, name: &str, doc: DocId, at: DateTime<Utc>) -> bool {
        let node = self.node_mut(name);
        node.replica.erase(&node.key, doc, at)
    }

    /// Appends an audit entry to a node's own chain.
    pub fn audit(&mut self, name: &str, minutes: i64, target: Option<DocId>) -> Entry {
        let node = self.node_mut(name);
        node.replica.audit_mut().append(
            &node.key,
            test_time(minutes),
            None,
            Action::View,
            target.map(|t| t.0),
            Detail::None,
        )
    }

    /// Opens a connection between a laptop and a hub (either order).
    pub fn connect(&mut self, a: &str, b: &str) -> ConnId {
        self.connect_with(a, b, Fault::None)
    }

    /// Opens a connection with a fault.
    pub fn connect_with(&mut self, a: &str, b: &str, fault: Fault) -> ConnId {
        let mut sides = [a, b].map(|name| {
            let node = self.node(name);
            let other = self.node(if name == a { b } else { a });
            let mut cfg =
                SessionConfig::new(node.role, self.org, node.key.node_id(), other.key.node_id());
            cfg.limits = self.limits;
            Side {
                node: name.to_owned(),
                session: Session::new(cfg),
                inbox: VecDeque::new(),
                outcome: Outcome::Running,
            }
        });
        for i in 0..2 {
            let replica = &mut self.node_mut(&sides[i].node.clone()).replica;
            match sides[i].session.start(replica) {
                Ok(frames) => sides[1 - i]
                    .inbox
                    .extend(frames.into_iter().map(|f| f.into_bytes())),
                Err(e) => sides[i].outcome = Outcome::Failed(e),
            }
        }
        self.conns.push(Conn {
            sides,
            fault,
            delivered: 0,
            delivered_from: [0, 0],
            closed: false,
        });
        ConnId(self.conns.len() - 1)
    }

    /// Delivers frames until nothing is in flight; returns how many.
    pub fn run_until_quiescent(&mut self) -> usize {
        let mut total = 0;
        loop {
            let mut moved = 0;
            for c in 0..self.conns.len() {
                for to in 0..2 {
                    if self.deliver(c, to) {
                        moved += 1;
                    }
                }
            }
            total += moved;
            if moved == 0 {
                break;
            }
        }
        for conn in &mut self.conns {
            let closed = conn.closed
                || conn
                    .sides
                    .iter()
                    .any(|s| !matches!(s.outcome, Outcome::Running));
            for side in &mut conn.sides {
                if matches!(side.outcome, Outcome::Running) {
                    side.outcome = if closed {
                        Outcome::Aborted
                    } else {
                        Outcome::Stalled
                    };
                }
            }
        }
        total
    }

    fn deliver(&mut self, c: usize, to: usize) -> bool {
        let conn = &mut self.conns[c];
        if conn.closed || !matches!(conn.sides[to].outcome, Outcome::Running) {
            return false;
        }
        let Some(mut frame) = conn.sides[to].inbox.pop_front() else {
            return false;
        };
        let index = conn.delivered;
        conn.delivered += 1;
        let from_index = conn.delivered_from[1 - to];
        conn.delivered_from[1 - to] += 1;
        match &mut conn.fault {
            Fault::None => {}
            Fault::DropAfter(n) => {
                if index >= *n {
                    conn.closed = true;
                    for side in &mut conn.sides {
                        side.inbox.clear();
                    }
                    return true;
                }
            }
            Fault::Corrupt {
                frame: at,
                offset,
                mask,
            } => {
                if index == *at && !frame.is_empty() {
                    let i = *offset % frame.len();
                    frame[i] ^= *mask;
                }
            }
            Fault::Truncate { frame: at, keep } => {
                if index == *at {
                    frame.truncate(*keep);
                }
            }
            Fault::Map(f) => {
                let from = conn.sides[1 - to].node.clone();
                frame = f(index, &from, frame);
            }
            Fault::CutAt { from, frame: at } => {
                if conn.sides[1 - to].node == *from && from_index >= *at {
                    conn.closed = true;
                    conn.delivered_from[1 - to] -= 1;
                    for side in &mut conn.sides {
                        side.inbox.clear();
                    }
                    return true;
                }
            }
        }
        let name = conn.sides[to].node.clone();
        let Some(node) = self.nodes.get_mut(&name) else {
            return false;
        };
        let conn = &mut self.conns[c];
        let side = &mut conn.sides[to];
        match side.session.handle(&mut node.replica, &frame) {
            Ok(frames) => {
                if side.session.is_done() {
                    side.outcome = Outcome::Done(Box::new(side.session.report().clone()));
                }
                let out: Vec<Vec<u8>> = frames.into_iter().map(|f| f.into_bytes()).collect();
                conn.sides[1 - to].inbox.extend(out);
            }
            Err(e) => {
                let farewell = side.session.farewell().cloned();
                side.outcome = Outcome::Failed(e);
                side.inbox.clear();
                if let Some(f) = farewell {
                    conn.sides[1 - to].inbox.push_back(f.into_bytes());
                }
            }
        }
        true
    }

    /// How many frames each side of a connection had delivered to the other
    /// (in `connect` order), and whether the connection was cut.
    pub fn delivered(&self, conn: ConnId) -> ([usize; 2], bool) {
        let c = &self.conns[conn.0];
        (c.delivered_from, c.closed)
    }

    /// How both sides of a connection ended (in `connect` order).
    pub fn outcome(&self, conn: ConnId) -> (&Outcome, &Outcome) {
        let c = &self.conns[conn.0];
        (&c.sides[0].outcome, &c.sides[1].outcome)
    }

    /// Connects, runs until quiescent and returns both reports (in argument
    /// order), or a description of how it failed.
    pub fn sync(&mut self, a: &str, b: &str) -> Result<(SyncReport, SyncReport), String> {
        let conn = self.connect(a, b);
        self.run_until_quiescent();
        match self.outcome(conn) {
            (Outcome::Done(ra), Outcome::Done(rb)) => Ok(((**ra).clone(), (**rb).clone())),
            (x, y) => Err(format!("{a}: {x:?}; {b}: {y:?}")),
        }
    }

    /// Syncs the given pairs in order, repeatedly, until a whole pass moves
    /// no document; returns the number of passes. Panics after `max_passes`.
    pub fn sync_until_quiet(&mut self, pairs: &[(&str, &str)], max_passes: usize) -> usize {
        for pass in 1..=max_passes {
            let mut moved = false;
            for (a, b) in pairs {
                match self.sync(a, b) {
                    Ok((ra, rb)) => {
                        moved |= ra.docs_received + rb.docs_received > 0
                            || !ra.revoked.is_empty()
                            || !rb.revoked.is_empty()
                            || ra.tombstones_applied + rb.tombstones_applied > 0;
                    }
                    Err(e) => panic!("sync {a} <-> {b} failed: {e}"),
                }
            }
            if !moved {
                return pass;
            }
        }
        panic!("not quiet after {max_passes} passes");
    }
}
