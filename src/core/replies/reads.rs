//! [`ReadQueue`]: the reply store's reads, gathered. A read asked for while another is on its
//! way waits for it to end and then goes with every read asked for meanwhile, in one
//! [`ReplyStore::get_replies`] (one transaction in the browser), so a batch's many runs
//! answered from the store cost a few reads between them instead of one each.
//!
//! No task of its own: the first caller to find no read on its way makes the next one, for
//! itself and every caller waiting, then leaves; a caller whose reply came is done, one still
//! waiting makes the following read.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::store::{ReplyStore, ReplyStoreError, StoredReply};

type ReadResult = Result<Option<StoredReply>, ReplyStoreError>;

/// One caller's read: the hash it wants and, once read, the answer.
struct Wanted {
    request_hash: String,
    answer: RefCell<Option<ReadResult>>,
    waker: RefCell<Option<Waker>>,
}

impl Wanted {
    fn answer(&self, result: ReadResult) {
        *self.answer.borrow_mut() = Some(result);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// The reads waiting for the store, and whether one is on its way.
#[derive(Default)]
pub struct ReadQueue {
    waiting: RefCell<Vec<Rc<Wanted>>>,
    reading: Cell<bool>,
}

impl std::fmt::Debug for ReadQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadQueue")
            .field("waiting", &self.waiting.borrow().len())
            .field("reading", &self.reading.get())
            .finish()
    }
}

/// The read on its way: if its maker is dropped before it ends (its run was cancelled), the
/// reads it carried for others go back to the queue and a waiting caller makes the next.
struct OnItsWay<'q> {
    queue: &'q ReadQueue,
    carried: Vec<Rc<Wanted>>,
}

impl Drop for OnItsWay<'_> {
    fn drop(&mut self) {
        let unanswered = self
            .carried
            .drain(..)
            .filter(|w| w.answer.borrow().is_none());
        self.queue.waiting.borrow_mut().extend(unanswered);
        self.queue.reading.set(false);
        // Every waiter looks again; the first to run makes the next read.
        for wanted in self.queue.waiting.borrow().iter() {
            if let Some(waker) = wanted.waker.borrow_mut().take() {
                waker.wake();
            }
        }
    }
}

