//! Deterministic edge cases, generic over the variant.

use super::make;
use crate::AllocError::{InvalidFree, InvalidOrder, NoMemory};
use crate::{PageAllocator, Pfn};

/// Allocate blocks of `order` until the allocator says `NoMemory`; sorted.
fn drain<A: PageAllocator>(a: &mut A, order: u32) -> Vec<Pfn> {
    let mut got = Vec::new();
    loop {
        match a.alloc(order) {
            Ok(pfn) => got.push(pfn),
            Err(e) => {
                assert_eq!(e, NoMemory);
                got.sort_unstable();
                return got;
            }
        }
    }
}

pub fn zero_pages<A: PageAllocator>() {
    let mut a = make::<A>(0x1234, 0);
    a.add_free_range(0, 1 << 20);
    assert_eq!((a.total_pages(), a.free_pages()), (0, 0));
    for order in 0..=A::MAX_ORDER {
        assert_eq!(a.alloc(order), Err(NoMemory));
    }
    assert_eq!(a.free(0x1234, 0), Err(InvalidFree));
}

pub fn one_page<A: PageAllocator>() {
    let mut a = make::<A>(7, 1);
    assert_eq!(a.alloc(0), Err(NoMemory), "frames start reserved");
    a.add_free_range(0, 100);
    assert_eq!((a.total_pages(), a.free_pages()), (1, 1));
    assert_eq!(a.alloc(1), Err(NoMemory));
    assert_eq!(a.alloc(0), Ok(7));
    assert_eq!(a.alloc(0), Err(NoMemory));
    assert_eq!(a.free_pages(), 0);
    assert_eq!(a.free(7, 1), Err(InvalidFree));
    assert_eq!(a.free(8, 0), Err(InvalidFree));
    assert_eq!(a.free(7, 0), Ok(()));
    assert_eq!(a.free(7, 0), Err(InvalidFree), "double free");
    assert_eq!((a.total_pages(), a.free_pages()), (1, 1));
}

pub fn range_not_multiple_of_max_block<A: PageAllocator>() {
    let pages = 2 * 1024 + 512 + 3;
    let mut a = make::<A>(0, pages);
    a.add_free_range(0, pages);
    let big = drain(&mut a, 10);
    assert_eq!(big, [0, 1024]);
    assert_eq!(drain(&mut a, 9), [2048]);
    assert_eq!(drain(&mut a, 0), [2560, 2561, 2562]);
    assert_eq!(a.free_pages(), 0);
    for pfn in [2560, 2561, 2562] {
        a.free(pfn, 0).unwrap();
    }
    a.free(2048, 9).unwrap();
    for pfn in big {
        a.free(pfn, 10).unwrap();
    }
    assert_eq!((a.total_pages(), a.free_pages()), (pages, pages));
    assert_eq!(drain(&mut a, 10), [0, 1024], "everything merged back");
}

pub fn unaligned_base<A: PageAllocator>() {
    // [1000, 4000): whole 1024-blocks only at 1024 and 2048.
    let mut a = make::<A>(1000, 3000);
    a.add_free_range(1000, 3000);
    assert_eq!(drain(&mut a, 10), [1024, 2048]);
    // Left: [1000, 1024) and [3072, 4000).
    let sixteens = drain(&mut a, 4);
    assert!(
        sixteens
            .iter()
            .all(|p| p % 16 == 0 && (1000..4000).contains(p))
    );
    assert_eq!(sixteens.len(), 1 + (4000 - 3072) / 16);
    assert_eq!(drain(&mut a, 0), (1000..1008).collect::<Vec<_>>());
}

pub fn invalid_order<A: PageAllocator>() {
    let mut a = make::<A>(0, 4096);
    a.add_free_range(0, 4096);
    for order in [A::MAX_ORDER + 1, 31, 32, 63, 64, u32::MAX] {
        assert_eq!(a.alloc(order), Err(InvalidOrder));
        assert_eq!(a.free(0, order), Err(InvalidOrder));
    }
    assert_eq!(a.free_pages(), 4096);
}

