//! Every long-running task the plugin spawns is registered here, so that stopping is one act:
//! fire the [`crate::shutdown::Shutdown`] the tasks watch, then [`TaskTracker::wait`] for all of
//! them, instead of leaving detached tasks to die with the runtime.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A registered task: its name and its handle.
type Tracked = (&'static str, JoinHandle<()>);

/// Cheap to clone; all clones track the same set of tasks.
#[derive(Clone, Default)]
pub struct TaskTracker {
    tasks: Arc<Mutex<Vec<Tracked>>>,
}

impl TaskTracker {
    pub fn new() -> TaskTracker {
        TaskTracker::default()
    }

    /// Spawns `task` and registers it under `name` (named in the log if it outlives the drain).
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Finished tasks are dropped here, so a long-lived tracker does not grow.
        tasks.retain(|(_, handle)| !handle.is_finished());
        tasks.push((name, handle));
    }

    /// Awaits every task registered so far (and any they register meanwhile) for up to `limit`;
    /// returns the names of those still running then, which are aborted.
    pub async fn wait(&self, limit: Duration) -> Vec<&'static str> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let next = {
                let mut tasks = self
                    .tasks
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                tasks.pop()
            };
            let Some((name, mut handle)) = next else {
                return Vec::new();
            };
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                let mut late = vec![name];
                let rest = std::mem::take(
                    &mut *self
                        .tasks
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()),
                );
                for (name, handle) in rest {
                    if !handle.is_finished() {
                        handle.abort();
                        late.push(name);
                    }
                }
                return late;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shutdown::Shutdown;

    #[tokio::test]
    async fn wait_returns_once_every_task_has_stopped() {
        let tracker = TaskTracker::new();
        let stop = Shutdown::new();
        for _ in 0..3 {
            let stop = stop.clone();
            tracker.spawn("watcher", async move { stop.wait().await });
        }
        stop.trigger();
        assert!(tracker.wait(Duration::from_secs(5)).await.is_empty());
    }

    #[tokio::test]
    async fn a_task_that_does_not_stop_is_named_and_aborted() {
        let tracker = TaskTracker::new();
        tracker.spawn("stuck", std::future::pending());
        tracker.spawn("quick", async {});
        let late = tracker.wait(Duration::from_millis(50)).await;
        assert_eq!(late, vec!["stuck"]);
    }
}
