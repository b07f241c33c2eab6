//! Host benchmark: every variant through the same workloads, printed as a table of ns/op.
//!
//! `cargo bench -p tessera-page-alloc` runs the real sizes (a 1 GiB heap). Without a `--bench`
//! argument (as under `cargo test --all-targets`) it runs a tiny smoke version so the code
//! stays exercised without slowing the test run.

use std::hint::black_box;
use std::time::Instant;

use tessera_page_alloc::bitmap::BitmapAllocator;
use tessera_page_alloc::buddy::BuddyAllocator;
use tessera_page_alloc::{PageAllocator, Pfn};

/// Heap size and repetitions; each workload reports its best round.
struct Size {
    pages: usize,
    rounds: usize,
    churn_iters: usize,
    /// Free-then-alloc pairs on a full heap.
    full_iters: usize,
}

const WORKLOADS: [&str; 5] = [
    "churn: alloc(0)+free, 64 live",
    "fill all, then free all (per page)",
    "alloc(0) on fragmented heap",
    "alloc(4)+free until full",
    "full heap: free random, alloc(0)",
];

/// Deterministic xorshift, so both variants see the same fragmentation.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A heap with every frame added; the base is deliberately not 4 MiB-aligned.
fn heap<A: PageAllocator>(pages: usize) -> A {
    let base = 0x100 + 3;
    let meta = vec![0; A::metadata_words(pages)].into_boxed_slice();
    let mut a = A::new(Box::leak(meta), base, pages);
    a.add_free_range(base, pages);
    a
}

/// Best ns/op over `rounds`; `round` runs one round and returns how many ops it did.
fn best(rounds: usize, mut round: impl FnMut() -> usize) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let ops = round();
            start.elapsed().as_nanos() as f64 / ops.max(1) as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Allocate blocks of `order` until NoMemory.
fn fill<A: PageAllocator>(a: &mut A, order: u32, out: &mut Vec<Pfn>) {
    out.clear();
    while let Ok(pfn) = a.alloc(order) {
        out.push(pfn);
    }
}

fn free_all<A: PageAllocator>(a: &mut A, order: u32, blocks: &[Pfn]) {
    for &pfn in blocks {
        a.free(pfn, order)
            .expect("bench frees only what it allocated");
    }
}

fn run<A: PageAllocator>(size: &Size) -> [f64; 5] {
    let mut blocks = Vec::with_capacity(size.pages);

    let mut a = heap::<A>(size.pages);
    let mut live = [0; 64];
    let churn = best(size.rounds, || {
        for _ in 0..size.churn_iters / live.len() {
            for slot in &mut live {
                *slot = a.alloc(0).expect("heap has room for 64 pages");
            }
            free_all(&mut a, 0, &live);
        }
        size.churn_iters / live.len() * live.len()
    });

    let mut a = heap::<A>(size.pages);
    let fill_free = best(size.rounds, || {
        fill(&mut a, 0, &mut blocks);
        free_all(&mut a, 0, &blocks);
        blocks.len()
    });

    // Fill, then free a random ~1/8 of the pages: scattered single-page holes.
    let mut a = heap::<A>(size.pages);
    fill(&mut a, 0, &mut blocks);
    let mut rng = 0x9E37_79B9_7F4A_7C15;
    let holes: Vec<Pfn> = blocks
        .iter()
        .copied()
        .filter(|_| xorshift(&mut rng).is_multiple_of(8))
        .collect();
    free_all(&mut a, 0, &holes);
    let mut refill = Vec::with_capacity(holes.len());
    let fragmented = (0..size.rounds)
        .map(|_| {
            let start = Instant::now();
            fill(&mut a, 0, &mut refill);
            let ns = start.elapsed().as_nanos() as f64 / refill.len().max(1) as f64;
            free_all(&mut a, 0, &refill);
            ns
        })
        .fold(f64::INFINITY, f64::min);

    let mut a = heap::<A>(size.pages);
    let order4 = best(size.rounds, || {
        fill(&mut a, 4, &mut blocks);
        free_all(&mut a, 4, &blocks);
        blocks.len()
    });

    // A long-running kernel: memory full, a random page freed, a page allocated. The hole can
    // be anywhere relative to the bitmap's hint, which is what a linear search pays for.
    let mut a = heap::<A>(size.pages);
    fill(&mut a, 0, &mut blocks);
    let full = best(size.rounds, || {
        for _ in 0..size.full_iters {
            let slot = xorshift(&mut rng) as usize % blocks.len();
            a.free(blocks[slot], 0)
                .expect("bench frees only what it allocated");
            blocks[slot] = a.alloc(0).expect("a page was just freed");
        }
        size.full_iters
    });

    black_box(&a);
    [churn, fill_free, fragmented, order4, full]
}

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let size = if bench {
        Size {
            pages: 1 << 18,
            rounds: 5,
            churn_iters: 1 << 20,
            full_iters: 1 << 14,
        }
    } else {
        Size {
            pages: 4096,
            rounds: 1,
            churn_iters: 1024,
            full_iters: 256,
        }
    };
    let variants = [
        (BitmapAllocator::NAME, run::<BitmapAllocator>(&size)),
        (BuddyAllocator::NAME, run::<BuddyAllocator>(&size)),
    ];

    println!(
        "page allocator, {} frames (ns/op, best of {})",
        size.pages, size.rounds
    );
    print!("{:<38}", "workload");
    for (name, _) in &variants {
        print!("{name:>12}");
    }
    println!();
    for (row, workload) in WORKLOADS.iter().enumerate() {
        print!("{workload:<38}");
        for (_, figures) in &variants {
            print!("{:>12.1}", figures[row]);
        }
        println!();
    }
}
