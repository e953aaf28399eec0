//! Blocking work behind a future that any executor can await.
//!
//! The SDK's transport is blocking (ureq, with JSON-RPC batching, idempotency-aware
//! retries and per-round-trip statistics). Rather than tie the SDK to one async runtime,
//! each blocking step of the [`super::Wallet`] runs on a thread of its own and hands its
//! result to a future: an executor thread polling it never waits on the network, and
//! tokio, async-std, smol or a hand-rolled `block_on` all drive it the same way.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll, Waker},
    thread,
};

type Outcome<T> = thread::Result<T>;

struct Slot<T> {
    outcome: Option<Outcome<T>>,
    waker: Option<Waker>,
}

/// The result of blocking work running on its own thread (see [`unblock`]).
#[must_use = "the work runs either way, but its result is only had by awaiting this"]
pub struct Unblock<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> std::fmt::Debug for Unblock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unblock").finish_non_exhaustive()
    }
}

/// Run `work` on a new thread; the returned future resolves to what it returns (and
/// re-raises its panic, if it panics). No runtime is needed to start it, and dropping
/// the future does not stop the work: a UserOperation already sent still lands.
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct T(std::thread::Thread);
/// #     impl Wake for T { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
/// #     let w = Waker::from(std::sync::Arc::new(T(std::thread::current())));
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&w)) { return v } std::thread::park() }
/// # }
/// let answer = block_on(namera::wallet::unblock(|| 6 * 7));
/// assert_eq!(answer, 42);
/// ```
pub fn unblock<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Unblock<T> {
    let slot = Arc::new(Mutex::new(Slot { outcome: None, waker: None }));
    let done = slot.clone();
    let run = move || {
        let outcome = catch_unwind(AssertUnwindSafe(work));
        let waker = {
            let mut s = done.lock().unwrap_or_else(PoisonError::into_inner);
            s.outcome = Some(outcome);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    };
    // Spawning fails only when the system is out of threads; then the work runs here,
    // late rather than never.
    if let Err(e) = thread::Builder::new().name("namera-io".into()).spawn_unchecked_fallback(run) {
        e();
    }
    Unblock { slot }
}

/// `thread::Builder::spawn`, handing the closure back when no thread could be made.
trait SpawnFallback {
    fn spawn_unchecked_fallback<F: FnOnce() + Send + 'static>(self, f: F) -> Result<(), F>;
}

impl SpawnFallback for thread::Builder {
    fn spawn_unchecked_fallback<F: FnOnce() + Send + 'static>(self, f: F) -> Result<(), F> {
        // The closure is moved into an Option so it can be recovered if spawning fails.
        let cell = Arc::new(Mutex::new(Some(f)));
        let inner = cell.clone();
        let spawned = self.spawn(move || {
            let f = inner.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(f) = f {
                f();
            }
        });
        match spawned {
            Ok(_) => Ok(()),
            Err(_) => {
                let f = cell.lock().unwrap_or_else(PoisonError::into_inner).take();
                f.map_or(Ok(()), Err)
            }
        }
    }
}

impl<T> Future for Unblock<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match s.outcome.take() {
            Some(Ok(v)) => Poll::Ready(v),
            Some(Err(panic)) => {
                drop(s);
                resume_unwind(panic)
            }
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
