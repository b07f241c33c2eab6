//! The config schema as data: every section, key, type, default and variant, each documented
//! exactly once. Validation, Cargo features, generated constants and `docs/configs.md` are all
//! derived from these tables, so they cannot disagree with each other.

/// One value a [`KeyType::Choice`] key may take, e.g. the `buddy` variant of `page-alloc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// The value as written in the TOML file, e.g. `"buddy"`.
    pub name: &'static str,
    /// What selecting this variant means, one line.
    pub doc: &'static str,
}

/// The type of a key's value and which values it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Any non-empty string.
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer in `min..=max`.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// One string out of a fixed list.
    Choice(&'static [Variant]),
}

/// What a key is worth when the file leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDefault {
    /// The key must be present: a config has to say it explicitly.
    Required,
    /// Defaults to this boolean.
    Bool(bool),
    /// Defaults to this integer.
    Int(i64),
    /// Defaults to this string (for [`KeyType::Text`] and [`KeyType::Choice`] keys).
    Text(&'static str),
}

/// Which Cargo features of the kernel crate a key turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Features {
    /// None: the value reaches the kernel as a constant or a profile setting only.
    None,
    /// A choice key turns on `<key>-<variant>`, e.g. `page-alloc-buddy`.
    PerVariant,
    /// A boolean key turns on the feature `<key>` when `true`, e.g. `lock-tracking`.
    WhenTrue,
}

/// One key of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Name inside its section, e.g. `memory-mib`.
    pub name: &'static str,
    /// Type and allowed values.
    pub ty: KeyType,
    /// Value when absent, or [`KeyDefault::Required`].
    pub default: KeyDefault,
    /// Cargo features the key turns on.
    pub features: Features,
    /// What the key controls, one line.
    pub doc: &'static str,
}

/// One `[section]` of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// Table name, e.g. `kernel`.
    pub name: &'static str,
    /// What the section is about, one line.
    pub doc: &'static str,
    /// Its keys, in the order configs, features and constants list them.
    pub keys: &'static [Key],
}

/// Name of the section whose keys are the swappable components.
pub const COMPONENTS: &str = "components";

/// Name of the section whose keys say which optional subsystems are compiled in.
pub const SUBSYSTEMS: &str = "subsystems";

/// A component: a required choice that selects the Cargo feature `<name>-<variant>`.
/// Adding a component is one call of this in the [`COMPONENTS`] section of [`SECTIONS`].
const fn component(name: &'static str, doc: &'static str, variants: &'static [Variant]) -> Key {
    Key {
        name,
        ty: KeyType::Choice(variants),
        default: KeyDefault::Required,
        features: Features::PerVariant,
        doc,
    }
}

/// A subsystem: an optional boolean, on by default, that turns on the kernel feature of its
/// name.
const fn subsystem(name: &'static str, doc: &'static str) -> Key {
    Key {
        name,
        ty: KeyType::Bool,
        default: KeyDefault::Bool(true),
        features: Features::WhenTrue,
        doc,
    }
}

/// Keys outside any section. `description` is the only one: everything else lives in a table.
pub static TOP_LEVEL_KEYS: &[Key] = &[Key {
    name: "description",
    ty: KeyType::Text,
    default: KeyDefault::Required,
    features: Features::None,
    doc: "What the config is for, one line; compiled into the kernel as `CONFIG_DESCRIPTION`.",
}];

