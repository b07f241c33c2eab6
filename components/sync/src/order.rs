//! Lock order checking (part of feature `tracking`).
//!
//! A lock's *class* is where it was created (`SpinLock::new`'s call site): every task's `vm`
//! lock is one class, every tmpfs inode's lock another. Each CPU keeps a stack of the locks
//! it holds (one CPU in the kernel today; one per thread on the host, where threads stand in
//! for CPUs), and the order graph records, for every pair of classes, whether a lock of the
//! second was ever taken while one of the first was held. Taking a lock of class B while
//! holding one of class A, when B-then-A was recorded before (directly, or through other
//! classes: B then C, C then A), is an order inversion: two CPUs doing the two orders at
//! once would deadlock, so it panics at once, naming both places, instead of waiting for the
//! unlucky timing.
//!
//! What is not checked: two locks of one class held together (a parent's and a child's
//! `vm`, two tmpfs directories in a rename) are not ordered against each other; the order
//! between them is the code's business. `try_lock` never waits, so it adds no order (the
//! lock it takes is held, and orders what comes after it). Interrupt handlers start an order
//! of their own ([`crate::interrupt_context`]): on one CPU, a handler cannot wait for the
//! code it interrupted, so the locks that code holds are not ordered before the handler's;
//! taking one of those very locks in the handler is a deadlock, and reported as one.
//!
//! Storage is fixed (no allocation: the heap may itself take locks): [`MAX_CLASSES`]
//! classes, [`MAX_EDGES`] recorded orders with the places they were first seen, a held stack
//! of [`MAX_HELD`] locks per CPU. Past the limits, new classes and orders go unchecked
//! ([`classes`] and [`orders`] say how many there are).

use core::fmt;
use core::panic::Location;
use core::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::atomic::AtomicCell;

/// A place in the source: where a lock was created or taken.
type Site = &'static Location<'static>;

/// Most lock classes tracked.
pub const MAX_CLASSES: usize = 256;
/// Most orders (pairs of classes) recorded with the places they were seen.
pub const MAX_EDGES: usize = 1024;
/// Most locks one CPU may hold at once.
pub const MAX_HELD: usize = 32;

const WORDS: usize = MAX_CLASSES / 64;

/// Class `i` was created at `CLASSES[i]`; filled in order, never emptied.
static CLASSES: [AtomicCell<Option<Site>>; MAX_CLASSES] =
    [const { AtomicCell::new(None) }; MAX_CLASSES];

/// `AFTER[a]` has bit `b` when a lock of class `b` was taken while one of class `a` was held.
static AFTER: [[AtomicU64; WORDS]; MAX_CLASSES] =
    [const { [const { AtomicU64::new(0) }; WORDS] }; MAX_CLASSES];

/// Where each recorded order was first seen.
struct Edge {
    /// (from, to) class indices + 1; 0 while the record is being written.
    from: AtomicU16,
    to: AtomicU16,
    /// Where the `from` lock was taken.
    held_at: AtomicCell<Option<Site>>,
    /// Where the `to` lock was taken while `from` was held.
    taken_at: AtomicCell<Option<Site>>,
}

static EDGES: [Edge; MAX_EDGES] = [const {
    Edge {
        from: AtomicU16::new(0),
        to: AtomicU16::new(0),
        held_at: AtomicCell::new(None),
        taken_at: AtomicCell::new(None),
    }
}; MAX_EDGES];
static EDGE_COUNT: AtomicUsize = AtomicUsize::new(0);

/// How many lock classes have been seen (at most [`MAX_CLASSES`] are tracked).
pub fn classes() -> usize {
    CLASSES.iter().take_while(|c| c.load().is_some()).count()
}

/// How many orders between two classes have been recorded.
pub fn orders() -> usize {
    EDGE_COUNT.load(Ordering::Relaxed).min(MAX_EDGES)
}

/// The index of the class created at `site`, registering it on first sight; `None` once
/// the table is full.
pub(crate) fn register(site: Site) -> Option<u16> {
    for (i, slot) in CLASSES.iter().enumerate() {
        match slot.compare_exchange(None, Some(site)) {
            Ok(_) => return Some(i as u16),
            Err(Some(other)) if *other == *site => return Some(i as u16),
            Err(_) => {}
        }
    }
    None
}

