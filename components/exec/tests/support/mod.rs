//! A minimal ELF64 writer for the tests, and the two hand-made executables built with it.
//!
//! The writer is deliberately independent of the crate under test (and of the `elf` crate):
//! it lays out the header and program header bytes from the System V ABI tables by hand.
#![allow(dead_code)] // each test binary uses its own subset

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EHDR_SIZE: u64 = 64;
pub const PHDR_SIZE: u64 = 56;

/// One program header, field for field.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

impl Phdr {
    /// A PT_LOAD whose file bytes start at `offset` and map at `vaddr`.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Phdr {
        Phdr {
            p_type: PT_LOAD,
            p_flags: flags,
            p_offset: offset,
            p_vaddr: vaddr,
            p_filesz: filesz,
            p_memsz: memsz,
            p_align: 0x1000,
        }
    }

    /// A header of `p_type` with only flags set (PT_GNU_STACK, PT_INTERP stand-ins).
    pub fn marker(p_type: u32, flags: u32) -> Phdr {
        Phdr {
            p_type,
            p_flags: flags,
            p_align: 0x10,
            ..Phdr::default()
        }
    }
}

/// A file being laid out: ELF header at 0, program headers right after it, then whatever
/// the test places with [`ElfWriter::put`].
pub struct ElfWriter {
    pub e_type: u16,
    pub e_machine: u16,
    pub entry: u64,
    pub phdrs: Vec<Phdr>,
    pub body: Vec<(u64, Vec<u8>)>,
    pub len: u64,
}

impl ElfWriter {
    pub fn new(e_type: u16, entry: u64) -> ElfWriter {
        ElfWriter {
            e_type,
            e_machine: 62,
            entry,
            phdrs: Vec::new(),
            body: Vec::new(),
            len: 0,
        }
    }

    /// File offset just past the program header table.
    pub fn headers_end(&self) -> u64 {
        EHDR_SIZE + PHDR_SIZE * self.phdrs.len() as u64
    }

    /// Places `bytes` at file offset `offset`.
    pub fn put(&mut self, offset: u64, bytes: &[u8]) {
        self.body.push((offset, bytes.to_vec()));
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; EHDR_SIZE as usize];
        // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, padding.
        out[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        let mut h = 16;
        let mut field = |out: &mut Vec<u8>, bytes: &[u8]| {
            out[h..h + bytes.len()].copy_from_slice(bytes);
            h += bytes.len();
        };
        field(&mut out, &self.e_type.to_le_bytes());
        field(&mut out, &self.e_machine.to_le_bytes());
        field(&mut out, &1u32.to_le_bytes()); // e_version
        field(&mut out, &self.entry.to_le_bytes());
        field(&mut out, &EHDR_SIZE.to_le_bytes()); // e_phoff
        field(&mut out, &0u64.to_le_bytes()); // e_shoff: no section headers
        field(&mut out, &0u32.to_le_bytes()); // e_flags
        field(&mut out, &(EHDR_SIZE as u16).to_le_bytes()); // e_ehsize
        field(&mut out, &(PHDR_SIZE as u16).to_le_bytes()); // e_phentsize
        field(&mut out, &(self.phdrs.len() as u16).to_le_bytes()); // e_phnum
        field(&mut out, &64u16.to_le_bytes()); // e_shentsize
        field(&mut out, &0u16.to_le_bytes()); // e_shnum
        field(&mut out, &0u16.to_le_bytes()); // e_shstrndx
        for ph in &self.phdrs {
            out.extend_from_slice(&ph.p_type.to_le_bytes());
            out.extend_from_slice(&ph.p_flags.to_le_bytes());
            out.extend_from_slice(&ph.p_offset.to_le_bytes());
            out.extend_from_slice(&ph.p_vaddr.to_le_bytes());
            out.extend_from_slice(&ph.p_vaddr.to_le_bytes()); // p_paddr
            out.extend_from_slice(&ph.p_filesz.to_le_bytes());
            out.extend_from_slice(&ph.p_memsz.to_le_bytes());
            out.extend_from_slice(&ph.p_align.to_le_bytes());
        }
        for (offset, bytes) in &self.body {
            let end = *offset as usize + bytes.len();
            if out.len() < end {
                out.resize(end, 0);
            }
            out[*offset as usize..end].copy_from_slice(bytes);
        }
        if out.len() < self.len as usize {
            out.resize(self.len as usize, 0);
        }
        out
    }
}

/// Where the ET_EXEC fixture is linked.
pub const EXIT42_BASE: u64 = 0x40_0000;

/// `exit42`: ET_EXEC at 0x400000, one R+X segment covering the whole file (headers and
/// code), PT_GNU_STACK without X. Runs `exit(42)`.
pub fn exit42() -> Vec<u8> {
    let mut w = ElfWriter::new(ET_EXEC, 0);
    w.phdrs.push(Phdr::default()); // the PT_LOAD, sized below
    w.phdrs.push(Phdr::marker(PT_GNU_STACK, PF_R | PF_W));
    let code_at = w.headers_end();
    let code = [
        0xbf, 42, 0, 0, 0, // mov edi, 42
        0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
        0x0f, 0x05, // syscall
    ];
    w.put(code_at, &code);
    let len = code_at + code.len() as u64;
    w.phdrs[0] = Phdr::load(PF_R | PF_X, 0, EXIT42_BASE, len, len);
    w.entry = EXIT42_BASE + code_at;
    w.to_bytes()
}

