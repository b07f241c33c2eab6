//! execve: replaces the current process's program with an ELF executable or a `#!` script.
//!
//! The ELF decisions (segments, auxiliary vector, stack layout, shebang rules) come from the
//! `tessera-exec` component; this module makes them real in a fresh address space: private
//! file mappings for the segments (filled on demand) and for those of the ELF interpreter
//! a dynamically linked program names (`PT_INTERP`: ld.so), the stack area, the initial
//! stack written, and the trap frame pointed at the entry (the interpreter's, if any).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tessera_abi::{Errno, KResult};
use tessera_exec::{
    BINPRM_BUF_SIZE, Credentials, LoadPlan, MAX_INTERPRETER_DEPTH, build_stack, elf_auxv,
    interpreter_path, parse_elf_prefix, parse_shebang, script_argv,
};
use tessera_platform::fpu::FpuState;
use tessera_platform::trap::TrapFrame;
use tessera_sync::SubsystemLock;

use super::current;
use super::task::Task;
use crate::mm::vm::{Backing, Prot, STACK_SIZE, STACK_TOP, Vm, Vma};
use crate::user;

/// Where a static PIE is loaded (as Linux's ELF_ET_DYN_BASE for x86_64).
const PIE_BASE: u64 = 0x5555_5555_4000;
/// How much of an executable is read before loading: ELF header and program headers.
const HEAD_BYTES: usize = 16 * 1024;
/// Size of an ELF64 file header: an interpreter must have one.
const ELF_HEADER_BYTES: usize = 64;
/// Page size of the user address space.
const PAGE: u64 = tessera_exec::PAGE_SIZE;

pub fn execve(
    path: &[u8],
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    frame: &mut TrapFrame,
) -> KResult<()> {
    let execfn = path.to_vec();
    let mut path = path.to_vec();
    // `#!` interpreters may themselves be scripts, this deep.
    for _ in 0..MAX_INTERPRETER_DEPTH {
        let (dentry, size) = crate::fs::executable(&path)?;
        let inode = dentry.inode();
        // The ELF and program headers (and a #! line) are in the first bytes of the file.
        let mut image = alloc::vec![0u8; (size as usize).min(HEAD_BYTES)];
        let read = crate::fs::read_full(inode, 0, &mut image)?;
        image.truncate(read);
        let head = &image[..image.len().min(BINPRM_BUF_SIZE)];
        if let Some(shebang) = parse_shebang(head) {
            let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let new_argv: Vec<Vec<u8>> = script_argv(&shebang, &path, &args)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            path = shebang.interpreter.to_vec();
            argv = new_argv;
            continue;
        }
        return load(&dentry, size, &image, &path, &argv, &envp, &execfn, frame);
    }
    Err(Errno::ELOOP)
}

fn prot(p: tessera_exec::Prot) -> Prot {
    let mut prot = Prot::empty();
    if p.read {
        prot |= Prot::READ;
    }
    if p.write {
        prot |= Prot::WRITE;
    }
    if p.exec {
        prot |= Prot::EXEC;
    }
    prot
}

/// An ELF interpreter a dynamically linked program names, found and read before anything is
/// committed: its file, its first bytes (headers) and its size.
struct Interpreter {
    dentry: crate::fs::DentryRef,
    head: Vec<u8>,
    size: u64,
}

impl Interpreter {
    /// The interpreter `plan` names in `inode` (the program's file): its path read from the
    /// `PT_INTERP` bytes, then the file opened as an executable is (ENOENT, EACCES as for
    /// the program; Linux's `open_exec`). A file shorter than an ELF header is EIO (Linux's
    /// short read of it), one that is not an ELF image of this machine ELIBBAD, as on Linux.
    fn open(inode: &Arc<dyn tessera_vfs::Inode>, at: tessera_exec::InterpRef) -> KResult<Self> {
        let mut bytes = alloc::vec![0u8; at.size as usize];
        if crate::fs::read_full(inode, at.file_offset, &mut bytes)? != bytes.len() {
            return Err(Errno::EIO);
        }
        // An empty path is not refused as execve's own empty path is (ENOENT): Linux's
        // `open_exec` walks it from the working directory and finds a directory (EACCES).
        let path = match interpreter_path(&bytes)? {
            b"" => b".",
            path => path,
        };
        let (dentry, size) = crate::fs::executable(path)?;
        let mut head = alloc::vec![0u8; (size as usize).min(HEAD_BYTES)];
        let read = crate::fs::read_full(dentry.inode(), 0, &mut head)?;
        if read < ELF_HEADER_BYTES {
            return Err(Errno::EIO);
        }
        head.truncate(read);
        Ok(Interpreter { dentry, head, size })
    }