fn has_edge(from: u16, to: u16) -> bool {
    AFTER[usize::from(from)][usize::from(to) / 64].load(Ordering::Relaxed) & (1 << (to % 64)) != 0
}

fn add_edge(from: u16, to: u16, held_at: Site, taken_at: Site) {
    let bit = 1 << (to % 64);
    let old = AFTER[usize::from(from)][usize::from(to) / 64].fetch_or(bit, Ordering::Relaxed);
    if old & bit != 0 {
        return;
    }
    let n = EDGE_COUNT.fetch_add(1, Ordering::Relaxed);
    if let Some(edge) = EDGES.get(n) {
        edge.held_at.store(Some(held_at));
        edge.taken_at.store(Some(taken_at));
        edge.to.store(to + 1, Ordering::Relaxed);
        edge.from.store(from + 1, Ordering::Release);
    }
}

/// Calls `f` with every recorded order, as (the class held, the class taken after it, where
/// the held lock was taken, where the other was taken), in the order they were first seen.
pub(crate) fn for_each_order(mut f: impl FnMut(Site, Site, Site, Site)) {
    for edge in &EDGES[..orders()] {
        let (from, to) = (
            edge.from.load(Ordering::Acquire),
            edge.to.load(Ordering::Relaxed),
        );
        if from == 0 || to == 0 {
            continue;
        }
        let class = |i: u16| CLASSES[usize::from(i - 1)].load();
        if let (Some(held), Some(taken), Some(held_at), Some(taken_at)) = (
            class(from),
            class(to),
            edge.held_at.load(),
            edge.taken_at.load(),
        ) {
            f(held, taken, held_at, taken_at);
        }
    }
}

/// The places where the order `from` then `to` was first seen, if recorded.
fn edge_sites(from: u16, to: u16) -> Option<(Site, Site)> {
    EDGES[..orders()].iter().find_map(|edge| {
        let matches = edge.from.load(Ordering::Acquire) == from + 1
            && edge.to.load(Ordering::Relaxed) == to + 1;
        matches.then(|| Some((edge.held_at.load()?, edge.taken_at.load()?)))?
    })
}

/// Most classes of a chain a report names.
const MAX_PATH: usize = 16;

/// A chain of recorded orders from one class to another (its first [`MAX_PATH`] classes).
struct Path {
    nodes: [u16; MAX_PATH],
    len: usize,
}

/// The shortest chain of recorded orders from class `from` to class `to` (breadth first
/// over the order graph), if there is one. Only called for an order not seen before.
#[inline(never)]
fn path(from: u16, to: u16) -> Option<Path> {
    let mut parent = [u16::MAX; MAX_CLASSES];
    let mut queue = [0u16; MAX_CLASSES];
    let (mut head, mut tail) = (0, 1);
    queue[0] = from;
    parent[usize::from(from)] = from;
    while head < tail {
        let node = queue[head];
        head += 1;
        for (w, word) in AFTER[usize::from(node)].iter().enumerate() {
            let mut bits = word.load(Ordering::Relaxed);
            while bits != 0 {
                let next = (w * 64) as u16 + bits.trailing_zeros() as u16;
                bits &= bits - 1;
                if parent[usize::from(next)] != u16::MAX {
                    continue;
                }
                parent[usize::from(next)] = node;
                if next == to {
                    let mut reversed = [0u16; MAX_CLASSES];
                    let (mut len, mut at) = (0, to);
                    while at != from {
                        reversed[len] = at;
                        len += 1;
                        at = parent[usize::from(at)];
                    }
                    reversed[len] = from;
                    len += 1;
                    let mut nodes = [0u16; MAX_PATH];
                    for (slot, node) in nodes.iter_mut().zip(reversed[..len].iter().rev()) {
                        *slot = *node;
                    }
                    return Some(Path {
                        nodes,
                        len: len.min(MAX_PATH),
                    });
                }
                queue[tail] = next;
                tail += 1;
            }
        }
    }
    None
}