/// Every section a config may contain, in documentation order.
pub static SECTIONS: &[Section] = &[
    Section {
        name: "profile",
        doc: "How the kernel crate graph is compiled: `xtask` passes these to cargo.",
        keys: &[
            Key {
                name: "opt-level",
                ty: KeyType::Int { min: 0, max: 3 },
                default: KeyDefault::Int(2),
                features: Features::None,
                doc: "Cargo `opt-level` of the kernel: 0 keeps machine code close to the source.",
            },
            Key {
                name: "lto",
                ty: KeyType::Bool,
                default: KeyDefault::Bool(false),
                features: Features::None,
                doc: "Fat link-time optimization of the whole kernel crate graph (Cargo `lto = \"fat\"`): \
                      LLVM inlines and specialises across crates, e.g. small accessors of \
                      `tessera-abi` into the syscall paths. Slower to build. `tessera-memops` stays outside \
                      LTO (`no_builtins`) and is then built without debug assertions.",
            },
            Key {
                name: "debug-assertions",
                ty: KeyType::Bool,
                default: KeyDefault::Bool(false),
                features: Features::None,
                doc: "Cargo `debug-assertions`: compile `debug_assert!` checks into the kernel.",
            },
            Key {
                name: "lock-tracking",
                ty: KeyType::Bool,
                default: KeyDefault::Bool(false),
                features: Features::WhenTrue,
                doc: "Record the holder of every lock and panic on a spin that looks like a \
                      deadlock; costs atomic stores on every acquire and release.",
            },
            Key {
                name: "syscall-profiler",
                ty: KeyType::Bool,
                default: KeyDefault::Bool(false),
                features: Features::WhenTrue,
                doc: "Count every syscall with its total/min/max TSC cycles and print the top \
                      ones when the machine stops (`cargo xtask profile`); compiled out when false.",
            },
        ],
    },
    Section {
        name: COMPONENTS,
        doc: "One variant per component. Every key is required, so a config always says what \
              it builds; each choice turns on the kernel feature `<component>-<variant>`.",
        keys: &[
            component(
                "page-alloc",
                "Physical page allocator (crate `tessera-page-alloc`).",
                &[
                    Variant {
                        name: "bitmap",
                        doc: "one bit per frame, next-fit linear search for a free aligned run",
                    },
                    Variant {
                        name: "buddy",
                        doc: "binary buddy allocator, O(1) free lists with coalescing",
                    },
                ],
            ),
            component(
                "memops",
                "`memcpy`/`memmove`/`memset`/page copy and zero the kernel links against \
                 (crate `tessera-memops`).",
                &[
                    Variant {
                        name: "simple",
                        doc: "8-byte word loops with a byte tail; plain Rust, easy to read",
                    },
                    Variant {
                        name: "erms",
                        doc: "`rep movsq`/`rep stosq` bulk with a `rep movsb`/`rep stosb` tail",
                    },
                ],
            ),
            component(
                "lock",
                "Lock flavour of subsystems never touched from interrupt context \
                 (`SubsystemLock` in crate `tessera-sync`).",
                &[
                    Variant {
                        name: "irq-save",
                        doc: "`lock()`: save the interrupt flag and `cli` around every \
                              critical section (pushfq; cli; ... popfq)",
                    },
                    Variant {
                        name: "no-irq",
                        doc: "`lock_no_irq()`: spin only, interrupts untouched; sound because \
                              these subsystems never run in interrupt context",
                    },
                ],
            ),
            component(
                "path-buf",
                "How path arguments are read from user memory (`stack` is the StackPathBuf of \
                 Kevlar's blog post \"Beating Linux: Syscall Performance in a Rust Kernel\").",
                &[
                    Variant {
                        name: "heap",
                        doc: "three heap allocations per path: the bytes, a UTF-8 checked copy and \
                              the owned path",
                    },
                    Variant {
                        name: "stack",
                        doc: "one copy into a 256-byte stack buffer; the heap only for longer paths",
                    },
                ],
            ),
            component(
                "pipe",
                "Pipe read/write paths (kernel `fs::pipe` over crate `tessera-pipe`).",
                &[
                    Variant {
                        name: "simple",
                        doc: "every operation enqueues on the wait queue first, bounces through a \
                              kernel buffer and wakes the other side through the queue lock",
                    },
                    Variant {
                        name: "fast",
                        doc: "try first; copy straight between user memory and the ring; skip \
                              wake-ups when no one waits (atomic waiter count)",
                    },
                ],
            ),
            component(
                "page-zero",
                "Zeroing of fresh user pages (anonymous memory, demand paging).",
                &[
                    Variant {
                        name: "twice",
                        doc: "zeroed by the allocator under its lock, then again by the fault handler",
                    },
                    Variant {
                        name: "once",
                        doc: "zeroed once, by the fault handler, after the allocator lock is released",
                    },
                ],
            ),
            component(
                "file-private",
                "Pages of private file mappings (program text, read-only data, MAP_PRIVATE files).",
                &[
                    Variant {
                        name: "copy",
                        doc: "each process copies the file's page into a frame of its own on first touch \
                              (for A/B only: a page only read then misses later writes to the file, \
                              which Linux shows, so the conformance tests expect share)",
                    },
                    Variant {
                        name: "share",
                        doc: "the page cache's frame is mapped copy-on-write into every process, \
                              with the cached pages around a fault mapped at once (fault-around)",
                    },
                ],
            ),
            component(
                "dcache",
                "Dentry cache of path lookup (crate `tessera-vfs`).",
                &[
                    Variant {
                        name: "off",
                        doc: "every path step asks the file system and builds a new dentry",
                    },
                    Variant {
                        name: "hashbrown",
                        doc: "(parent, name) -> dentry hash map; repeated lookups skip the \
                              file system, invalidated on unlink, rename, rmdir and mount",
                    },
                ],
            ),
            component(
                "lookup",
                "How stat, access, readlink and execve find an inode (crate `tessera-vfs`).",
                &[
                    Variant {
                        name: "full",
                        doc: "the general dentry walk for every path, then its inode",
                    },
                    Variant {
                        name: "fast",
                        doc: "inode to inode with no per-step allocation; the full walk only \
                              for `..`, symlinks before the end, and errors",
                    },
                ],
            ),
            component(
                "tmpfs-stat",
                "How tmpfs reports an inode's metadata (crate `tessera-tmpfs`).",
                &[
                    Variant {
                        name: "locked",
                        doc: "takes the inode's lock to copy out every field",
                    },
                    Variant {
                        name: "lockfree",
                        doc: "immutable fields outside the lock, changing ones as atomics read \
                              without locking",
                    },
                ],
            ),
            component(
                "net",
                "Networking (kernel `net` over crate `tessera-net`); Unix sockets exist in both.",
                &[
                    Variant {
                        name: "none",
                        doc: "no network card is touched; `socket(AF_INET, ...)` fails with \
                              EAFNOSUPPORT",
                    },
                    Variant {
                        name: "smoltcp",
                        doc: "virtio-net card and the smoltcp TCP/IP stack: 10.0.2.15/24 via \
                              10.0.2.2 (QEMU user networking), TCP, UDP, loopback",
                    },
                ],
            ),
            component(
                "sched",
                "Scheduling policy: which runnable task runs next and when a time slice ends \
                 (kernel `process::sched` over crate `tessera-sched`).",
                &[Variant {
                    name: "round-robin",
                    doc: "one FIFO run queue; a task runs 2 timer ticks, then goes to the back \
                          (new and woken tasks too): every runnable task runs in turn",
                }],
            ),
            component(
                "vdso",
                "The vDSO: clock_gettime, gettimeofday, time and getcpu answered in user mode \
                 (kernel `mm::vdso`, its code in `kernels/tessera/vdso/`).",
                &[
                    Variant {
                        name: "off",
                        doc: "no vDSO is mapped (no AT_SYSINFO_EHDR): the C library makes the \
                              system calls",
                    },
                    Variant {
                        name: "on",
                        doc: "every process maps the vDSO and the page of clock data it reads \
                              (the TSC scaling and the realtime offset); built with the host's C \
                              compiler",
                    },
                ],
            ),
        ],
    },
    Section {
        name: SUBSYSTEMS,
        doc: "Kernel subsystems compiled in, all optional and on by default; `false` leaves the \
              subsystem's code out of the kernel (the teaching configs' ladder). Each turns on \
              the kernel feature of its name when `true`.",
        keys: &[
            subsystem(
                "userspace",
                "Processes, system calls, files and program loading; without it the kernel boots, \
                 runs its self-tests and stops.",
            ),
            subsystem(
                "tty",
                "The console's line discipline (`tessera-tty`: termios, echo, job control); \
                 without it the console is a plain output device whose reads see end of file.",
            ),
            subsystem(
                "procfs",
                "The `proc` file system; without it `mount -t proc` fails with ENODEV.",
            ),
            subsystem(
                "signals",
                "Signal handlers and what serves them: rt_sigaction, masks, rt_sigreturn and the \
                 signal frame, alternate stacks, sigsuspend, sigtimedwait, signalfd; without them \
                 every signal takes its default action (terminate, stop, continue, ignore) and \
                 those calls return ENOSYS.",
            ),
            subsystem(
                "sockets",
                "The socket system calls and Unix domain sockets (`tessera-net`); without them \
                 the socket calls return ENOSYS. `net = \"smoltcp\"` needs them.",
            ),
        ],
    },
    Section {
        name: "kernel",
        doc: "Kernel parameters, all optional; the kernel's build script turns them into constants.",
        keys: &[
            Key {
                name: "userland",
                ty: KeyType::Choice(&[
                    Variant {
                        name: "none",
                        doc: "no initramfs: a self-test boot",
                    },
                    Variant {
                        name: "hello",
                        doc: "one static program as /init that writes a line and exits \
                              (`userland/hello`)",
                    },
                    Variant {
                        name: "busybox",
                        doc: "Debian's static BusyBox, its applets and a shell",
                    },
                ]),
                default: KeyDefault::Text("busybox"),
                features: Features::None,
                doc: "What `cargo xtask run` boots as user space, and what `cargo xtask test` \
                      runs on this kernel.",
            },
            Key {
                name: "memory-mib",
                ty: KeyType::Int { min: 32, max: 4096 },
                default: KeyDefault::Int(128),
                features: Features::None,
                doc: "RAM in MiB: QEMU's `-m` and the amount the kernel expects to find.",
            },
            Key {
                name: "timer-hz",
                ty: KeyType::Int { min: 10, max: 1000 },
                default: KeyDefault::Int(100),
                features: Features::None,
                doc: "Timer interrupt frequency in Hz.",
            },
            Key {
                name: "cpus",
                ty: KeyType::Int { min: 1, max: 64 },
                default: KeyDefault::Int(1),
                features: Features::None,
                doc: "CPUs of the machine: QEMU's `-smp` (`cargo xtask run --cpus N` overrides \
                      it). The kernel finds them in the ACPI MADT and starts them; for now \
                      the others are parked and the boot CPU runs everything.",
            },
            Key {
                name: "log-level",
                ty: KeyType::Choice(&[
                    Variant {
                        name: "error",
                        doc: "errors only",
                    },
                    Variant {
                        name: "warn",
                        doc: "errors and warnings",
                    },
                    Variant {
                        name: "info",
                        doc: "also boot progress and summaries",
                    },
                    Variant {
                        name: "debug",
                        doc: "also per-subsystem detail for debugging",
                    },
                    Variant {
                        name: "trace",
                        doc: "everything, including per-operation tracing (slow)",
                    },
                ]),
                default: KeyDefault::Text("info"),
                features: Features::None,
                doc: "Most verbose kind of kernel log message that is printed.",
            },
        ],
    },
];

