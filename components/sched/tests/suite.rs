//! The shared suite: generic checks over `P: SchedPolicy<T>`, instantiated once per variant by
//! `variant_suite!`, so every variant passes exactly the same tests. Tasks are plain integers,
//! and `Arc`s where identity matters (as the kernel's `Arc<Task>`).

mod model;

use std::sync::Arc;

use tessera_sched::SchedPolicy;

/// A policy over task numbers, queued in order `0..n`.
fn queued<P: SchedPolicy<u32>>(n: u32) -> P {
    let mut policy = P::EMPTY;
    for task in 0..n {
        policy.enqueue(task);
    }
    policy
}

/// Picks until the queue is empty.
fn drain<P: SchedPolicy<u32>>(policy: &mut P) -> Vec<u32> {
    std::iter::from_fn(|| policy.pick_next()).collect()
}

pub fn empty<P: SchedPolicy<u32>>() {
    let mut policy = P::EMPTY;
    assert!(policy.is_empty());
    assert_eq!(policy.len(), 0);
    assert_eq!(policy.pick_next(), None);
    assert_eq!(policy.remove(|_| true), None);
    assert!(P::SLICE_TICKS >= 1);
}

/// Tasks are picked in the order they were queued, each once.
pub fn fifo_order<P: SchedPolicy<u32>>() {
    let mut policy = queued::<P>(10);
    assert_eq!(policy.len(), 10);
    assert_eq!(drain(&mut policy), (0..10).collect::<Vec<_>>());
    assert!(policy.is_empty());
}

/// The task that leaves the CPU still runnable goes behind those already waiting, and a task
/// woken while others wait goes behind them too.
pub fn requeue_goes_behind_the_waiting<P: SchedPolicy<u32>>() {
    let mut policy = queued::<P>(2);
    assert_eq!(policy.pick_next(), Some(0));
    policy.requeue(0);
    policy.enqueue(7);
    assert_eq!(drain(&mut policy), [1, 0, 7]);
}

/// Tasks that never block share the CPU in turns: over whole rounds each gets the same number
/// of ticks, and none waits more than the others' slices between two of its own.
pub fn fairness<P: SchedPolicy<u32>>() {
    const TASKS: u32 = 5;
    const ROUNDS: u64 = 20;
    let mut policy = queued::<P>(TASKS);
    let mut ticks = [0u64; TASKS as usize];
    let mut last_ran = [None::<u64>; TASKS as usize];
    let mut running = policy.pick_next().expect("a task is queued");
    let total = ROUNDS * P::SLICE_TICKS * u64::from(TASKS);
    for now in 0..total {
        let gap = last_ran[running as usize].map_or(0, |at| now - at - 1);
        assert!(
            gap == 0 || gap == P::SLICE_TICKS * u64::from(TASKS - 1),
            "task {running} waited {gap} ticks"
        );
        ticks[running as usize] += 1;
        last_ran[running as usize] = Some(now);
        if policy.tick() {
            policy.requeue(running);
            running = policy.pick_next().expect("the task just queued");
        }
    }
    assert!(
        ticks.iter().all(|&t| t == ROUNDS * P::SLICE_TICKS),
        "{ticks:?}"
    );
}

/// No starvation: a task woken behind `n` others that keep running is picked after exactly
/// `n` of them, whatever they do.
pub fn woken_task_waits_only_for_those_ahead<P: SchedPolicy<u32>>() {
    for ahead in 0..8 {
        let mut policy = queued::<P>(ahead);
        policy.enqueue(100);
        for expect in 0..ahead {
            let task = policy.pick_next();
            assert_eq!(task, Some(expect));
            policy.requeue(expect);
        }
        assert_eq!(policy.pick_next(), Some(100));
    }
}

/// `remove` takes a queued task out, leaves the others in order, and finds nothing twice.
pub fn remove_a_queued_task<P: SchedPolicy<u32>>() {
    let mut policy = queued::<P>(5);
    assert_eq!(policy.remove(|&t| t == 2), Some(2));
    assert_eq!(policy.len(), 4);
    assert_eq!(policy.remove(|&t| t == 2), None);
    assert_eq!(policy.remove(|&t| t == 9), None);
    assert_eq!(policy.len(), 4);
    assert_eq!(drain(&mut policy), [0, 1, 3, 4]);
}

/// As the kernel removes: by identity, among handles that compare by pointer.
pub fn remove_by_identity<P: SchedPolicy<Arc<&'static str>>>() {
    let (a, b, c) = (Arc::new("a"), Arc::new("b"), Arc::new("b"));
    let mut policy = P::EMPTY;
    for task in [&a, &b, &c] {
        policy.enqueue(task.clone());
    }
    let removed = policy.remove(|t| Arc::ptr_eq(t, &c));
    assert!(removed.is_some_and(|t| Arc::ptr_eq(&t, &c)));
    assert_eq!(Arc::strong_count(&c), 1, "the queue let go of it");
    let rest: Vec<_> = std::iter::from_fn(|| policy.pick_next()).collect();
    assert!(Arc::ptr_eq(&rest[0], &a) && Arc::ptr_eq(&rest[1], &b) && rest.len() == 2);
}

/// The slice ends after `SLICE_TICKS` ticks and stays over until the next pick, which starts a
/// new one whether or not it found a task.
pub fn slice_expiry<P: SchedPolicy<u32>>() {
    let mut policy = queued::<P>(1);
    for picked in [Some(0), None] {
        assert_eq!(policy.pick_next(), picked);
        for _ in 1..P::SLICE_TICKS {
            assert!(!policy.tick(), "slice over early");
        }
        assert!(policy.tick(), "slice not over after SLICE_TICKS");
        assert!(policy.tick(), "a slice over stays over");
    }
    // Queue operations do not start a slice: only a pick does.
    policy.enqueue(1);
    policy.requeue(2);
    assert!(policy.tick());
}

/// Instantiate the suite for each `module: Type, "feature", "NAME";` line.
macro_rules! variant_suite {
    ($($module:ident: $ty:ident, $feature:literal, $name:literal;)*) => {$(
        #[cfg(feature = $feature)]
        mod $module {
            use tessera_sched::SchedPolicy;
            type P<T> = tessera_sched::$ty<T>;

            #[test]
            fn name() {
                assert_eq!(<P<u32> as SchedPolicy<u32>>::NAME, $name);
            }
            #[test]
            fn empty() {
                super::empty::<P<u32>>();
            }
            #[test]
            fn fifo_order() {
                super::fifo_order::<P<u32>>();
            }
            #[test]
            fn requeue_goes_behind_the_waiting() {
                super::requeue_goes_behind_the_waiting::<P<u32>>();
            }
            #[test]
            fn fairness() {
                super::fairness::<P<u32>>();
            }
            #[test]
            fn woken_task_waits_only_for_those_ahead() {
                super::woken_task_waits_only_for_those_ahead::<P<u32>>();
            }
            #[test]
            fn remove_a_queued_task() {
                super::remove_a_queued_task::<P<u32>>();
            }
            #[test]
            fn remove_by_identity() {
                super::remove_by_identity::<P<std::sync::Arc<&'static str>>>();
            }
            #[test]
            fn slice_expiry() {
                super::slice_expiry::<P<u32>>();
            }

            proptest::proptest! {
                #![proptest_config(super::model::config())]
                #[test]
                fn matches_model(ops in super::model::ops()) {
                    super::model::check::<P<u32>>(&ops)?;
                }
            }
        }
    )*};
}

variant_suite! {
    round_robin: RoundRobin, "round-robin", "round-robin";
}