/// Whether there is a chain of recorded orders from class `from` to class `to`.
pub(crate) fn ordered(from: u16, to: u16) -> bool {
    from != to && path(from, to).is_some()
}

/// One held lock.
#[derive(Clone, Copy)]
struct Entry {
    /// The lock's address: which lock, not only which class.
    lock: usize,
    /// Its class, if registered.
    class: Option<u16>,
    /// Where it was taken.
    site: Site,
}

/// The locks one CPU holds, in the order taken. `base` is where the current interrupt
/// context starts: entries below it belong to the code it interrupted.
struct HeldStack {
    entries: [Option<Entry>; MAX_HELD],
    depth: usize,
    base: usize,
}

impl HeldStack {
    const fn new() -> Self {
        Self {
            entries: [None; MAX_HELD],
            depth: 0,
            base: 0,
        }
    }

    fn held(&self) -> impl Iterator<Item = Entry> + '_ {
        self.entries[..self.depth].iter().flatten().copied()
    }
}

#[cfg(not(target_os = "none"))]
std::thread_local! {
    /// On the host each thread is a CPU.
    static HELD: core::cell::RefCell<HeldStack> = const { core::cell::RefCell::new(HeldStack::new()) };
}

/// Runs `f` on this CPU's held stack (`None` while a host thread is being torn down).
#[cfg(not(target_os = "none"))]
fn with_held<R>(f: impl FnOnce(&mut HeldStack) -> R) -> Option<R> {
    HELD.try_with(|held| f(&mut held.borrow_mut())).ok()
}

/// The one CPU's held stack. Interrupts are off while it is used, so a handler never finds
/// it locked.
#[cfg(target_os = "none")]
static HELD: spin::mutex::SpinMutex<HeldStack> = spin::mutex::SpinMutex::new(HeldStack::new());

#[cfg(target_os = "none")]
fn with_held<R>(f: impl FnOnce(&mut HeldStack) -> R) -> Option<R> {
    let were_enabled = crate::irq_flag::are_enabled();
    crate::irq_flag::disable();
    let result = f(&mut HELD.lock());
    if were_enabled {
        crate::irq_flag::enable();
    }
    Some(result)
}

/// What taking a lock would do, found before it is taken.
enum Verdict {
    Fine,
    /// This CPU holds the lock already (since `held_at`): waiting for it never ends.
    Deadlock {
        held_at: Site,
    },
    /// Taking it (class `class`) while holding `held` (class `earlier`) reverses the recorded
    /// order `path`.
    Inversion {
        held: Entry,
        earlier: u16,
        class: u16,
        path: Path,
    },
}

/// Checks taking the lock at `lock` (class `class`) at `site` against the locks this CPU
/// holds, records the orders it adds, and panics on a deadlock or an order inversion.
/// Called before waiting for the lock, so an inversion is reported even when the other
/// order's holder is not around this time.
pub(crate) fn before_acquire(lock: usize, class: Option<u16>, site: Site) {
    let verdict = with_held(|held| {
        if let Some(entry) = held.held().find(|e| e.lock == lock) {
            return Verdict::Deadlock {
                held_at: entry.site,
            };
        }
        let Some(class) = class else {
            return Verdict::Fine;
        };
        for entry in held.entries[held.base..held.depth].iter().flatten() {
            let Some(earlier) = entry.class.filter(|&c| c != class) else {
                continue;
            };
            if has_edge(earlier, class) {
                continue;
            }
            if let Some(path) = path(class, earlier) {
                return Verdict::Inversion {
                    held: *entry,
                    earlier,
                    class,
                    path,
                };
            }
            add_edge(earlier, class, entry.site, site);
        }
        Verdict::Fine
    });
    // Panics only here, with the held stack released: unwinding drops guards, which use it.
    match verdict {
        None | Some(Verdict::Fine) => {}
        Some(Verdict::Deadlock { held_at }) => crate::tracking::deadlock(Some(held_at), site),
        Some(Verdict::Inversion {
            held,
            earlier,
            class,
            path,
        }) => inversion(&held, earlier, class, site, &path),
    }
}