    /// Its plan, placed at `base` (an `ET_DYN` interpreter, as every ld.so is; an
    /// `ET_EXEC` one stays where it was linked).
    fn plan(&self, base: u64) -> KResult<LoadPlan> {
        parse_elf_prefix(&self.head, self.size, base).map_err(|_| Errno::ELIBBAD)
    }
}

/// Maps the segments of `plan` from `dentry`'s file into `vm`.
///
/// Every segment maps the file privately, as Linux's loader does: pages come in on first
/// touch from the page cache (text and read-only data shared by every process, fork need
/// not copy them), and a writable segment's pages are copied when first written. The bss is
/// the part of a writable segment past its file bytes (`limit`): it reads as zeros, the tail
/// of the last file page included. A read-only segment shows its last page whole, whatever
/// file bytes follow the segment in it (as Linux maps it), so that page too is the page
/// cache's, not a copy per process.
fn map_segments(vm: &mut Vm, plan: &LoadPlan, dentry: &crate::fs::DentryRef) {
    let inode = dentry.inode();
    for segment in &plan.segments {
        let backing = if segment.file_size == 0 {
            Backing::Anonymous
        } else {
            let limit = if segment.prot.write {
                segment.file_size
            } else {
                segment.file_size.next_multiple_of(PAGE)
            };
            Backing::File {
                inode: inode.clone(),
                offset: segment.file_offset,
                limit,
                name: dentry.clone(),
            }
        };
        vm.insert(Vma {
            start: segment.start,
            end: segment.end,
            prot: prot(segment.prot),
            shared: false,
            backing,
            private_pages: false,
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn load(
    dentry: &crate::fs::DentryRef,
    size: u64,
    image: &[u8],
    path: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    frame: &mut TrapFrame,
) -> KResult<()> {
    let inode = dentry.inode();
    let plan = parse_elf_prefix(image, size, PIE_BASE)?;
    let interpreter = plan
        .interpreter
        .map(|at| Interpreter::open(inode, at))
        .transpose()?;
    let mut vm = Vm::new()?;
    map_segments(&mut vm, &plan, dentry);
    // The stack ends below the vDSO, which takes the top pages (sharing the stack's last
    // page table: a vDSO placed anywhere else costs every fork and exit another one or
    // two page-table pages to copy, walk and free).
    let stack_top = STACK_TOP - crate::mm::vdso::SPAN;
    vm.stack_top = stack_top;
    vm.insert(Vma {
        start: stack_top - STACK_SIZE,
        end: stack_top,
        prot: Prot::READ | Prot::WRITE,
        shared: false,
        backing: Backing::Anonymous,
        private_pages: false,
    });
    vm.brk_start = plan.brk;
    vm.brk = plan.brk;
    // A dynamically linked program starts in its interpreter, placed as an mmap of its
    // whole span would be (top-down below the mmap base, as Linux's `load_elf_interp`);
    // the interpreter finds the program through AT_PHDR and AT_ENTRY, and itself through
    // AT_BASE.
    let (entry, interp_base) = match &interpreter {
        Some(interp) => {
            let span = interp.plan(PIE_BASE)?.span();
            let base = vm.find_free(span).ok_or(Errno::ENOMEM)?;
            let interp_plan = interp.plan(base)?;
            map_segments(&mut vm, &interp_plan, &interp.dentry);
            (interp_plan.entry, interp_plan.load_bias)
        }
        None => (plan.entry, 0),
    };

    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    // The vDSO first, as Linux's ARCH_DLINFO puts AT_SYSINFO_EHDR first.
    let mut auxv = Vec::new();
    if let Some(image) = crate::mm::vdso::map(&mut vm, stack_top) {
        auxv.push((tessera_abi::auxv::AT_SYSINFO_EHDR, image));
    }
    auxv.extend(elf_auxv(
        &plan,
        interp_base,
        Credentials::default(),
        hwcap(),
        0,
    ));
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let stack = build_stack(
        stack_top, &argv_refs, &envp_refs, execfn, &auxv, random, b"x86_64",
    )?;

    vm.args = stack.arg_start..stack.arg_end;
    vm.env = stack.env_start..stack.env_end;

    // A file open for writing cannot run (ETXTBSY); while it runs, it cannot be written.
    // The same holds for its interpreter (Linux's `open_exec` denies writes to both).
    let mut deny = alloc::vec![crate::fs::write_access::deny(dentry.inode())?];
    if let Some(interp) = &interpreter {
        deny.push(crate::fs::write_access::deny(interp.dentry.inode())?);
    }

    // The point of no return: the old program is gone from here on. The other threads end
    // first; the caller carries on as the process's only thread, with its id.
    let task = de_thread(current());
    super::futex::exec_robust_and_tid(&task);
    vm.activate();
    // A vfork child leaves the parent's memory to it; anyone else's old image goes away
    // with its last user.
    drop(task.replace_vm(Arc::new(SubsystemLock::new(Some(vm)))));
    task.end_vfork();
    if user::write_bytes(stack.start, &stack.bytes).is_err() {
        super::exit::exit_group(task, super::signal::SIGSEGV as i32);
    }

    *frame = TrapFrame {
        rip: entry,
        rsp: stack.start,
        rflags: 0x202,
        cs: 0x23,
        ss: 0x1b,
        ..TrapFrame::default()
    };
    // A table shared with another process (CLONE_FILES) is copied first, as Linux's
    // begin_new_exec does: close-on-exec is this program's business only.
    task.unshare_files();
    task.files.lock().close_on_exec();
    super::signal::reset_on_exec(&task);
    task.clear_child_tid.store(0, Ordering::Relaxed);
    FpuState::restore_initial();
    task.fs_base.store(0, Ordering::Relaxed);
    tessera_platform::usermode::set_fs_base(0);
    *task.process.exe.lock() = Some(dentry.clone());
    task.process.did_exec.store(true, Ordering::Relaxed);
    *task.process.exe_deny.lock() = deny;
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    *task.name.lock() =
        alloc::string::String::from_utf8_lossy(&name[..name.len().min(15)]).into_owned();
    Ok(())
}

/// AT_HWCAP on x86: CPUID leaf 1 EDX.
fn hwcap() -> u64 {
    u64::from(core::arch::x86_64::__cpuid(1).edx)
}

/// Linux's `de_thread`: ends every other thread of `task`'s process and waits until they
/// are gone; a thread other than the leader then takes the leader's place (and so the
/// process id). Returns the task that goes on with the exec.
fn de_thread(task: Arc<Task>) -> Arc<Task> {
    let process = task.process.clone();
    if process.threads.lock().len() == 1 {
        return task;
    }
    // One exec at a time: a thread that finds another one's exec (or a group exit) under
    // way has been killed by it.
    if process.group_exit.load(Ordering::Relaxed)
        || process
            .exec_owner
            .compare_exchange(0, task.tid, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        super::exit::exit_task(task, 0);
    }
    super::signal::kill_group(&process, None, Some(&task));
    let alone = || (process.threads.lock().len() == 1).then_some(());
    if process.thread_exited.wait_until(true, alone).is_err() {
        // A signal came first. A group exit ends this thread too; any other signal waits
        // for the handler the new program will not have.
        if process.group_exit.load(Ordering::Relaxed) {
            process.exec_owner.store(0, Ordering::Relaxed);
            super::exit::exit_task(task, 0);
        }
        let _ = process.thread_exited.wait_until(false, alone);
    }
    process.exec_owner.store(0, Ordering::Relaxed);
    if task.is_leader() {
        return task;
    }
    let leader = process
        .leader()
        .expect("a process keeps its leader until reaped");
    // The leader exited (it left the thread list and became a zombie without blocking in
    // between, on one CPU): it never runs again.
    assert_eq!(
        leader.state(),
        super::task::TaskState::Zombie,
        "exec: the leader still runs"
    );
    task.become_leader(&leader);
    super::sched::set_current_task(leader.clone());
    super::sched::release_later(task);
    leader
}