/// Layout of the `hello-pie` fixture (link-time addresses; the file is linked at 0).
pub mod pie {
    /// Code: file 0x1000, vaddr 0x1000.
    pub const CODE: u64 = 0x1000;
    /// Data: file 0x1100 (shares the code's file page), vaddr 0x2100.
    pub const DATA_OFFSET: u64 = 0x1100;
    pub const DATA_VADDR: u64 = 0x2100;
    /// "hello\n", 2 bytes of padding, then 8 bytes of TLS template.
    pub const DATA_FILESZ: u64 = 16;
    /// The data segment's bss runs over two more pages.
    pub const DATA_MEMSZ: u64 = 0x3000;
    /// File bytes after the data that are not part of it: they must read as zero.
    pub const GARBAGE: [u8; 16] = [0xaa; 16];
    pub const TLS_VADDR: u64 = DATA_VADDR + 8;
    pub const TLS_MEMSZ: u64 = 16;
}

/// `hello-pie`: a static PIE (ET_DYN, no PT_INTERP) with PT_PHDR, a read-only header
/// segment, an R+X code segment, an R+W data segment whose file page it shares with the
/// code and whose bss spans a partial page and two more pages, PT_TLS and PT_GNU_STACK.
///
/// It writes "hello\n" to stdout with a RIP-relative address (no relocations needed), then
/// exits with the OR of two bss words, one in the data's last file page right after the
/// data (where the file holds non-zero bytes) and one at the very end of the bss, after
/// storing into the bss: exit status 0 proves zero-fill and writability.
pub fn hello_pie() -> Vec<u8> {
    use pie::*;
    let mut w = ElfWriter::new(ET_DYN, CODE);
    w.phdrs = vec![Phdr::default(); 6];
    let headers = w.headers_end();
    w.phdrs[0] = Phdr {
        p_type: PT_PHDR,
        p_flags: PF_R,
        p_offset: EHDR_SIZE,
        p_vaddr: EHDR_SIZE,
        p_filesz: headers - EHDR_SIZE,
        p_memsz: headers - EHDR_SIZE,
        p_align: 8,
    };
    w.phdrs[1] = Phdr::load(PF_R, 0, 0, headers, headers);

    let tail = DATA_VADDR + DATA_FILESZ; // first bss byte, in the data's file page
    let bss_last = DATA_VADDR + DATA_MEMSZ - 8; // last bss word
    let mut code = Vec::new();
    let rip_rel = |code: &mut Vec<u8>, opcode: &[u8], target: u64| {
        code.extend_from_slice(opcode);
        let next = CODE + code.len() as u64 + 4;
        code.extend_from_slice(&((target as i64 - next as i64) as i32).to_le_bytes());
    };
    rip_rel(&mut code, &[0x48, 0x8d, 0x35], DATA_VADDR); // lea rsi, [rip+msg]
    code.extend_from_slice(&[0xbf, 1, 0, 0, 0]); // mov edi, 1
    code.extend_from_slice(&[0xba, 6, 0, 0, 0]); // mov edx, 6
    code.extend_from_slice(&[0xb8, 1, 0, 0, 0]); // mov eax, 1 (write)
    code.extend_from_slice(&[0x0f, 0x05]); // syscall
    rip_rel(&mut code, &[0x48, 0x8b, 0x3d], tail); // mov rdi, [rip+tail]
    rip_rel(&mut code, &[0x48, 0x0b, 0x3d], bss_last); // or rdi, [rip+bss_last]
    rip_rel(&mut code, &[0x48, 0x89, 0x05], bss_last); // mov [rip+bss_last], rax
    code.extend_from_slice(&[0xb8, 60, 0, 0, 0]); // mov eax, 60 (exit)
    code.extend_from_slice(&[0x0f, 0x05]); // syscall
    w.put(CODE, &code);
    w.phdrs[2] = Phdr::load(
        PF_R | PF_X,
        CODE,
        CODE,
        code.len() as u64,
        code.len() as u64,
    );

    let mut data = b"hello\n\0\0".to_vec();
    data.extend_from_slice(b"TLSDATA!");
    w.put(DATA_OFFSET, &data);
    w.put(DATA_OFFSET + DATA_FILESZ, &GARBAGE);
    w.phdrs[3] = Phdr::load(
        PF_R | PF_W,
        DATA_OFFSET,
        DATA_VADDR,
        DATA_FILESZ,
        DATA_MEMSZ,
    );
    w.phdrs[4] = Phdr {
        p_type: PT_TLS,
        p_flags: PF_R,
        p_offset: DATA_OFFSET + 8,
        p_vaddr: TLS_VADDR,
        p_filesz: 8,
        p_memsz: TLS_MEMSZ,
        p_align: 8,
    };
    w.phdrs[5] = Phdr::marker(PT_GNU_STACK, PF_R | PF_W);
    w.to_bytes()
}

/// Runs a freshly written executable, retrying while it is "busy": another test thread's
/// fork may briefly hold a copy of the write descriptor (Linux's ETXTBSY race).
pub fn output_retrying(cmd: &mut std::process::Command) -> std::io::Result<std::process::Output> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod probe;

/// A directory under the test target's tmp dir, removed when dropped (even on a failure).
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let name = format!("{tag}-{}", std::process::id());
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
