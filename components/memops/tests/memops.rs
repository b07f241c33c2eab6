//! One test suite, instantiated for every enabled variant: each operation is checked against
//! the standard library's slice operations as the reference, with guard bytes around the
//! destination so a write out of bounds fails too.

/// Sizes every copy/fill/compare test runs: all of 0..=300 (every tail length against every
/// word count that matters) plus the page-sized and larger cases.
fn sizes() -> impl Iterator<Item = usize> {
    (0..=300).chain([4095, 4096, 4097, 65536])
}

/// Misalignments tried for each pointer: every offset within two words.
const MISALIGN: usize = 16;

/// Bytes of slack on each side of a destination, which must come out unchanged.
const GUARD: usize = 32;

/// A buffer of `len` bytes whose contents depend on `seed`, so source and destination differ.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// RFLAGS bit 10: the direction flag.
const DF: u64 = 1 << 10;

/// Reports whether the direction flag is set, and clears it so that a failing variant gives an
/// assertion message instead of crashing the test process in the next (backwards running)
/// string instruction of libc.
fn take_df() -> bool {
    let flags: u64;
    // SAFETY: pushes RFLAGS, pops it into a register (the stack is balanced on exit) and clears
    // DF, which is the state Rust code expects anyway.
    unsafe { core::arch::asm!("pushfq", "pop {}", "cld", out(reg) flags) };
    flags & DF != 0
}

/// A page with the alignment real pages have, for the page operations.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

