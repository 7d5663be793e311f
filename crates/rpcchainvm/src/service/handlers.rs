//! The `http.HTTP` servers of a VM's handlers: one per distinct [`SharedHandler`], started on
//! first use and reused for every later prefix or call that returns the same handler.

use super::http::serve_http;
use crate::http::SharedHandler;
use crate::observe::SharedObserver;
use crate::protocol::Profile;
use crate::shutdown::Shutdown;
use crate::tasks::TaskTracker;
use std::net::SocketAddr;

pub(crate) struct HandlerServers {
    profile: Profile,
    observer: SharedObserver,
    tasks: TaskTracker,
    /// Stops every server of this set.
    stop: Shutdown,
    served: tokio::sync::Mutex<Vec<(SharedHandler, SocketAddr)>>,
}

impl HandlerServers {
    pub(crate) fn new(
        profile: Profile,
        observer: SharedObserver,
        tasks: TaskTracker,
        stop: Shutdown,
    ) -> HandlerServers {
        HandlerServers {
            profile,
            observer,
            tasks,
            stop,
            served: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// The address of `handler`'s server, starting it if it has none yet. Concurrent callers
    /// with the same handler share one server.
    pub(crate) async fn addr_of(&self, handler: &SharedHandler) -> std::io::Result<SocketAddr> {
        let mut served = self.served.lock().await;
        if let Some((_, addr)) = served.iter().find(|(known, _)| known.same_as(handler)) {
            return Ok(*addr);
        }
        let addr = serve_http(
            handler.clone(),
            self.profile,
            self.observer.clone(),
            self.stop.clone(),
            &self.tasks,
        )
        .await?;
        served.push((handler.clone(), addr));
        Ok(addr)
    }

    /// Stops every server of this set (they finish as tracked tasks).
    pub(crate) fn stop(&self) {
        self.stop.trigger();
    }
}
