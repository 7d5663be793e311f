//! One shutdown signal that every long-running task watches: the gRPC servers, the actors' timers,
//! the HTTP gateway. Triggering it is idempotent; waiting on it after it fired returns at once.

use tokio::sync::watch;

/// Cheap to clone; all clones observe the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
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
        }
    }

    /// Asks everything watching to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once `trigger` has been called (immediately if it already was).
    pub async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|fired| *fired).await;
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
}
