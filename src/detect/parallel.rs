//! Running a build's independent jobs (compiling the TOML detector files, parsing the Sigma
//! YAML: most of a cold start) on two threads.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads that run the jobs (the machines this runs on have one to a few cores; the work is
/// 10 to 30 ms).
const WORKERS: usize = 2;

/// Stack of those threads: a main thread's (the YAML parser recurses on nested conditions,
/// and a spawned thread's default stack is a quarter of that).
const STACK: usize = 8 << 20;

/// `job(i)` for every `i` below `sizes.len()`, in order of `i`. [`WORKERS`] threads take the
/// next job from one queue, the largest (by `sizes`) first, so that they finish together.
/// A job no thread finished (no thread to be had, or a panic in it) is run on the calling
/// thread, where a panic propagates as it would have without the threads.
pub(super) fn map_largest_first<T: Send + Sync>(
    sizes: &[usize],
    job: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let done: Vec<OnceLock<T>> = sizes.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let _ = done[i].set(job(i));
        }
    };
    std::thread::scope(|s| {
        // The work runs on threads with a main thread's stack, whatever thread asked for it (a
        // runtime's worker thread has a quarter of that).
        let workers: Vec<_> = (0..WORKERS.min(sizes.len()))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
    });
    done.into_iter()
        .enumerate()
        .map(|(i, d)| d.into_inner().unwrap_or_else(|| job(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_job_order_whatever_the_sizes() {
        let sizes = [3, 900, 1, 1, 50, 7, 0, 900];
        let out = map_largest_first(&sizes, |i| (i, sizes[i] * 2));
        assert_eq!(
            out,
            (0..sizes.len())
                .map(|i| (i, sizes[i] * 2))
                .collect::<Vec<_>>()
        );
        assert!(map_largest_first(&[], |i| i).is_empty());
    }

    #[test]
    fn a_job_that_panics_on_a_worker_panics_on_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            map_largest_first(&[1, 2, 3], |i| {
                assert!(i != 1, "job 1 fails");
                i
            })
        });
        assert!(caught.is_err());
    }
}
