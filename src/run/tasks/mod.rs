//! Background tasks, and the one runner they all run under.
//!
//! A task is a round of work done again and again: at once after a busy round, else when
//! something wakes it or its poll comes due. The runner starts every task, logs every error a
//! round returns (the task tries again at its next poll), and stops them on shutdown: every
//! round ends, then each task's own `stop` runs, the last started first (a bulk worker waits
//! for its items, the process manager settles what they produced, the read models catch up).
pub mod billing;
pub mod bulk_worker;
pub mod process_manager;
pub mod read_models;
pub mod reaper;
pub mod sweeper;
pub mod webhooks;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{select_all, FutureExt};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::usecases::error_chain;

pub type TaskError = Box<dyn std::error::Error + Send + Sync>;

/// What a round found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Nothing more to do now: wait for a wake-up or the poll.
    Idle,
    /// There may be more: go again at once.
    Busy,
}

#[async_trait::async_trait]
pub trait Task: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// How long to wait after an idle or failed round when nothing wakes the task.
    fn poll(&self) -> Duration;

    /// What wakes the task before its poll comes due.
    fn wakers(&self) -> Vec<Arc<Notify>> {
        Vec::new()
    }

    /// How long a woken task waits before its round, so that work arriving together (the
    /// commits of concurrent requests) is done in one round.
    fn gather(&self) -> Duration {
        Duration::ZERO
    }

    async fn round(&self) -> Result<Round, TaskError>;

    /// Finishes cleanly once the task's loop has ended, within `grace`: work in hand is
    /// waited for or handed back.
    async fn stop(&self, _grace: Duration) -> Result<(), TaskError> {
        Ok(())
    }
}

/// The running tasks.
pub struct Runner {
    running: Vec<Running>,
}

struct Running {
    task: Arc<dyn Task>,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Runner {
    /// Starts every task, in order.
    pub fn start(tasks: Vec<Arc<dyn Task>>) -> Runner {
        let running = tasks
            .into_iter()
            .map(|task| {
                let stop = watch::Sender::new(false);
                let handle = tokio::spawn(run(Arc::clone(&task), stop.subscribe()));
                Running { task, stop, handle }
            })
            .collect();
        Runner { running }
    }

    /// Stops the tasks. Every task is told at once to end its round, and the rounds get
    /// `grace` in all; then each task's own `stop` runs, the last started first, with what is
    /// left of `grace` (and [`STOP_FLOOR`] more to finish): the bulk worker waits for its
    /// items, then the process manager settles what they produced and the read models catch up.
    pub async fn stop(self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        for running in &self.running {
            running.stop.send_replace(true);
        }
        let mut stopped = Vec::with_capacity(self.running.len());
        for mut running in self.running {
            if tokio::time::timeout_at(deadline, &mut running.handle)
                .await
                .is_err()
            {
                tracing::warn!(
                    task = running.task.name(),
                    "a round was still running at the end of the grace period"
                );
                running.handle.abort();
            }
            stopped.push(running.task);
        }
        for task in stopped.into_iter().rev() {
            // A task's stop may wait up to what is left of the grace period, then needs a
            // moment to hand back what it holds: it gets that moment on top.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left + STOP_FLOOR, task.stop(left)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(task = task.name(), error = %error_chain(&*e), "stopping failed")
                }
                Err(_) => tracing::warn!(task = task.name(), "stopping took too long"),
            }
        }
    }
}

/// What a task's `stop` gets beyond what is left of the grace period: enough to hand back what
/// it holds, or to settle and catch up what is already committed.
pub const STOP_FLOOR: Duration = Duration::from_secs(10);

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

