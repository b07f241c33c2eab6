//! In-kernel self-tests: run at every boot, each printing `selftest NAME ... ok` or the reason
//! it failed, then a summary line that the build tool checks.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use tessera_page_alloc::AllocError;
use tessera_platform::mm::frame;
use tessera_platform::{clock, heap, println, trap};
use tessera_sync::{IrqPolicy, SpinLock};

use crate::mm::{alloc_frames, free_frames, page_counts};
use crate::variants::{SubsystemLock, SubsystemPolicy};

type Outcome = Result<(), String>;

/// Fails the current self-test with a message unless the condition holds.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// A self-test: its name and what runs it.
type SelfTest = (&'static str, fn() -> Outcome);

const TESTS: [SelfTest; 5] = [
    ("page-alloc", page_alloc),
    ("heap", heap),
    ("memops", memops),
    ("locks", locks),
    ("timer", timer),
];

/// Runs every self-test; true if all passed.
pub fn run_all() -> bool {
    let mut failed = 0;
    for (name, test) in TESTS {
        match test() {
            Ok(()) => println!("selftest {name} ... ok"),
            Err(why) => {
                println!("selftest {name} ... FAILED: {why}");
                failed += 1;
            }
        }
    }
    println!(
        "selftests: {} passed, {failed} failed",
        TESTS.len() - failed
    );
    failed == 0
}

/// `tessera.fault=KIND`: raise a CPU exception or panic on purpose (tests of the report).
/// Never inlined, so that it shows in the backtrace the tests check.
#[inline(never)]
pub fn fault_on_purpose(kind: &str) {
    println!("raising a deliberate fault: {kind}");
    if kind == "panic" {
        panic!("deliberate panic (tessera.fault=panic)");
    }
    tessera_platform::debug::fault_on_purpose(kind);
    println!(
        "unknown tessera.fault kind {kind:?}; known: panic, {}",
        tessera_platform::debug::FAULT_KINDS.join(", ")
    );
}

fn page_alloc() -> Outcome {
    // Heap memory first, so that the heap's own frames do not count in the balance below.
    let (mut pfns, mut sorted) = (Vec::with_capacity(64), Vec::with_capacity(64));
    let (_, free_before) = page_counts();
    for i in 0..64u8 {
        let pfn = alloc_frames(0).map_err(|e| format!("alloc #{i}: {e:?}"))?;
        frame::write(pfn, 0, &[i; 64]);
        frame::write(pfn, 4096 - 8, &u64::from(i).to_le_bytes());
        pfns.push(pfn);
    }
    sorted.extend_from_slice(&pfns);
    sorted.sort_unstable();
    sorted.dedup();
    check!(sorted.len() == pfns.len(), "a frame was handed out twice");
    for (i, &pfn) in pfns.iter().enumerate() {
        let (mut head, mut tail) = ([0u8; 64], [0u8; 8]);
        frame::read(pfn, 0, &mut head);
        frame::read(pfn, 4096 - 8, &mut tail);
        check!(
            head == [i as u8; 64] && u64::from_le_bytes(tail) == i as u64,
            "frame {pfn:#x} lost its contents"
        );
    }
    for order in [1, 4, 9] {
        let pfn = alloc_frames(order).map_err(|e| format!("order {order}: {e:?}"))?;
        check!(
            pfn % (1 << order) == 0,
            "order-{order} block at pfn {pfn:#x} is misaligned"
        );
        free_frames(pfn, order).map_err(|e| format!("free order {order}: {e:?}"))?;
    }
    for pfn in pfns.drain(..) {
        free_frames(pfn, 0).map_err(|e| format!("free {pfn:#x}: {e:?}"))?;
    }
    let victim = alloc_frames(0).map_err(|e| format!("{e:?}"))?;
    free_frames(victim, 0).map_err(|e| format!("{e:?}"))?;
    check!(
        free_frames(victim, 0) == Err(AllocError::InvalidFree),
        "double free not detected"
    );
    check!(
        page_counts().1 == free_before,
        "free pages {} after the test, {free_before} before",
        page_counts().1
    );
    Ok(())
}

#[repr(align(4096))]
struct PageAligned([u8; 4096]);

fn heap() -> Outcome {
    let (_, free_before) = page_counts();
    let in_use_before = heap::bytes_in_use();
    {
        let v: Vec<u64> = (0..100_000).collect();
        check!(
            v.iter().sum::<u64>() == 99_999 * 100_000 / 2,
            "Vec<u64> sum is wrong"
        );
        let mut map = BTreeMap::new();
        for i in 0..2_000u32 {
            map.insert(i.wrapping_mul(2_654_435_761), i);
        }
        check!(
            map.len() == 2_000 && map.values().map(|&v| u64::from(v)).sum::<u64>() == 1_999_000,
            "BTreeMap contents"
        );
        let strings: Vec<String> = (0..500).map(|i| format!("string number {i}")).collect();
        check!(strings[499] == "string number 499", "String contents");
        let aligned = Box::new(PageAligned([7; 4096]));
        check!(
            core::ptr::from_ref(&*aligned).addr().is_multiple_of(4096),
            "Box<align(4096)> misaligned"
        );
        check!(aligned.0.iter().all(|&b| b == 7), "aligned box contents");
        let big = alloc::vec![0xa5u8; 3 << 20];
        check!(big.iter().all(|&b| b == 0xa5), "3 MiB allocation contents");
    }
    check!(
        heap::bytes_in_use() == in_use_before,
        "heap bytes in use {} after, {in_use_before} before",
        heap::bytes_in_use()
    );
    // Small-class frames stay with the heap; large blocks go back to the page allocator.
    let (_, free_after) = page_counts();
    check!(
        free_before - free_after < 256,
        "heap kept {} frames after freeing everything",
        free_before - free_after
    );
    // ...until memory is short: reclaim gives back the frames whose blocks are all free
    // (4,096 blocks of 64 bytes fill 64 frames).
    let blocks: Vec<Box<[u8; 64]>> = (0..4096).map(|_| Box::new([1; 64])).collect();
    drop(blocks);
    let held = heap::frames_held();
    let freed = heap::reclaim();
    check!(
        freed >= 64 && heap::frames_held() == held - freed,
        "reclaim gave back {freed} frames of {held}"
    );
    Ok(())
}

fn memops() -> Outcome {
    check!(
        tessera_memops::VARIANT == crate::config::COMPONENTS[1].1,
        "linked memops {} but config says {}",
        tessera_memops::VARIANT,
        crate::config::COMPONENTS[1].1
    );
    // Lengths unknown at compile time make the compiler call memcpy/memmove/memset/bcmp:
    // this exercises the exported C functions of the configured variant.
    let src: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
    for len in [0, 1, 7, 8, 9, 31, 64, 255, 512, 600] {
        for offset in 0..9 {
            let mut dst = alloc::vec![0u8; len + 16];
            dst[offset..offset + len].copy_from_slice(&src[3..3 + len]);
            check!(
                dst[offset..offset + len] == src[3..3 + len],
                "memcpy len {len} offset {offset}"
            );
            check!(
                dst[..offset].iter().all(|&b| b == 0),
                "memcpy wrote before the buffer"
            );
            check!(
                dst[offset + len..].iter().all(|&b| b == 0),
                "memcpy wrote past the buffer"
            );
            dst[offset..offset + len].fill(0x5c);
            check!(
                dst[offset..offset + len].iter().all(|&b| b == 0x5c),
                "memset len {len}"
            );
        }
    }
    // memmove in both directions, against a copy through a separate buffer.
    for (from, to) in [(10..210, 13), (50..250, 41)] {
        let mut buf: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        let mut expect = buf.clone();
        let moved = buf[from.clone()].to_vec();
        expect[to..to + moved.len()].copy_from_slice(&moved);
        buf.copy_within(from.clone(), to);
        check!(buf == expect, "memmove {from:?} -> {to}");
    }
    let a = alloc::vec![1u8; 100];
    let mut b = a.clone();
    check!(a == b, "bcmp equal");
    b[99] = 2;
    check!(a != b && a < b, "memcmp order");
    let (p, q) = (
        alloc_frames(0).map_err(|e| format!("{e:?}"))?,
        alloc_frames(0).map_err(|e| format!("{e:?}"))?,
    );
    frame::write(p, 100, b"tessera");
    frame::copy(q, p);
    let mut word = [0u8; 7];
    frame::read(q, 100, &mut word);
    check!(&word == b"tessera", "copy_page");
    frame::zero(q);
    frame::read(q, 100, &mut word);
    check!(word == [0; 7], "zero_page");
    free_frames(p, 0).map_err(|e| format!("{e:?}"))?;
    free_frames(q, 0).map_err(|e| format!("{e:?}"))?;
    Ok(())
}

fn locks() -> Outcome {
    use x86_64::instructions::interrupts::are_enabled;
    check!(are_enabled(), "interrupts should be on after start_timer");
    let lock = SpinLock::<u32>::new(0);
    {
        let mut guard = lock.lock_irq_save();
        *guard += 1;
        check!(!are_enabled(), "lock_irq_save left interrupts on");
        check!(
            lock.try_lock().is_none(),
            "try_lock succeeded on a held lock"
        );
    }
    check!(are_enabled(), "lock_irq_save did not restore interrupts");
    {
        let mut guard = lock.lock_no_irq();
        *guard += 1;
        check!(are_enabled(), "lock_no_irq turned interrupts off");
    }
    let subsystem = SubsystemLock::new(5u32);
    {
        let _guard = subsystem.lock();
        let expect_on = SubsystemPolicy::NAME == "no-irq";
        check!(
            are_enabled() == expect_on,
            "subsystem lock ({}) interrupt state wrong",
            SubsystemPolicy::NAME
        );
    }
    check!(
        SubsystemPolicy::NAME == crate::config::COMPONENTS[2].1,
        "subsystem lock policy differs from the config"
    );
    if crate::config::LOCK_TRACKING {
        let guard = subsystem.lock();
        check!(
            subsystem
                .holder()
                .is_some_and(|l| l.file().ends_with("selftest.rs")),
            "lock tracking did not record the holder"
        );
        drop(guard);
        check!(
            subsystem.holder().is_none(),
            "lock tracking did not clear the holder"
        );
        // Lock order checking is live: an order taken is recorded (the inversion itself
        // would panic, so it is the host tests' to provoke), and nothing is left held.
        let first = SpinLock::<u32>::new(0);
        let then = SubsystemLock::new(0u32);
        {
            let _first = first.lock();
            let _then = then.lock();
            check!(
                tessera_sync::locks_held() == 2,
                "lock tracking counts {} held locks, not 2",
                tessera_sync::locks_held()
            );
        }
        check!(
            tessera_sync::ordered_before(&first, &then)
                && !tessera_sync::ordered_before(&then, &first),
            "lock tracking did not record the order of two locks"
        );
        check!(
            tessera_sync::locks_held() == 0,
            "lock tracking still counts held locks"
        );
    }
    check!(*lock.lock() == 2, "lock contents");
    Ok(())
}

fn timer() -> Outcome {
    const TICKS: u64 = 5;
    let (start_ticks, start_ns) = (trap::ticks(), clock::now_ns());
    // A generous virtual-time bound: this checks that ticks arrive, not how fast.
    let deadline = start_ns + 10_000_000_000;
    while trap::ticks() < start_ticks + TICKS {
        check!(
            clock::now_ns() < deadline,
            "fewer than {TICKS} timer ticks in 10 s"
        );
        x86_64::instructions::hlt();
    }
    let (mut last, mut monotonic) = (clock::now_ns(), true);
    for _ in 0..1000 {
        let now = clock::now_ns();
        monotonic &= now >= last;
        last = now;
    }
    check!(monotonic, "the clock went backwards");
    check!(
        last > start_ns,
        "the clock did not advance over {TICKS} ticks"
    );
    // The cycles-to-ns scaling (a multiply and a shift, as the vDSO computes it) is never
    // ahead of the exact division and behind it by at most 1 ns per 2^32 cycles (mult is
    // rounded down by less than 1).
    for hz in [1_000_000, 2_601_000_000, 3_999_999_999, 10_000_000_000] {
        let mult = clock::mult_for(hz);
        for seconds in [1u64, 3600, 86_400 * 365] {
            let (exact, cycles) = (seconds * 1_000_000_000, hz * seconds);
            let got = clock::scale(cycles, mult);
            check!(
                got <= exact && exact - got <= (cycles >> clock::SHIFT) + 1,
                "{seconds} s at {hz} Hz scaled to {got} ns"
            );
        }
    }
    Ok(())
}
