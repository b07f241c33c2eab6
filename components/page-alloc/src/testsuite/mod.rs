//! The shared test suite: generic functions over `A: PageAllocator`, instantiated once per
//! variant by `variant_suite!` so every variant passes exactly the same checks.

mod edge;
mod model;

use crate::{PageAllocator, Pfn};

/// An allocator over [base, base + pages) whose metadata starts out as garbage, because
/// `new` must not rely on its contents.
fn make<A: PageAllocator>(base: Pfn, pages: usize) -> A {
    let meta = vec![0xA5A5_5A5A_DEAD_BEEF_u64; A::metadata_words(pages)];
    A::new(Box::leak(meta.into_boxed_slice()), base, pages)
}

/// Instantiate the suite for each `module: Type, "feature", "NAME";` line.
macro_rules! variant_suite {
    ($($module:ident: $ty:ty, $feature:literal, $name:literal;)*) => {$(
        #[cfg(feature = $feature)]
        mod $module {
            use super::{edge, model};
            type A = $ty;

            #[test]
            fn name_and_max_order() {
                assert_eq!(<A as crate::PageAllocator>::NAME, $name);
                assert_eq!(<A as crate::PageAllocator>::MAX_ORDER, 10);
            }
            #[test]
            fn zero_pages() {
                edge::zero_pages::<A>();
            }
            #[test]
            fn one_page() {
                edge::one_page::<A>();
            }
            #[test]
            fn range_not_multiple_of_max_block() {
                edge::range_not_multiple_of_max_block::<A>();
            }
            #[test]
            fn unaligned_base() {
                edge::unaligned_base::<A>();
            }
            #[test]
            fn invalid_order() {
                edge::invalid_order::<A>();
            }
            #[test]
            fn bad_frees_leave_state_intact() {
                edge::bad_frees_leave_state_intact::<A>();
            }
            #[test]
            fn overlapping_adds_count_once() {
                edge::overlapping_adds_count_once::<A>();
            }
            #[test]
            fn scattered_adds_coalesce() {
                edge::scattered_adds_coalesce::<A>();
            }
            #[test]
            fn top_of_address_space() {
                edge::top_of_address_space::<A>();
            }
            #[test]
            fn metadata_fits_any_base() {
                edge::metadata_fits_any_base::<A>();
            }

            proptest::proptest! {
                #![proptest_config(model::config())]
                #[test]
                fn matches_model(scenario in model::scenario()) {
                    model::check::<A>(&scenario)?;
                }
            }
        }
    )*};
}

variant_suite! {
    bitmap: crate::bitmap::BitmapAllocator, "bitmap", "bitmap";
    buddy: crate::buddy::BuddyAllocator, "buddy", "buddy";
}
