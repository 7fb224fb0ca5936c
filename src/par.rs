//! Parallel fan-out, in one place. Every thread the compiler starts comes
//! from here, with [`STACK_SIZE`] of stack (parsing and evaluation are
//! recursive). Results come back in input order, so output never depends on
//! scheduling (invariant 3); a worker that panicked yields `None` for its
//! items and the caller says what failed.

/// Stack size of the compiler's worker threads. Parsing and evaluation are
/// recursive; nesting is capped at [`crate::syntax::MAX_DEPTH`], and this
/// leaves a wide margin even in debug builds (only touched pages are
/// committed).
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

thread_local! {
    /// Whether this thread was started by [`spawn_in`] (has [`STACK_SIZE`]).
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    /// Whether fan-outs asked for on this thread run here, in order (see
    /// [`set_serial`]).
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run every later fan-out asked for on this thread ([`each`], [`map`],
/// [`parts`]) here, in order, or (`false`) on threads again. For a small
/// project: each thread costs some 0.1–0.2 ms to start (its stack, signal
/// stack, allocator heap), more than evaluating a small env, and a
/// three-env `check` started nine. Only a thread with [`STACK_SIZE`] of
/// stack runs work here; on another, fan-outs still start threads.
pub fn set_serial(on: bool) {
    SERIAL.with(|s| s.set(on));
}

/// Whether fan-outs run on this thread (see [`set_serial`]).
fn serial() -> bool {
    big_stack() && SERIAL.with(std::cell::Cell::get)
}

/// Whether this thread already has [`STACK_SIZE`] of stack: then work for
/// one thread runs here (with [`caught`]), since starting a thread costs
/// more than a small project's whole check.
fn big_stack() -> bool {
    BIG_STACK.with(std::cell::Cell::get)
}

/// The work left in `cell` by a spawn: run by the new thread, or here when
/// no thread could be made (whichever takes it first).
fn taken<F>(cell: &std::sync::Mutex<Option<F>>) -> Option<F> {
    cell.lock().ok().and_then(|mut g| g.take())
}

/// `f`, with a panic giving `None` as a worker's does.
fn caught<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Run `f` on a scoped thread with [`STACK_SIZE`] of stack (inline if the
/// thread cannot be created).
pub fn spawn_in<'scope, 'env, T, F>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    f: F,
) -> Worker<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    let cell = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let c2 = cell.clone();
    let spawned = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn_scoped(scope, move || {
            BIG_STACK.with(|b| b.set(true));
            let f = taken(&c2);
            f.map(|f| f())
        });
    match spawned {
        Ok(h) => Worker::Thread(h),
        Err(_) => {
            let f = taken(&cell);
            Worker::Done(f.map(|f| f()))
        }
    }
}

/// Run `f` on a scoped thread with [`STACK_SIZE`] of stack, or `None`
/// when no thread can be made (for work that must run beside the caller,
/// which [`spawn_in`]'s inline fallback would run first).
pub fn try_spawn_in<'scope, 'env, T, F>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    f: F,
) -> Option<std::thread::ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn_scoped(scope, move || {
            BIG_STACK.with(|b| b.set(true));
            f()
        })
        .ok()
}

/// A unit of work started by [`spawn_in`].
pub enum Worker<'scope, T> {
    /// Running on its own thread.
    Thread(std::thread::ScopedJoinHandle<'scope, Option<T>>),
    /// Already run inline.
    Done(Option<T>),
}

impl<T> Worker<'_, T> {
    /// Wait for the result (`None` if the work panicked).
    pub fn join(self) -> Option<T> {
        match self {
            Worker::Thread(h) => h.join().ok().flatten(),
            Worker::Done(v) => v,
        }
    }
}

/// Run `f` on one big-stack thread and wait for it (here, if this is one).
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    if big_stack() {
        return caught(f);
    }
    std::thread::scope(|scope| spawn_in(scope, f).join())
}

