//! Independent jobs run on tasks of their own, a bounded number at a time: the commit's
//! steps that do not wait on each other (lake tables transformed, entities diffed, CSVs
//! exported) keep both cores busy this way, while the bound keeps their memory to that of
//! a few jobs.

use std::future::Future;

use crate::error::{Error, Result};

/// Runs each of `jobs` on a tokio task of its own, at most `at_once` at a time, started in
/// the order given; returns their results in that order, or the first error. The jobs still
/// running when one fails are stopped. `what` names the work in the error of a job that
/// panicked.
pub async fn run_at_most<T, F>(at_once: usize, what: &str, jobs: impl IntoIterator<Item = F>) -> Result<Vec<T>>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut pending = jobs.into_iter().enumerate();
    let mut results: Vec<Option<T>> = Vec::new();
    // Dropped on an error, the set aborts the jobs still running.
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < at_once.max(1) {
            let Some((index, job)) = pending.next() else {
                break;
            };
            results.push(None);
            running.spawn(async move { (index, job.await) });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (index, result) = done.map_err(|source| Error::Task {
            what: what.to_string(),
            source,
        })?;
        results[index] = Some(result?);
    }
    // The set is empty only once every job started has been joined, and jobs are started
    // until none is left: every slot holds its result.
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_come_in_job_order_and_no_more_than_the_bound_run_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8u64).map(|i| {
            let (running, most) = (running.clone(), most.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Later jobs finish first, so the order of the results is not the order of
                // their ends.
                tokio::time::sleep(std::time::Duration::from_millis(40 - 5 * i)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(i * 10)
            }
        });
        let results = run_at_most(3, "test jobs", jobs).await.unwrap();
        assert_eq!(results, (0..8).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_first_error_is_returned_and_a_panic_is_named() {
        let jobs = (0..4).map(|i| async move {
            match i {
                2 => Err(Error::Schema("job 2 failed".into())),
                _ => Ok(i),
            }
        });
        let err = run_at_most(2, "test jobs", jobs).await.unwrap_err();
        assert!(err.to_string().contains("job 2 failed"), "{err}");

        let jobs = (0..2).map(|i| async move {
            if i == 1 {
                panic!("job 1 panicked");
            }
            Ok(i)
        });
        let err = run_at_most(2, "test jobs", jobs).await.unwrap_err();
        assert!(err.to_string().contains("test jobs stopped"), "{err}");
    }
}