/// Pushes a lock just taken onto this CPU's held stack.
pub(crate) fn acquired(lock: usize, class: Option<u16>, site: Site) {
    let full = with_held(|held| {
        let Some(slot) = held.entries.get_mut(held.depth) else {
            return true;
        };
        *slot = Some(Entry { lock, class, site });
        held.depth += 1;
        false
    });
    if full == Some(true) {
        panic!("more than {MAX_HELD} locks held at once, the last taken at {site}");
    }
}

/// Takes a lock being released off this CPU's held stack (wherever it is: guards need not
/// drop in the reverse order of taking).
pub(crate) fn released(lock: usize) {
    with_held(|held| {
        let depth = held.depth;
        if let Some(at) = (0..depth)
            .rev()
            .find(|&i| held.entries[i].is_some_and(|e| e.lock == lock))
        {
            held.entries.copy_within(at + 1..depth, at);
            held.entries[depth - 1] = None;
            held.depth -= 1;
            if at < held.base {
                held.base -= 1;
            }
        }
    });
}

/// How many locks this CPU holds (0 on a host thread being torn down).
pub fn held() -> usize {
    with_held(|held| held.depth).unwrap_or(0)
}

/// Where the most recently taken lock this CPU still holds was taken.
pub fn last_held() -> Option<&'static Location<'static>> {
    with_held(|held| held.held().last().map(|e| e.site)).flatten()
}

/// Starts an interrupt context; returns what [`leave_interrupt`] restores.
pub(crate) fn enter_interrupt() -> usize {
    with_held(|held| core::mem::replace(&mut held.base, held.depth)).unwrap_or(0)
}

/// Ends the interrupt context [`enter_interrupt`] started.
pub(crate) fn leave_interrupt(base: usize) {
    with_held(|held| held.base = base.min(held.depth));
}

/// A class, as the place that created its locks.
struct ClassName(u16);

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match CLASSES[usize::from(self.0)].load() {
            Some(site) => write!(f, "the lock created at {site}"),
            None => write!(f, "lock class {}", self.0),
        }
    }
}

/// The recorded orders of a path, with their places.
struct Chain<'a>(&'a Path);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes = &self.0.nodes[..self.0.len];
        for (i, pair) in nodes.windows(2).enumerate() {
            let (from, to) = (pair[0], pair[1]);
            if i > 0 {
                f.write_str("; then ")?;
            }
            match edge_sites(from, to) {
                Some((held_at, taken_at)) => write!(
                    f,
                    "{} was taken at {taken_at} while {} was held (taken at {held_at})",
                    ClassName(to),
                    ClassName(from)
                )?,
                None => write!(
                    f,
                    "{} was taken while {} was held (places not recorded)",
                    ClassName(to),
                    ClassName(from)
                )?,
            }
        }
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn inversion(held: &Entry, earlier: u16, class: u16, site: Site, path: &Path) -> ! {
    panic!(
        "lock order inversion: {} wanted at {site} while holding {} (taken at {}), but earlier {}",
        ClassName(class),
        ClassName(earlier),
        held.site,
        Chain(path)
    );
}

/// The class index of a lock, registered on first use and remembered in the lock (`0`:
/// not yet registered; `u16::MAX`: the class table is full).
pub(crate) struct ClassSlot {
    site: Site,
    index: AtomicU16,
}

impl ClassSlot {
    #[track_caller]
    pub(crate) const fn new() -> Self {
        Self {
            site: Location::caller(),
            index: AtomicU16::new(0),
        }
    }

    pub(crate) fn site(&self) -> Site {
        self.site
    }

    pub(crate) fn index(&self) -> Option<u16> {
        match self.index.load(Ordering::Relaxed) {
            0 => {
                let index = register(self.site);
                self.index
                    .store(index.map_or(u16::MAX, |i| i + 1), Ordering::Relaxed);
                index
            }
            u16::MAX => None,
            n => Some(n - 1),
        }
    }
}