/// [`run`] for a process's last work (`main`'s verb): the thread is never
/// joined, and the process exits while it waits. At a thread's end the C
/// library hands its whole unused stack back to the system and then unmaps
/// it: two system calls over [`STACK_SIZE`] of address space that the
/// exit does anyway (about 0.1 ms of a 3 ms trivial `check`).
pub fn run_to_exit<T, F>(f: F) -> Option<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cell = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let c2 = cell.clone();
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            BIG_STACK.with(|b| b.set(true));
            let f = taken(&c2);
            let _ = send.send(f.and_then(caught));
            // Parked until the process exits (a spurious wake-up parks again).
            loop {
                std::thread::park();
            }
        });
    match spawned {
        Ok(_) => receive.recv().ok().flatten(),
        Err(_) => {
            let f = taken(&cell);
            f.and_then(caught)
        }
    }
}

/// The cores this process may use, asked once: the standard library reads
/// the cgroup's CPU quota from four files each time it is asked, and a
/// small project asked four times (a sixth of a trivial `check`'s system
/// calls).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// How many workers to use for `n` items: the cores, at most `n`, at least 1.
pub fn workers(n: usize) -> usize {
    cores().min(n).max(1)
}

/// `f` over every item, one thread per item (for a few large items: envs).
pub fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
    each_owned(items.iter().collect(), f)
}

/// `f` over every item, one thread per item, items moved in (for a few
/// large items: three envs on two cores then share both cores to the end,
/// where [`map`]'s buckets would leave one idle for a third of the time).
pub fn each_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<Option<R>> {
    if (items.len() == 1 && big_stack()) || serial() {
        return items.into_iter().map(|item| caught(|| f(item))).collect();
    }
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| spawn_in(scope, move || f(item)))
            .collect();
        handles.into_iter().map(Worker::join).collect()
    })
}

/// `f` over every item on [`workers`] threads, item `i` on worker
/// `i % workers` (for many small items: files). Items are moved in.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<Option<R>> {
    let n = items.len();
    let w = workers(n);
    if (w == 1 && big_stack()) || serial() {
        return items.into_iter().map(|item| caught(|| f(item))).collect();
    }
    let mut buckets: Vec<Vec<(usize, T)>> = (0..w).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        if let Some(b) = buckets.get_mut(i % w) {
            b.push((i, item));
        }
    }
    let mut slots: Vec<Option<R>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|bucket| {
                spawn_in(scope, move || {
                    bucket
                        .into_iter()
                        .map(|(i, item)| (i, f(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().unwrap_or_default() {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    });
    slots
}

/// `f` over every item, in order. From `min` items on, the items are cut
/// into one contiguous part per core, run at once and joined in order (a
/// part whose worker stopped is run again here, so a bug fails as it would
/// in one thread); below `min`, starting threads would cost more than it
/// saves.
pub fn parts<T: Sync, R: Send>(items: &[T], min: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < min.max(2) || serial() {
        return items.iter().map(&f).collect();
    }
    let size = items.len().div_ceil(workers(items.len())).max(1);
    let cut: Vec<&[T]> = items.chunks(size).collect();
    let done = map(cut.clone(), |part: &[T]| {
        part.iter().map(&f).collect::<Vec<_>>()
    });
    cut.into_iter()
        .zip(done)
        .flat_map(|(part, done)| done.unwrap_or_else(|| part.iter().map(&f).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_keep_the_input_order() {
        let items: Vec<i32> = (0..1000).collect();
        for min in [0, 10, 2000] {
            let got = super::parts(&items, min, |i| i * 2);
            assert_eq!(got, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn results_keep_the_input_order() {
        let got = super::map((0..100).collect(), |i: i32| i * 2);
        let want: Vec<Option<i32>> = (0..100).map(|i| Some(i * 2)).collect();
        assert_eq!(got, want);
        let got = super::each(&[3, 1, 2], |i| i + 1);
        assert_eq!(got, vec![Some(4), Some(2), Some(3)]);
    }
}