async fn run(task: Arc<dyn Task>, mut stop: watch::Receiver<bool>) {
    let name = task.name();
    loop {
        if *stop.borrow() {
            return;
        }
        // Listening before looking: a wake-up sent during the round is not lost.
        let wakers = task.wakers();
        let mut woken: Vec<_> = wakers.iter().map(|n| Box::pin(n.notified())).collect();
        for notified in &mut woken {
            notified.as_mut().enable();
        }
        // A round that panics is logged like one that fails: the task goes on at its poll.
        match AssertUnwindSafe(task.round()).catch_unwind().await {
            Ok(Ok(Round::Busy)) => continue,
            Ok(Ok(Round::Idle)) => {}
            Ok(Err(e)) => {
                tracing::error!(task = name, error = %error_chain(&*e), "round failed; trying again")
            }
            Err(panic) => tracing::error!(
                task = name,
                panic = panic_message(panic.as_ref()),
                "round panicked; trying again"
            ),
        }
        let any_wake = async {
            if woken.is_empty() {
                std::future::pending::<()>().await
            } else {
                select_all(woken.into_iter().map(FutureExt::boxed)).await;
            }
        };
        let was_woken = tokio::select! {
            () = any_wake => true,
            () = tokio::time::sleep(task.poll()) => false,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        if was_woken && !task.gather().is_zero() {
            tokio::select! {
                () = tokio::time::sleep(task.gather()) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its rounds; of every three, one fails and one panics; stop records that it ran.
    struct Counting {
        rounds: AtomicUsize,
        wake: Arc<Notify>,
        stopped: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Task for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn poll(&self) -> Duration {
            Duration::from_secs(3600)
        }
        fn wakers(&self) -> Vec<Arc<Notify>> {
            vec![Arc::clone(&self.wake)]
        }
        async fn round(&self) -> Result<Round, TaskError> {
            let n = self.rounds.fetch_add(1, Ordering::SeqCst);
            match n % 3 {
                1 => Err("a failed round".into()),
                2 => panic!("a panicking round"),
                _ => Ok(Round::Idle),
            }
        }
        async fn stop(&self, _grace: Duration) -> Result<(), TaskError> {
            self.stopped.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_task_runs_when_woken_survives_its_errors_and_stops() {
        let task = Arc::new(Counting {
            rounds: AtomicUsize::new(0),
            wake: Arc::new(Notify::new()),
            stopped: AtomicUsize::new(0),
        });
        let runner = Runner::start(vec![task.clone() as Arc<dyn Task>]);
        // Only to fail rather than hang if the task died.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for expected in 1..=6 {
            // Each wake-up is one more round, failed, panicked or not; the poll is an hour away.
            while task.rounds.load(Ordering::SeqCst) < expected {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the task stopped at round {expected}"
                );
                task.wake.notify_one();
                tokio::task::yield_now().await;
            }
        }
        runner.stop(Duration::from_secs(5)).await;
        assert_eq!(task.stopped.load(Ordering::SeqCst), 1);
        let after = task.rounds.load(Ordering::SeqCst);
        task.wake.notify_one();
        tokio::task::yield_now().await;
        assert_eq!(
            task.rounds.load(Ordering::SeqCst),
            after,
            "no round after stop"
        );
    }

    /// Waits out what is left of the grace period, then hands back what it holds, which takes
    /// a moment (a round trip to the database).
    struct Holding {
        handed_back: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Task for Holding {
        fn name(&self) -> &'static str {
            "holding"
        }
        fn poll(&self) -> Duration {
            Duration::from_secs(3600)
        }
        async fn round(&self) -> Result<Round, TaskError> {
            Ok(Round::Idle)
        }
        async fn stop(&self, grace: Duration) -> Result<(), TaskError> {
            tokio::time::sleep(grace).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.handed_back.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A task whose stop uses the whole grace period still gets to hand back what it holds.
    #[tokio::test(start_paused = true)]
    async fn a_stop_that_uses_the_grace_period_still_finishes() {
        let task = Arc::new(Holding {
            handed_back: AtomicUsize::new(0),
        });
        let runner = Runner::start(vec![task.clone() as Arc<dyn Task>]);
        tokio::task::yield_now().await;
        runner.stop(Duration::from_secs(30)).await;
        assert_eq!(task.handed_back.load(Ordering::SeqCst), 1);
    }
}
