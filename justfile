# Thin aliases over `cargo xtask` (install just with `cargo install just`).
# Everything here works without just: see README.md.

config := "fast"

# Build target/kernels/CONFIG/kernel.elf
build config=config:
    cargo xtask build --config {{config}}

# Build and boot in QEMU on this terminal (Ctrl-A X quits)
run config=config *args="":
    cargo xtask run --config {{config}} {{args}}

# Every test, as CI runs them
test:
    cargo xtask test

# Regenerate docs/configs.md and docs/syscalls.md
docs:
    cargo xtask docs

# key=value arguments become xtask options (`mode=wall` -> `--mode=wall`); docs/benchmarks.md.
# System-call benchmark of one kernel: `just bench config=linux mode=wall`, `just bench --quick`
bench *args="":
    cargo xtask bench {{ replace_regex(args, '(^| )([a-z]+)=', '${1}--${2}=') }}

# Compare two kernels: `just ab a=baseline b=fast`, `just ab b=fast,dcache=off mode=wall runs=5`
ab *args="":
    cargo xtask ab {{ replace_regex(args, '(^| )([a-z]+)=', '${1}--${2}=') }}

# A program under the in-kernel syscall profiler: `just profile config=fast -- ls -R /`
profile config=config *args="":
    cargo xtask profile --config {{config}} {{args}}
