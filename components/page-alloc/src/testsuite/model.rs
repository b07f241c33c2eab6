//! Property test: random operation sequences checked against a model that just remembers
//! which frames are added, free and owned.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};

use super::make;
use crate::AllocError::{InvalidFree, InvalidOrder, NoMemory};
use crate::{PageAllocator, Pfn};

/// Moderate case count: the whole crate's tests must stay well under 20 s in debug builds.
pub fn config() -> Config {
    Config {
        cases: 256,
        ..Config::default()
    }
}

/// One step. Raw numbers are mapped onto the current state when the step runs.
#[derive(Debug, Clone)]
pub enum Op {
    Alloc(u32),
    /// Free the owned block chosen by the selector.
    Free(usize),
    /// Add a range (offset from `base - 64`, count), possibly overlapping earlier ones.
    Add(usize, usize),
    /// A free() that must be refused.
    BadFree(Bad),
}

/// Kinds of invalid free().
#[derive(Debug, Clone)]
pub enum Bad {
    /// A block freed earlier (and not allocated again at that pfn and order).
    Again(usize),
    /// An owned block's pfn with another order (up to one past MAX_ORDER).
    OtherOrder(usize, u32),
    /// An owned block's pfn plus an offset, with the block's order.
    Inside(usize, usize),
    /// Any pfn near the managed range, any order.
    Anywhere(usize, u32),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    base: Pfn,
    pages: usize,
    adds: Vec<(usize, usize)>,
    ops: Vec<Op>,
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
    let bad = prop_oneof![
        any::<usize>().prop_map(Bad::Again),
        (any::<usize>(), 0u32..=11).prop_map(|(s, o)| Bad::OtherOrder(s, o)),
        (any::<usize>(), 1usize..1100).prop_map(|(s, d)| Bad::Inside(s, d)),
        (any::<usize>(), 0u32..=11).prop_map(|(p, o)| Bad::Anywhere(p, o)),
    ];
    let op = prop_oneof![
        6 => (0u32..=3).prop_map(Op::Alloc),
        2 => (0u32..=10).prop_map(Op::Alloc),
        6 => any::<usize>().prop_map(Op::Free),
        1 => (any::<usize>(), 0usize..600).prop_map(|(s, c)| Op::Add(s, c)),
        2 => bad.prop_map(Op::BadFree),
    ];
    (
        0usize..5000,
        0usize..3500,
        prop::collection::vec((any::<usize>(), 0usize..3000), 0..6),
        prop::collection::vec(op, 0..250),
    )
        .prop_map(|(base, pages, adds, ops)| Scenario {
            base,
            pages,
            adds,
            ops,
        })
}

struct Model {
    base: Pfn,
    added: Vec<bool>,
    free: Vec<bool>,
    free_pages: usize,
    total_pages: usize,
    owned: Vec<(Pfn, u32)>,
    freed: Vec<(Pfn, u32)>,
}

impl Model {
    /// Like `add_free_range`, from raw proptest numbers: the start lands within 64 frames
    /// around the managed range, so ranges also stick out on both sides.
    fn add<A: PageAllocator>(&mut self, a: &mut A, raw_start: usize, count: usize) {
        let start = self.base.saturating_sub(64) + raw_start % (self.added.len() + 128);
        a.add_free_range(start, count);
        for pfn in start..start + count {
            if let Some(i) = pfn.checked_sub(self.base).filter(|&i| i < self.added.len())
                && !self.added[i]
            {
                self.added[i] = true;
                self.free[i] = true;
                self.free_pages += 1;
                self.total_pages += 1;
            }
        }
    }

    /// Is there a naturally aligned, entirely free block of `order`?
    fn has_free_block(&self, order: u32) -> bool {
        let len = 1usize << order;
        let end = self.base + self.free.len();
        (self.base.next_multiple_of(len)..end.saturating_sub(len - 1))
            .step_by(len)
            .any(|pfn| self.free[pfn - self.base..][..len].iter().all(|&f| f))
    }

    fn set_free(&mut self, pfn: Pfn, order: u32, free: bool) {
        self.free[pfn - self.base..][..1 << order].fill(free);
        if free {
            self.free_pages += 1 << order;
        } else {
            self.free_pages -= 1 << order;
        }
    }