macro_rules! variant_suite {
    ($variant:ident) => {
        mod $variant {
            use super::*;
            use tessera_memops::$variant as v;

            #[test]
            fn name_is_module_name() {
                assert_eq!(v::NAME, stringify!($variant));
            }

            #[test]
            fn memcpy_matches_reference() {
                for n in sizes() {
                    let src = pattern(n + MISALIGN, 1);
                    for so in 0..MISALIGN {
                        for d_off in 0..MISALIGN {
                            let mut dst = pattern(n + MISALIGN + 2 * GUARD, 2);
                            let mut want = dst.clone();
                            let at = GUARD + d_off;
                            want[at..at + n].copy_from_slice(&src[so..so + n]);
                            // SAFETY: both ranges lie inside their live buffers (sizes chosen
                            // above), and two distinct Vecs cannot overlap.
                            let ret = unsafe {
                                v::memcpy(dst.as_mut_ptr().add(at), src.as_ptr().add(so), n)
                            };
                            assert_eq!(ret, dst[at..].as_mut_ptr(), "return value, n={n}");
                            assert!(dst == want, "n={n} src+{so} dst+{d_off}");
                        }
                    }
                }
            }

            #[test]
            fn memmove_disjoint_matches_reference() {
                for n in sizes() {
                    let src = pattern(n + MISALIGN, 3);
                    for so in 0..MISALIGN {
                        let d_off = (so * 5) % MISALIGN;
                        let mut dst = pattern(n + MISALIGN + 2 * GUARD, 4);
                        let mut want = dst.clone();
                        let at = GUARD + d_off;
                        want[at..at + n].copy_from_slice(&src[so..so + n]);
                        // SAFETY: both ranges lie inside their live buffers.
                        let ret = unsafe {
                            v::memmove(dst.as_mut_ptr().add(at), src.as_ptr().add(so), n)
                        };
                        assert_eq!(ret, dst[at..].as_mut_ptr());
                        assert!(dst == want, "n={n} src+{so} dst+{d_off}");
                    }
                }
            }

            /// Moves within one buffer by every distance up to 40 in both directions (below 8,
            /// around one word, and several words), including distance 0.
            #[test]
            fn memmove_overlapping_both_directions() {
                for n in (0..=300).chain([4097]) {
                    for dist in 0..=40 {
                        for base in [0, 3] {
                            let buf = pattern(n + dist + base + 2 * GUARD, 5);
                            let lo = GUARD + base;
                            let hi = lo + dist;
                            // dst above src: needs a backward copy.
                            let mut got = buf.clone();
                            let mut want = buf.clone();
                            want.copy_within(lo..lo + n, hi);
                            // SAFETY: [lo, hi + n) lies inside `got`.
                            unsafe {
                                let p = got.as_mut_ptr();
                                v::memmove(p.add(hi), p.add(lo), n);
                            }
                            assert!(!take_df(), "DF left set: n={n} dist={dist}");
                            assert!(got == want, "up: n={n} dist={dist} base={base}");
                            // dst below src: a forward copy.
                            let mut got = buf.clone();
                            let mut want = buf;
                            want.copy_within(hi..hi + n, lo);
                            // SAFETY: [lo, hi + n) lies inside `got`.
                            unsafe {
                                let p = got.as_mut_ptr();
                                v::memmove(p.add(lo), p.add(hi), n);
                            }
                            assert!(got == want, "down: n={n} dist={dist} base={base}");
                        }
                    }
                }
            }

            #[test]
            fn direction_flag_clear_after_backward_memmove() {
                let mut buf = pattern(1000, 6);
                let p = buf.as_mut_ptr();
                assert!(!take_df(), "DF must be clear before the test");
                for n in [1, 7, 8, 9, 63, 500] {
                    // SAFETY: [10, 11 + n) lies inside the 1000-byte buffer.
                    unsafe { v::memmove(p.add(11), p.add(10), n) };
                    assert!(!take_df(), "DF left set after n={n}");
                }
            }

            #[test]
            fn memset_matches_reference() {
                // Only the low byte of the int counts, as in C.
                for c in [0, 1, 0x5a, 0xff, -1, -128, 0x1234_5678, i32::MIN] {
                    for n in sizes() {
                        for off in 0..MISALIGN {
                            let mut buf = pattern(n + MISALIGN + 2 * GUARD, 7);
                            let mut want = buf.clone();
                            let at = GUARD + off;
                            want[at..at + n].fill(c as u8);
                            // SAFETY: [at, at + n) lies inside `buf`.
                            let ret = unsafe { v::memset(buf.as_mut_ptr().add(at), c, n) };
                            assert_eq!(ret, buf[at..].as_mut_ptr());
                            assert!(buf == want, "c={c:#x} n={n} off={off}");
                        }
                    }
                }
            }

            #[test]
            fn memcmp_equal_is_zero() {
                for n in sizes() {
                    let a = pattern(n + MISALIGN, 8);
                    let b = pattern(n + MISALIGN, 8);
                    for off in 0..MISALIGN {
                        // SAFETY: [off, off + n) lies inside both buffers.
                        let (cmp, eq) = unsafe {
                            let (pa, pb) = (a.as_ptr().add(off), b.as_ptr().add(off));
                            (v::memcmp(pa, pb, n), v::bcmp(pa, pb, n))
                        };
                        assert_eq!(cmp, 0, "memcmp n={n} off={off}");
                        assert_eq!(eq, 0, "bcmp n={n} off={off}");
                    }
                }
            }

            /// Plants one difference at every position (plus a later one pointing the other
            /// way) and checks the sign follows the first difference, bytes taken as unsigned.
            #[test]
            fn memcmp_sign_follows_first_difference() {
                for n in (1..=80).chain([4096]) {
                    let base = pattern(n + MISALIGN, 9);
                    let positions: Vec<usize> = if n <= 80 {
                        (0..n).collect()
                    } else {
                        vec![0, 7, 8, 4000, n - 1]
                    };
                    for &pos in &positions {
                        for (lo_byte, hi_byte) in [(0x00, 0x01), (0x7f, 0x80), (0x01, 0xff)] {
                            for a_off in [0, 1, 5] {
                                for b_off in [0, 3] {
                                    let mut a = base.clone();
                                    let mut b = base.clone();
                                    // Align both copies so the compared ranges match.
                                    a.rotate_right(a_off);
                                    b.rotate_right(b_off);
                                    a[a_off + pos] = lo_byte;
                                    b[b_off + pos] = hi_byte;
                                    if pos + 1 < n {
                                        // A later difference the other way must not matter.
                                        a[a_off + pos + 1] = 0xff;
                                        b[b_off + pos + 1] = 0x00;
                                    }
                                    // SAFETY: offsets + n stay inside both buffers.
                                    let (ab, ba, eq) = unsafe {
                                        let pa = a.as_ptr().add(a_off);
                                        let pb = b.as_ptr().add(b_off);
                                        (
                                            v::memcmp(pa, pb, n),
                                            v::memcmp(pb, pa, n),
                                            v::bcmp(pa, pb, n),
                                        )
                                    };
                                    let at = format!("n={n} pos={pos} {lo_byte:#x}<{hi_byte:#x}");
                                    assert!(ab < 0, "a<b expected: {at}");
                                    assert!(ba > 0, "b>a expected: {at}");
                                    assert_ne!(eq, 0, "bcmp: {at}");
                                }
                            }
                        }
                    }
                }
            }

            #[test]
            fn compare_only_looks_at_n_bytes() {
                let a = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10];
                let b = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 99];
                // SAFETY: 9 and 10 bytes are inside both 10-byte arrays.
                unsafe {
                    assert_eq!(v::memcmp(a.as_ptr(), b.as_ptr(), 9), 0);
                    assert_eq!(v::bcmp(a.as_ptr(), b.as_ptr(), 9), 0);
                    assert!(v::memcmp(a.as_ptr(), b.as_ptr(), 10) < 0);
                }
            }

            #[test]
            fn zero_page_clears_exactly_one_page() {
                let mut pages = vec![Page([0xaa; 4096]), Page([0xbb; 4096]), Page([0xcc; 4096])];
                // SAFETY: pages[1] is 4096 valid bytes.
                unsafe { v::zero_page(pages[1].0.as_mut_ptr()) };
                assert!(pages[0].0.iter().all(|&b| b == 0xaa));
                assert!(pages[1].0.iter().all(|&b| b == 0));
                assert!(pages[2].0.iter().all(|&b| b == 0xcc));
            }

            #[test]
            fn copy_page_copies_exactly_one_page() {
                let mut src = Page([0; 4096]);
                src.0.copy_from_slice(&pattern(4096, 10));
                let mut pages = vec![Page([0xaa; 4096]), Page([0xbb; 4096]), Page([0xcc; 4096])];
                // SAFETY: both are 4096 valid bytes in distinct allocations.
                unsafe { v::copy_page(pages[1].0.as_mut_ptr(), src.0.as_ptr()) };
                assert!(pages[0].0.iter().all(|&b| b == 0xaa));
                assert!(pages[1].0 == src.0);
                assert!(pages[2].0.iter().all(|&b| b == 0xcc));
            }

            #[test]
            fn page_ops_tolerate_misalignment() {
                let src = pattern(4096 + 8, 11);
                let mut buf = vec![0x55u8; 4096 + 8];
                // SAFETY: [3, 4099) lies inside both 4104-byte buffers.
                unsafe { v::copy_page(buf.as_mut_ptr().add(3), src.as_ptr().add(5)) };
                assert!(buf[3..4099] == src[5..4101]);
                assert_eq!(buf[2], 0x55);
                assert_eq!(buf[4099], 0x55);
                // SAFETY: as above.
                unsafe { v::zero_page(buf.as_mut_ptr().add(3)) };
                assert!(buf[3..4099].iter().all(|&b| b == 0));
                assert_eq!(buf[2], 0x55);
                assert_eq!(buf[4099], 0x55);
            }
        }
    };
}

// `simple` is compiled without any variant feature too (it is then the active one).
#[cfg(any(feature = "simple", not(feature = "erms")))]
variant_suite!(simple);

#[cfg(feature = "erms")]
variant_suite!(erms);

/// The crate-root API resolves to the active variant: `erms` when its feature is on, else
/// `simple`; `--no-default-features --features simple` (or `erms`) runs it with one variant.
mod active_variant {
    use super::*;

    #[test]
    fn variant_names_the_active_feature() {
        let want = if cfg!(feature = "erms") {
            "erms"
        } else {
            "simple"
        };
        assert_eq!(tessera_memops::VARIANT, want);
    }

    #[test]
    fn safe_page_wrappers() {
        let mut src = [0u8; 4096];
        src.copy_from_slice(&pattern(4096, 12));
        let mut dst = [0xaau8; 4096];
        tessera_memops::copy_page(&mut dst, &src);
        assert!(dst == src);
        tessera_memops::zero_page(&mut dst);
        assert!(dst.iter().all(|&b| b == 0));
    }
}