/// Every key with its dotted name (`description`, `kernel.memory-mib`, ...), top-level keys
/// first, then each section's keys in table order.
pub fn all_keys() -> impl Iterator<Item = (String, &'static Key)> {
    let top = TOP_LEVEL_KEYS.iter().map(|key| (key.name.to_string(), key));
    let nested = SECTIONS.iter().flat_map(|section| {
        section
            .keys
            .iter()
            .map(move |key| (format!("{}.{}", section.name, key.name), key))
    });
    top.chain(nested)
}

/// The key with this dotted name, e.g. `find_key("components.lock")`.
pub fn find_key(dotted: &str) -> Option<&'static Key> {
    match dotted.split_once('.') {
        None => TOP_LEVEL_KEYS.iter().find(|key| key.name == dotted),
        Some((section, name)) => find_section(section)?
            .keys
            .iter()
            .find(|key| key.name == name),
    }
}

/// The section with this table name.
pub fn find_section(name: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|section| section.name == name)
}

impl KeyType {
    /// The allowed values as an error message or the docs spell them: `"bitmap", "buddy"`,
    /// `32..=4096`, `true, false` or `any non-empty string`.
    pub fn allowed(&self) -> String {
        match self {
            KeyType::Text => "any non-empty string".to_string(),
            KeyType::Bool => "true, false".to_string(),
            KeyType::Int { min, max } => format!("{min}..={max}"),
            KeyType::Choice(variants) => variants
                .iter()
                .map(|variant| format!("{:?}", variant.name))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Short type name for the docs: `string`, `bool`, `integer` or `choice`.
    pub fn name(&self) -> &'static str {
        match self {
            KeyType::Text => "string",
            KeyType::Bool => "bool",
            KeyType::Int { .. } => "integer",
            KeyType::Choice(_) => "choice",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique() {
        let dotted: Vec<String> = all_keys().map(|(dotted, _)| dotted).collect();
        let unique: HashSet<&String> = dotted.iter().collect();
        assert_eq!(unique.len(), dotted.len(), "duplicate key in {dotted:?}");
        let sections: HashSet<&str> = SECTIONS.iter().map(|section| section.name).collect();
        assert_eq!(sections.len(), SECTIONS.len());
        for (dotted, key) in all_keys() {
            if let KeyType::Choice(variants) = key.ty {
                let names: HashSet<&str> = variants.iter().map(|variant| variant.name).collect();
                assert_eq!(names.len(), variants.len(), "duplicate variant of {dotted}");
            }
        }
    }

    /// Docs go into markdown table cells and `///` lines, so they must be single-line and
    /// free of `|`.
    #[test]
    fn docs_fit_in_a_table_cell() {
        let mut docs: Vec<&str> = SECTIONS.iter().map(|section| section.doc).collect();
        for (_, key) in all_keys() {
            docs.push(key.doc);
            if let KeyType::Choice(variants) = key.ty {
                docs.extend(variants.iter().map(|variant| variant.doc));
            }
        }
        for doc in docs {
            assert!(!doc.trim().is_empty(), "empty doc string");
            assert!(
                !doc.contains(['|', '\n']),
                "doc {doc:?} has `|` or a newline"
            );
        }
    }

    #[test]
    fn defaults_match_their_type() {
        for (dotted, key) in all_keys() {
            let fits = match (key.ty, key.default) {
                (_, KeyDefault::Required) => true,
                (KeyType::Bool, KeyDefault::Bool(_)) => true,
                (KeyType::Int { min, max }, KeyDefault::Int(n)) => (min..=max).contains(&n),
                (KeyType::Text, KeyDefault::Text(s)) => !s.is_empty(),
                (KeyType::Choice(variants), KeyDefault::Text(s)) => {
                    variants.iter().any(|variant| variant.name == s)
                }
                _ => false,
            };
            assert!(fits, "default of {dotted} does not fit its type");
        }
    }

    #[test]
    fn feature_rules_match_their_type() {
        for (dotted, key) in all_keys() {
            let fits = match key.features {
                Features::None => true,
                Features::PerVariant => matches!(key.ty, KeyType::Choice(_)),
                Features::WhenTrue => key.ty == KeyType::Bool,
            };
            assert!(fits, "feature rule of {dotted} does not fit its type");
        }
        let components = find_section(COMPONENTS).expect("components section");
        assert!(components.keys.iter().all(|key| {
            key.features == Features::PerVariant && key.default == KeyDefault::Required
        }));
    }

    #[test]
    fn find_key_resolves_dotted_names() {
        assert_eq!(
            find_key("description").map(|key| key.name),
            Some("description")
        );
        assert_eq!(
            find_key("kernel.timer-hz").map(|key| key.name),
            Some("timer-hz")
        );
        assert_eq!(find_key("kernel.nope"), None);
        assert_eq!(find_key("nope.timer-hz"), None);
        assert_eq!(find_key("memory-mib"), None);
    }

    #[test]
    fn allowed_spells_each_type() {
        assert_eq!(
            find_key("components.page-alloc").unwrap().ty.allowed(),
            r#""bitmap", "buddy""#
        );
        assert_eq!(
            find_key("kernel.memory-mib").unwrap().ty.allowed(),
            "32..=4096"
        );
        assert_eq!(KeyType::Bool.allowed(), "true, false");
        assert_eq!(KeyType::Text.allowed(), "any non-empty string");
    }
}
