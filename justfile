# Thin aliases over `cargo xtask` (install just with `cargo install just`).
# Everything here works without just: see README.md.

# Options are written key=value (`just run config=minimal mode=icount`) and become xtask's
# --key=value; words after `--` are passed on untouched.

# Build target/kernels/CONFIG/kernel.elf: `just build config=fast`
build *args="":
    cargo xtask build {{ replace_regex(args, '(^| )(config)=', '${1}--${2}=') }}

# Build and boot in QEMU on this terminal (Ctrl-A X quits): `just run config=minimal`
run *args="":
    cargo xtask run {{ replace_regex(args, '(^| )(config|mode|append|initrd|init|timeout|hostfwd)=', '${1}--${2}=') }}

# Every test, as CI runs them
test:
    cargo xtask test

# Lines of Rust compiled into a kernel, by crate, and its image size (docs/size.md):
# `just size config=minimal`, `just size --all --markdown`
size *args="":
    cargo xtask size {{ replace_regex(args, '(^| )(config)=', '${1}--${2}=') }}

# Regenerate docs/configs.md and docs/syscalls.md
docs:
    cargo xtask docs

# key=value arguments become xtask options (`mode=wall` -> `--mode=wall`); docs/benchmarks.md.
# System-call and network benchmarks of one kernel: `just bench config=linux mode=wall`,
# `just bench --quick`, `just bench only=tcp_tx,tcp_rx,tcp_connect`
bench *args="":
    cargo xtask bench {{ replace_regex(args, '(^| )([a-z][a-z-]*)=', '${1}--${2}=') }}

# Compare two kernels: `just ab a=baseline b=fast`, `just ab b=fast,dcache=off mode=wall runs=5`
ab *args="":
    cargo xtask ab {{ replace_regex(args, '(^| )([a-z][a-z-]*)=', '${1}--${2}=') }}

# A program under the in-kernel syscall profiler: `just profile config=fast -- ls -R /`
profile *args="":
    cargo xtask profile {{ replace_regex(args, '(^| )(config|mode)=', '${1}--${2}=') }}

# Kernel instructions of one benchmark by function: `just trace only=stat a=fast b=fast,lookup=full`
trace *args="":
    cargo xtask trace {{ replace_regex(args, '(^| )([a-z]+)=', '${1}--${2}=') }}