pub fn bad_frees_leave_state_intact<A: PageAllocator>() {
    // Manage [0, 4096) but add only [0, 2048).
    let mut a = make::<A>(0, 4096);
    a.add_free_range(0, 2048);
    let big = a.alloc(10).unwrap();
    let eight = a.alloc(3).unwrap();
    let one = a.alloc(0).unwrap();
    let bad = [
        (eight, 2),
        (eight, 4),
        (eight + 1, 0),
        (eight + 4, 2),
        (big, 9),
        (big + 512, 9),
        (big + 1, 0),
        (one, 1),
        (one + 1, 0),
        (3072, 0),
        (2048, 10),
        (1 << 40, 0),
    ];
    for (pfn, order) in bad {
        assert_eq!(a.free(pfn, order), Err(InvalidFree), "free({pfn}, {order})");
    }
    assert_eq!(a.free_pages(), 2048 - 1024 - 8 - 1);
    a.free(one, 0).unwrap();
    assert_eq!(a.free(one, 0), Err(InvalidFree), "double free");
    a.free(eight, 3).unwrap();
    a.free(big, 10).unwrap();
    assert_eq!((a.total_pages(), a.free_pages()), (2048, 2048));
    assert_eq!(drain(&mut a, 10), [0, 1024]);
}

pub fn overlapping_adds_count_once<A: PageAllocator>() {
    let mut a = make::<A>(0, 1024);
    a.add_free_range(0, 512);
    a.add_free_range(256, 512);
    assert_eq!((a.total_pages(), a.free_pages()), (768, 768));
    let held = a.alloc(0).unwrap();
    // Re-adding an allocated frame must not make it free.
    a.add_free_range(0, 1024);
    assert_eq!((a.total_pages(), a.free_pages()), (1024, 1023));
    let rest = drain(&mut a, 0);
    assert_eq!(rest.len(), 1023);
    assert!(!rest.contains(&held));
    for pfn in rest.into_iter().chain([held]) {
        a.free(pfn, 0).unwrap();
    }
    assert_eq!(a.alloc(10), Ok(0));
}

pub fn scattered_adds_coalesce<A: PageAllocator>() {
    // One frame at a time in a scrambled order (389 is odd, so i * 389 % 1024 permutes).
    let mut a = make::<A>(2048, 1024);
    for i in 0..1024 {
        a.add_free_range(2048 + i * 389 % 1024, 1);
    }
    assert_eq!(a.total_pages(), 1024);
    assert_eq!(a.alloc(10), Ok(2048));
}

pub fn top_of_address_space<A: PageAllocator>() {
    // base + pages overflows: only [base, usize::MAX) is managed.
    let base = usize::MAX - 40;
    let mut a = make::<A>(base, 100);
    a.add_free_range(base - 10, usize::MAX);
    assert_eq!(a.total_pages(), 40);
    let eights = drain(&mut a, 3);
    assert!(eights.iter().all(|&p| p % 8 == 0 && p >= base));
    let ones = drain(&mut a, 0);
    assert_eq!(eights.len() * 8 + ones.len(), 40);
    assert_eq!(a.free(usize::MAX, 0), Err(InvalidFree));
    for p in eights {
        a.free(p, 3).unwrap();
    }
    for p in ones {
        a.free(p, 0).unwrap();
    }
    assert_eq!(a.free_pages(), 40);
}

pub fn metadata_fits_any_base<A: PageAllocator>() {
    for pages in [1, 63, 64, 65, 1000, 1025, 4097] {
        for base in [0, 1, 63, 1023, 1025, 12345] {
            let mut a = make::<A>(base, pages);
            a.add_free_range(base, pages);
            let got = drain(&mut a, 0);
            assert_eq!(got, (base..base + pages).collect::<Vec<_>>());
        }
    }
}
