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

# Regenerate docs/configs.md from the config schema
docs:
    cargo xtask docs
