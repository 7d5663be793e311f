//! One shutdown signal that every long-running task watches: the gRPC servers, the actors' timers,
//! the HTTP gateway. Triggering it is idempotent; waiting on it after it fired returns at once.
//! Signals form a tree ([`Shutdown::child`]): the process's stop also stops a chain's servers,
//! while the chain's stop (the node's Shutdown) leaves the process's own tasks running.

use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// Cheap to clone; all clones observe the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
    /// The signal this one follows, if it is a [`Shutdown::child`].
    parent: Option<Box<Shutdown>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        let (sender, _) = watch::channel(false);
        Shutdown {
            sender: std::sync::Arc::new(sender),
            parent: None,
        }
    }

    /// A signal that fires when this one does, or when triggered itself (without firing this one).
    pub fn child(&self) -> Shutdown {
        Shutdown {
            parent: Some(Box::new(self.clone())),
            ..Shutdown::new()
        }
    }

    /// Asks everything watching to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow() || self.parent.as_ref().is_some_and(|p| p.is_triggered())
    }

    /// Resolves once `trigger` has been called here or on an ancestor (immediately if it already
    /// was). Boxed, because a child's wait awaits its parent's.
    pub fn wait(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut receiver = self.sender.subscribe();
        Box::pin(async move {
            // An error means the sender is gone, which cannot happen while `self` holds it.
            let own = receiver.wait_for(|fired| *fired);
            match &self.parent {
                None => {
                    let _ = own.await;
                }
                Some(parent) => {
                    tokio::select! {
                        _ = own => {}
                        () = parent.wait() => {}
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_after_trigger_even_if_late() {
        let shutdown = Shutdown::new();
        let clone = shutdown.clone();
        let waiter = tokio::spawn(async move { clone.wait().await });
        shutdown.trigger();
        waiter.await.unwrap();
        // Waiting after the fact returns at once.
        shutdown.wait().await;
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn a_child_follows_its_parent_but_not_the_other_way() {
        let root = Shutdown::new();
        let chain = root.child();
        let server = chain.child();
        chain.trigger();
        server.wait().await;
        assert!(!root.is_triggered());
        let other = root.child();
        root.trigger();
        other.wait().await;
        assert!(other.is_triggered());
    }
}
