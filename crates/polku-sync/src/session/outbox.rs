//! Packs one turn's messages into frames.

use crate::protocol::{DocMessage, Frame, MAX_DOCS_PER_FRAME, Message, TARGET_FRAME_LEN};

/// Where a streaming session hands each frame of a turn as soon as it is
/// complete (the transport writes it while the rest of the turn is built).
pub struct Sink(Box<dyn FnMut(Frame) + Send>);

impl Sink {
    /// A sink calling `f` with each frame, in order.
    pub fn new(f: impl FnMut(Frame) + Send + 'static) -> Self {
        Self(Box::new(f))
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

/// The frames of one turn being built. Per-document messages are batched
/// into frames of about [`TARGET_FRAME_LEN`] bytes and at most
/// [`MAX_DOCS_PER_FRAME`] documents. With a [`Sink`], every frame goes to it
/// as soon as it is complete instead of being kept.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    frames: Vec<Frame>,
    content: bool,
    docs: Vec<DocMessage>,
    docs_bytes: usize,
    sink: Option<Sink>,
    /// Frames and bytes handed to the sink.
    pub(super) streamed: (u64, u64),
}

impl Outbox {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// An outbox handing its frames to `sink`, if any.
    pub(super) fn with_sink(sink: Option<Sink>) -> Self {
        Self {
            sink,
            ..Self::default()
        }
    }

    /// The sink back, once the turn is finished.
    pub(super) fn take_sink(&mut self) -> Option<Sink> {
        self.sink.take()
    }

    fn emit(&mut self, frame: Frame) {
        match self.sink.as_mut() {
            Some(sink) => {
                self.streamed.0 += 1;
                self.streamed.1 += frame.len() as u64;
                (sink.0)(frame);
            }
            None => self.frames.push(frame),
        }
    }

    /// Adds a message as a frame of its own.
    pub(super) fn push(&mut self, msg: Message) {
        self.flush_docs();
        self.content = true;
        self.emit(msg.encode());
    }

    /// Adds items as one or more list frames of at most `per_frame` items;
    /// nothing when empty unless `always` (then one empty frame).
    pub(super) fn push_chunks<T: Clone>(
        &mut self,
        items: Vec<T>,
        per_frame: usize,
        make: impl Fn(Vec<T>) -> Message,
        always: bool,
    ) {
        if items.is_empty() {
            if always {
                self.push(make(Vec::new()));
            }
            return;
        }
        for chunk in items.chunks(per_frame.max(1)) {
            self.push(make(chunk.to_vec()));
        }
    }

    /// Adds one document's message to the current batch.
    pub(super) fn push_doc(&mut self, msg: DocMessage) {
        let len = msg.body.bytes().len() + 22;
        if !self.docs.is_empty()
            && (self.docs.len() >= MAX_DOCS_PER_FRAME || self.docs_bytes + len > TARGET_FRAME_LEN)
        {
            self.flush_docs();
        }
        self.content = true;
        self.docs_bytes += len;
        self.docs.push(msg);
    }

    fn flush_docs(&mut self) {
        if self.docs.is_empty() {
            return;
        }
        let docs = std::mem::take(&mut self.docs);
        self.docs_bytes = 0;
        self.emit(Message::DocSync(docs).encode());
    }

    /// Whether the turn holds anything so far.
    pub(super) fn has_content(&self) -> bool {
        self.content
    }

    /// Closes turn `turn`: the frames, and whether the turn was idle
    /// (nothing but its `TurnEnd`).
    pub(super) fn finish(&mut self, turn: u32) -> (Vec<Frame>, bool) {
        self.flush_docs();
        let idle = !self.content;
        self.emit(Message::TurnEnd { turn }.encode());
        (std::mem::take(&mut self.frames), idle)
    }

    /// The frames, without a `TurnEnd`.
    pub(super) fn into_frames(mut self) -> Vec<Frame> {
        self.flush_docs();
        self.frames
    }
}
