//! Property test: random operation sequences, as the kernel issues them, checked against a
//! model that is a `VecDeque` and a tick count.

use std::collections::VecDeque;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use tessera_sched::SchedPolicy;

/// Moderate case count: the suite stays well under a second in debug builds.
pub fn config() -> Config {
    Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One step. Raw numbers are mapped onto the current state when the step runs.
#[derive(Debug, Clone)]
pub enum Op {
    /// A new or woken task becomes runnable.
    Enqueue,
    /// `schedule()`: the running task (if any) goes back to the queue unless `blocks`, then
    /// the next is picked; a picked task is dropped instead of run when `stale` (the kernel
    /// found it no longer runnable).
    Schedule { blocks: bool, stale: bool },
    /// Remove the queued task the selector points at (or one never queued).
    Remove(usize),
    /// A timer tick.
    Tick,
}

pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => Just(Op::Enqueue),
        4 => (any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(blocks, stale)| Op::Schedule { blocks, stale }),
        1 => any::<usize>().prop_map(Op::Remove),
        6 => Just(Op::Tick),
    ];
    prop::collection::vec(op, 0..300)
}

/// What the policy must do, on plain data: FIFO, a slice of `slice` ticks from the last pick.
struct Model {
    queue: VecDeque<u32>,
    ticks: u64,
    slice: u64,
}

pub fn check<P: SchedPolicy<u32>>(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut policy = P::EMPTY;
    let mut model = Model {
        queue: VecDeque::new(),
        ticks: 0,
        slice: P::SLICE_TICKS,
    };
    let mut running: Option<u32> = None;
    let mut next_task = 0u32;
    for op in ops {
        match *op {
            Op::Enqueue => {
                policy.enqueue(next_task);
                model.queue.push_back(next_task);
                next_task += 1;
            }
            Op::Schedule { blocks, stale } => {
                if let Some(task) = running.take()
                    && !blocks
                {
                    policy.requeue(task);
                    model.queue.push_back(task);
                }
                let picked = policy.pick_next();
                model.ticks = 0;
                prop_assert_eq!(picked, model.queue.pop_front());
                running = picked.filter(|_| !stale);
            }
            Op::Remove(selector) => {
                // One selector in four names a task that is not queued.
                let target = match model.queue.len() {
                    0 => next_task,
                    n if selector % 4 == 0 => next_task + (selector % n) as u32,
                    n => model.queue[selector % n],
                };
                let removed = policy.remove(|&t| t == target);
                let expected = model
                    .queue
                    .iter()
                    .position(|&t| t == target)
                    .and_then(|at| model.queue.remove(at));
                prop_assert_eq!(removed, expected);
            }
            Op::Tick => {
                model.ticks += 1;
                prop_assert_eq!(policy.tick(), model.ticks >= model.slice);
            }
        }
        prop_assert_eq!(policy.len(), model.queue.len());
        prop_assert_eq!(policy.is_empty(), model.queue.is_empty());
    }
    // What is left comes out in order, each task once.
    let rest: Vec<u32> = std::iter::from_fn(|| policy.pick_next()).collect();
    prop_assert_eq!(rest, Vec::from(model.queue));
    Ok(())
}
