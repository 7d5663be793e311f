//! The VM's one stop signal and the tasks its actors spawn (timers, watchers, the builder's
//! builds and notifications). Every task ends when the signal fires, and stopping the VM awaits
//! them all, so nothing an actor started outlives it.

use ractor::ActorRef;
use rpcchainvm::shutdown::Shutdown;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// Cheap to clone; all clones share the signal and the set of tasks.
#[derive(Clone)]
pub struct Tasks {
    stop: Shutdown,
    running: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Tasks {
    /// Tasks that stop when `stop` fires.
    pub fn new(stop: Shutdown) -> Tasks {
        Tasks {
            stop,
            running: Arc::default(),
        }
    }

    /// The signal every actor and task watches.
    pub fn stop_signal(&self) -> &Shutdown {
        &self.stop
    }

    /// Runs `task` until it ends or the stop signal fires, whichever comes first. Spawned after
    /// the signal fired, it does not run at all.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        let handle = tokio::spawn(async move {
            tokio::select! {
                biased;
                () = stop.wait() => {}
                () = task => {}
            }
        });
        let mut running = self.lock();
        // Finished tasks leave here, so a long run's many short tasks do not pile up.
        running.retain(|task| !task.is_finished());
        running.push(handle);
    }

    /// Sends `msg()` to `actor` every `period` (first after one period), until the signal fires
    /// or the actor is gone.
    pub fn every<M: ractor::Message>(
        &self,
        period: Duration,
        actor: ActorRef<M>,
        msg: impl Fn() -> M + Send + 'static,
    ) {
        self.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if actor.cast(msg()).is_err() {
                    break;
                }
            }
        });
    }

    /// Fires the signal and waits for every task spawned here to end.
    pub async fn stop_and_join(&self) {
        self.stop.trigger();
        loop {
            let running = std::mem::take(&mut *self.lock());
            if running.is_empty() {
                return;
            }
            for task in running {
                // A task that panicked has ended too; its panic was already reported by tokio.
                let _ = task.await;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        // The list stays valid even if a holder panicked: each entry is a whole handle.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn stop_ends_and_awaits_every_task() {
        let tasks = Tasks::new(Shutdown::new());
        // A task that never ends by itself: only the signal ends it, or the join below hangs.
        tasks.spawn(std::future::pending::<()>());
        let joined = tokio::time::timeout(Duration::from_secs(5), tasks.stop_and_join()).await;
        assert!(joined.is_ok(), "a task outlived the stop signal");
        assert!(tasks.stop_signal().is_triggered());
        assert!(tasks.lock().is_empty());
        // Spawned after the signal: never runs.
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        tasks.spawn(async move { flag.store(true, Ordering::SeqCst) });
        tasks.stop_and_join().await;
        assert!(!ran.load(Ordering::SeqCst));
    }
}