    fn alloc<A: PageAllocator>(&mut self, a: &mut A, order: u32) -> Result<(), TestCaseError> {
        match a.alloc(order) {
            Ok(pfn) => {
                let len = 1usize << order;
                prop_assert_eq!(pfn % len, 0, "misaligned block {} of order {}", pfn, order);
                let i = pfn.checked_sub(self.base);
                let inside = i.is_some_and(|i| i + len <= self.free.len());
                prop_assert!(inside, "block {} of order {} outside range", pfn, order);
                let all_free = self.free[pfn - self.base..][..len].iter().all(|&f| f);
                prop_assert!(all_free, "block {} order {} not free/added", pfn, order);
                self.set_free(pfn, order, false);
                self.owned.push((pfn, order));
            }
            Err(e) => {
                prop_assert_eq!(e, NoMemory);
                let has = self.has_free_block(order);
                prop_assert!(!has, "NoMemory with a free block of order {}", order);
            }
        }
        Ok(())
    }

    fn free<A: PageAllocator>(&mut self, a: &mut A, sel: usize) -> Result<(), TestCaseError> {
        if self.owned.is_empty() {
            return Ok(());
        }
        let (pfn, order) = self.owned.swap_remove(sel % self.owned.len());
        prop_assert_eq!(a.free(pfn, order), Ok(()));
        self.set_free(pfn, order, true);
        self.freed.push((pfn, order));
        Ok(())
    }

    fn bad_free<A: PageAllocator>(&mut self, a: &mut A, bad: &Bad) -> Result<(), TestCaseError> {
        let pick = |v: &[(Pfn, u32)], s: usize| (!v.is_empty()).then(|| v[s % v.len()]);
        let target = match *bad {
            Bad::Again(s) => pick(&self.freed, s),
            Bad::OtherOrder(s, o) => pick(&self.owned, s).map(|(pfn, _)| (pfn, o)),
            Bad::Inside(s, d) => pick(&self.owned, s).map(|(pfn, o)| (pfn + d, o)),
            Bad::Anywhere(p, o) => Some((
                self.base.saturating_sub(64) + p % (self.free.len() + 128),
                o,
            )),
        };
        // Skip targets that happen to be a valid free.
        let Some((pfn, order)) = target.filter(|t| !self.owned.contains(t)) else {
            return Ok(());
        };
        let want = if order > A::MAX_ORDER {
            InvalidOrder
        } else {
            InvalidFree
        };
        prop_assert_eq!(a.free(pfn, order), Err(want), "free({}, {})", pfn, order);
        Ok(())
    }
}

/// Run a scenario against allocator `A` and the model, checking after every step.
pub fn check<A: PageAllocator>(s: &Scenario) -> Result<(), TestCaseError> {
    let mut a = make::<A>(s.base, s.pages);
    let mut m = Model {
        base: s.base,
        added: vec![false; s.pages],
        free: vec![false; s.pages],
        free_pages: 0,
        total_pages: 0,
        owned: Vec::new(),
        freed: Vec::new(),
    };
    for &(start, count) in &s.adds {
        m.add(&mut a, start, count);
    }
    for op in &s.ops {
        match *op {
            Op::Alloc(order) => m.alloc(&mut a, order)?,
            Op::Free(sel) => m.free(&mut a, sel)?,
            Op::Add(start, count) => m.add(&mut a, start, count),
            Op::BadFree(ref bad) => m.bad_free(&mut a, bad)?,
        }
        prop_assert_eq!(a.free_pages(), m.free_pages, "after {:?}", op);
        prop_assert_eq!(a.total_pages(), m.total_pages, "after {:?}", op);
    }
    // Give everything back: every added frame is free again and, per order, a block can be
    // allocated exactly when the added frames hold an aligned run of that size.
    while !m.owned.is_empty() {
        m.free(&mut a, 0)?;
    }
    prop_assert_eq!(a.free_pages(), m.total_pages);
    for order in 0..=A::MAX_ORDER {
        m.alloc(&mut a, order)?;
        m.free(&mut a, 0)?;
    }
    // Exhaust with single pages: exactly the added frames come out, then NoMemory.
    loop {
        let before = m.owned.len();
        m.alloc(&mut a, 0)?;
        if m.owned.len() == before {
            break;
        }
    }
    let mut got: Vec<Pfn> = m.owned.iter().map(|&(pfn, _)| pfn).collect();
    got.sort_unstable();
    let added = (0..s.pages).filter(|&i| m.added[i]).map(|i| s.base + i);
    prop_assert_eq!(got, added.collect::<Vec<_>>());
    prop_assert_eq!(a.free_pages(), 0);
    Ok(())
}