impl ReadQueue {
    /// The reply stored under `request_hash`, read from `store` together with the other reads
    /// asked for while the last one was on its way.
    pub async fn read<S: ReplyStore>(&self, store: &S, request_hash: &str) -> ReadResult {
        let wanted = Rc::new(Wanted {
            request_hash: request_hash.to_string(),
            answer: RefCell::default(),
            waker: RefCell::default(),
        });
        self.waiting.borrow_mut().push(Rc::clone(&wanted));
        loop {
            if let Some(answer) = wanted.answer.borrow_mut().take() {
                return answer;
            }
            if !self.reading.replace(true) {
                self.read_waiting(store).await;
                continue;
            }
            std::future::poll_fn(|cx| {
                if wanted.answer.borrow().is_some() || !self.reading.get() {
                    Poll::Ready(())
                } else {
                    *wanted.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
    }

    /// Reads everything waiting in one go and answers each caller.
    async fn read_waiting<S: ReplyStore>(&self, store: &S) {
        let carried = std::mem::take(&mut *self.waiting.borrow_mut());
        let on_its_way = OnItsWay {
            queue: self,
            carried,
        };
        let hashes: Vec<String> = on_its_way
            .carried
            .iter()
            .map(|w| w.request_hash.clone())
            .collect();
        let result = store.get_replies(&hashes).await;
        match result {
            Ok(replies) => {
                let mut replies = replies.into_iter();
                for wanted in &on_its_way.carried {
                    // A store that answers fewer than asked leaves the rest as not stored.
                    wanted.answer(Ok(replies.next().flatten()));
                }
            }
            Err(error) => {
                for wanted in &on_its_way.carried {
                    wanted.answer(Err(error.clone()));
                }
            }
        }
        drop(on_its_way);
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Context;

    use super::*;
    use crate::core::llm::chat::HttpResponse;
    use crate::core::replies::MemoryReplyStore;

    /// A store whose reads stay open until the test lets them through, counting them.
    #[derive(Default)]
    struct GatedStore {
        inner: MemoryReplyStore,
        open: Cell<bool>,
        reads: RefCell<Vec<Vec<String>>>,
    }

    impl ReplyStore for GatedStore {
        async fn get_reply(&self, request_hash: &str) -> ReadResult {
            self.inner.get_reply(request_hash).await
        }
        async fn get_replies(
            &self,
            request_hashes: &[String],
        ) -> Result<Vec<Option<StoredReply>>, ReplyStoreError> {
            self.reads.borrow_mut().push(request_hashes.to_vec());
            std::future::poll_fn(|_| {
                if self.open.get() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            self.inner.get_replies(request_hashes).await
        }
        async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError> {
            self.inner.put_reply(reply).await
        }
        async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
            self.inner.stored_hashes().await
        }
    }

    fn reply(hash: &str) -> StoredReply {
        StoredReply {
            request_hash: hash.to_string(),
            request: "{}".to_string(),
            response: HttpResponse {
                status: 200,
                headers: vec![],
                body: format!("body of {hash}"),
            },
            usage: None,
            paid_by: "run_a".to_string(),
            stored_ms: 0.0,
        }
    }

    fn poll<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn reads_asked_for_while_one_is_on_its_way_go_together_in_the_next() {
        let store = GatedStore::default();
        for hash in ["a", "b", "c"] {
            let _ = poll(pin!(store.inner.put_reply(&reply(hash))));
        }
        let queue = ReadQueue::default();
        let mut first = pin!(queue.read(&store, "a"));
        let mut second = pin!(queue.read(&store, "b"));
        let mut third = pin!(queue.read(&store, "missing"));
        let mut fourth = pin!(queue.read(&store, "c"));
        assert!(poll(first.as_mut()).is_pending());
        assert!(poll(second.as_mut()).is_pending());
        assert!(poll(third.as_mut()).is_pending());
        assert!(poll(fourth.as_mut()).is_pending());
        assert_eq!(*store.reads.borrow(), vec![vec!["a".to_string()]]);
        store.open.set(true);
        let Poll::Ready(Ok(Some(a))) = poll(first.as_mut()) else {
            panic!("the first read is answered once the store lets it through")
        };
        assert_eq!(a.response.body, "body of a");
        // The next waiter makes one read for all three waiting.
        let Poll::Ready(Ok(Some(b))) = poll(second.as_mut()) else {
            panic!("the second read is answered")
        };
        assert_eq!(b.response.body, "body of b");
        assert!(matches!(poll(third.as_mut()), Poll::Ready(Ok(None))));
        let Poll::Ready(Ok(Some(c))) = poll(fourth.as_mut()) else {
            panic!("the fourth read is answered")
        };
        assert_eq!(c.response.body, "body of c");
        assert_eq!(
            *store.reads.borrow(),
            vec![
                vec!["a".to_string()],
                vec!["b".to_string(), "missing".to_string(), "c".to_string()],
            ],
            "two reads for four callers"
        );
    }

    #[test]
    fn a_caller_dropped_while_its_read_carries_others_hands_them_on() {
        let store = GatedStore::default();
        let _ = poll(pin!(store.inner.put_reply(&reply("b"))));
        let queue = ReadQueue::default();
        let mut leader = Box::pin(queue.read(&store, "x"));
        let mut carrier = Box::pin(queue.read(&store, "a"));
        let mut waiter = Box::pin(queue.read(&store, "b"));
        assert!(poll(leader.as_mut()).is_pending());
        assert!(poll(carrier.as_mut()).is_pending());
        assert!(poll(waiter.as_mut()).is_pending());
        store.open.set(true);
        assert!(matches!(poll(leader.as_mut()), Poll::Ready(Ok(None))));
        store.open.set(false);
        // "a" makes the next read, carrying "b" too, and is cancelled before it ends.
        assert!(poll(carrier.as_mut()).is_pending());
        assert_eq!(store.reads.borrow().len(), 2);
        assert_eq!(
            store.reads.borrow()[1],
            vec!["a".to_string(), "b".to_string()]
        );
        drop(carrier);
        store.open.set(true);
        let Poll::Ready(Ok(Some(b))) = poll(waiter.as_mut()) else {
            panic!("the read it was carried in is gone, so it makes its own")
        };
        assert_eq!(b.response.body, "body of b");
    }
}
