//! `cargo xtask size [--config NAME | --all] [--markdown]`: what a config compiles into its
//! kernel, crate by crate, and how big the image is (docs/size.md).
//!
//! The kernel is built as `cargo xtask build` builds it ([`kernel::build_reporting`]), and
//! cargo's artifact messages name the files of this build: for a library its
//! `deps/libNAME-HASH.rlib`, beside which rustc wrote its dep-info `deps/NAME-HASH.d`; for
//! the kernel binary the executable, a hard link (or a copy) of `deps/tessera-HASH`. The
//! dep-info lists every source file the compiler read for that crate; the `.rs` ones are
//! counted, line by line. Crates compiled for the host (build scripts, procedural macros and
//! their dependencies) are not in the kernel and are left out; so are `core`, `alloc` and
//! `compiler_builtins`, which come precompiled with the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, SectionFlags, elf};

use crate::args::Args;
use crate::bench::report::count;
use crate::exit::Code;
use crate::kernel::{self, Artifact};
use crate::setup::KERNEL_TARGET;

/// `cargo xtask size`.
pub fn size_command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?;
    let all = args.flag("all");
    let markdown = args.flag("markdown");
    args.finish()?;
    let names = match (config, all) {
        (Some(_), true) => return Err("--config and --all exclude each other".into()),
        (Some(name), false) => vec![name],
        (None, true) => tessera_config::available_configs(&crate::root().join("configs")),
        (None, false) => vec!["fast".into()],
    };
    let mut sizes = Vec::new();
    for name in &names {
        let (kernel, artifacts) = kernel::build_reporting(&kernel::load_config(name)?)?;
        let crates = crates(&artifacts, &crate::root(), &kernel::target_dir())?;
        sizes.push(Size {
            config: kernel.config.name.clone(),
            crates,
            image: Image::read(&kernel.elf)?,
        });
    }
    if markdown {
        let (describe, commit, _) = crate::bench::target::git_identity();
        print!("{}", markdown_tables(&sizes, &describe, &commit));
    } else {
        for size in &sizes {
            print!("{}", text_table(size));
        }
    }
    Ok(Code::Ok)
}

/// Lines of Rust compiled into a config's kernel: (project crates, external crates, all).
pub fn lines(config: &str) -> Result<[u64; 3], String> {
    let (_, artifacts) = kernel::build_reporting(&kernel::load_config(config)?)?;
    let size = Size {
        config: config.into(),
        crates: crates(&artifacts, &crate::root(), &kernel::target_dir())?,
        image: Image::default(),
    };
    Ok(size.totals())
}

/// The teaching ladder compiles less on each lower rung, and rung 3 (`minimal`) at most half
/// of what `fast` compiles, counting every crate compiled into the kernel (issue 14's
/// measure; docs/size.md has the figures).
pub fn check_ladder() -> Result<String, String> {
    let [boot, hello, minimal, fast] =
        ["boot", "hello", "minimal", "fast"].map(|name| lines(name).map(|l| l[2]));
    let (boot, hello, minimal, fast) = (boot?, hello?, minimal?, fast?);
    let figures = format!(
        "lines compiled: boot {boot}, hello {hello}, minimal {minimal}, fast {fast} ({:.0}% of fast)",
        minimal as f64 * 100.0 / fast as f64
    );
    if boot < hello && hello < minimal && minimal * 2 <= fast {
        Ok(figures)
    } else {
        Err(format!(
            "{figures}: each rung must compile less than the next, and minimal at most half of fast"
        ))
    }
}

/// One config's figures.
struct Size {
    config: String,
    crates: Vec<Crate>,
    image: Image,
}

impl Size {
    /// Lines of the project's crates, of the others, of all.
    fn totals(&self) -> [u64; 3] {
        let sum = |project: bool| {
            self.crates
                .iter()
                .filter(|c| c.project == project)
                .map(|c| c.lines)
                .sum::<u64>()
        };
        [sum(true), sum(false), sum(true) + sum(false)]
    }
}

/// A crate compiled into the kernel.
#[derive(Clone, Debug, PartialEq)]
struct Crate {
    /// The package's name, with its version for an external crate (`smoltcp 0.12.0`).
    name: String,
    /// A workspace member (its package lives in this repository).
    project: bool,
    files: usize,
    lines: u64,
}

/// The crates of the kernel among `artifacts`, project crates first, then by name.
fn crates(artifacts: &[Artifact], root: &Path, target_dir: &Path) -> Result<Vec<Crate>, String> {
    let kernel_dir = target_dir.join(KERNEL_TARGET);
    // Package id -> the source files of its kernel artifacts.
    let mut files: BTreeMap<&str, BTreeSet<PathBuf>> = BTreeMap::new();
    for artifact in artifacts {
        let Some(built) = artifact
            .filenames
            .iter()
            .find(|f| f.starts_with(&kernel_dir))
        else {
            continue; // compiled for the host
        };
        let dep_info = dep_info_path(built)?;
        let text = std::fs::read_to_string(&dep_info)
            .map_err(|e| format!("{}: {e}", dep_info.display()))?;
        files
            .entry(&artifact.package_id)
            .or_default()
            .extend(rust_files(&text).into_iter().map(|f| root.join(f)));
    }
    let mut crates = Vec::new();
    for (id, sources) in files {
        let mut lines = 0;
        for file in &sources {
            let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            lines += count_lines(&text);
        }
        let (name, version) = package_name(id);
        let project = id.starts_with("path+file://");
        crates.push(Crate {
            name: if project {
                name
            } else {
                format!("{name} {version}")
            },
            project,
            files: sources.len(),
            lines,
        });
    }
    crates.sort_by(|a, b| (!a.project, &a.name).cmp(&(!b.project, &b.name)));
    Ok(crates)
}

/// The dep-info file rustc wrote for an artifact: `deps/NAME-HASH.d` beside a library's
/// `deps/libNAME-HASH.rlib`; for an executable outside `deps/`, that of the `deps/` file it
/// was hard-linked or copied from.
fn dep_info_path(built: &Path) -> Result<PathBuf, String> {
    let dir = built.parent().ok_or("an artifact without a directory")?;
    let name = built
        .file_name()
        .ok_or("an artifact without a name")?
        .to_string_lossy();
    if dir.ends_with("deps") {
        let stem = Path::new(name.strip_prefix("lib").unwrap_or(&name)).with_extension("");
        return Ok(dir.join(stem).with_extension("d"));
    }
    let deps = dir.join("deps");
    let prefix = format!("{name}-");
    let entries = std::fs::read_dir(&deps).map_err(|e| format!("{}: {e}", deps.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_none()
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .find(|path| same_file(path, built))
        .map(|path| path.with_extension("d"))
        .ok_or_else(|| format!("no file in {} is {}", deps.display(), built.display()))
}

/// Whether two paths are one file (hard links), or two files with the same bytes.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) => true,
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => {
            matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

/// The `.rs` files a rustc dep-info file lists, in order, each once. The file is Makefile
/// rules (`target: prerequisite ...`, a space in a path written `\ `) and `#` comments
/// (`# env-dep:...`); the sources are the prerequisites.
fn rust_files(dep_info: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for line in dep_info.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some((_, prerequisites)) = line.split_once(": ") else {
            continue; // blank, or a rule without prerequisites (`src/lib.rs:`)
        };
        for file in split_escaped(prerequisites) {
            if file.ends_with(".rs") && !files.contains(&file) {
                files.push(file);
            }
        }
    }
    files
}

/// Words separated by spaces, `\ ` standing for a space inside a word.
fn split_escaped(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(' ') => word.push(' '),
                Some(other) => word.extend(['\\', other]),
                None => word.push('\\'),
            },
            ' ' => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
            c => word.push(c),
        }
    }
    words.extend((!word.is_empty()).then_some(word));
    words
}

/// Lines as an editor shows them: newlines, plus a last line that has none.
fn count_lines(text: &[u8]) -> u64 {
    let newlines = text.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(text.last().is_some_and(|&b| b != b'\n'))
}

/// A package's name and version from cargo's package id: `path+file:///x/vfs#tessera-vfs@0.1.0`,
/// `path+file:///x/pipe#0.1.0` (the directory's name is the package's),
/// `registry+https://...#smoltcp@0.12.0`, or the older `smoltcp 0.12.0 (registry+...)`.
fn package_name(id: &str) -> (String, String) {
    if let Some((name, rest)) = id.split_once(' ') {
        let version = rest.split(' ').next().unwrap_or("");
        return (name.into(), version.into());
    }
    let (url, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
    match fragment.split_once('@') {
        Some((name, version)) => (name.into(), version.into()),
        None => {
            let dir = url.trim_end_matches('/').rsplit('/').next().unwrap_or(url);
            (dir.into(), fragment.into())
        }
    }
}

/// The sizes of a kernel image.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Image {
    /// The ELF file's size.
    file: u64,
    /// The loadable segments' size in memory.
    loadable: u64,
    /// The allocated sections by kind: executable; read-only; writable with contents;
    /// zero-initialized (no contents in the file). The first two are `size`'s `text`.
    code: u64,
    rodata: u64,
    data: u64,
    bss: u64,
}

impl Image {
    fn read(path: &Path) -> Result<Image, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let elf = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut image = Image {
            file: bytes.len() as u64,
            loadable: elf.segments().map(|s| s.size()).sum(),
            ..Image::default()
        };
        for section in elf.sections() {
            let SectionFlags::Elf { sh_type, sh_flags } = section.flags() else {
                continue;
            };
            let has = |flag: elf::SectionFlags| sh_flags.0 & flag.0 != 0;
            if !has(elf::SHF_ALLOC) {
                continue;
            }
            let field = if sh_type == elf::SHT_NOBITS {
                &mut image.bss
            } else if has(elf::SHF_WRITE) {
                &mut image.data
            } else if has(elf::SHF_EXECINSTR) {
                &mut image.code
            } else {
                &mut image.rodata
            };
            *field += section.size();
        }
        Ok(image)
    }
}

/// One config's crates and image, for a terminal.
fn text_table(size: &Size) -> String {
    let mut out = format!(
        "config `{}`: lines of Rust compiled into the kernel\n",
        size.config
    );
    let [project, external, all] = size.totals();
    for (is_project, title, total) in [(true, "project", project), (false, "external", external)] {
        out.push_str(&format!("{title} crates:\n"));
        for c in size.crates.iter().filter(|c| c.project == is_project) {
            out.push_str(&format!(
                "  {:<28} {:>5} files {:>9} lines\n",
                c.name,
                c.files,
                count(c.lines)
            ));
        }
        out.push_str(&format!("  {:<40} {:>9} lines\n", "total", count(total)));
    }
    let i = &size.image;
    out.push_str(&format!(
        "all crates {:>42} lines\nimage: {} bytes (ELF file); loadable segments {} bytes: \
         code {}, read-only {}, data {}, bss {}\n\n",
        count(all),
        count(i.file),
        count(i.loadable),
        count(i.code),
        count(i.rodata),
        count(i.data),
        count(i.bss)
    ));
    out
}

/// Every config's totals, then every crate's lines by config, in Markdown.
fn markdown_tables(sizes: &[Size], describe: &str, commit: &str) -> String {
    let mut out = format!(
        "Measured at `{describe}` (commit {commit}) with `cargo xtask size --all --markdown`.\n\n\
         | config | project crates | external crates | all crates | ELF file | loadable | \
         code | read-only | data | bss |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    );
    for size in sizes {
        let [project, external, all] = size.totals();
        let i = &size.image;
        let cells = [
            project, external, all, i.file, i.loadable, i.code, i.rodata, i.data, i.bss,
        ]
        .map(count);
        out.push_str(&format!("| {} | {} |\n", size.config, cells.join(" | ")));
    }
    out.push_str(
        "\nLines by crate (empty: not compiled into that config's kernel); sizes in bytes \
         above.\n\n| crate |",
    );
    for size in sizes {
        out.push_str(&format!(" {} |", size.config));
    }
    out.push_str(&format!("\n|---|{}\n", "--:|".repeat(sizes.len())));
    let mut names: Vec<(bool, &str)> = sizes
        .iter()
        .flat_map(|s| s.crates.iter().map(|c| (!c.project, c.name.as_str())))
        .collect();
    names.sort();
    names.dedup();
    for (external, name) in names {
        // Project crates in bold.
        let label = if external {
            name.to_string()
        } else {
            format!("**{name}**")
        };
        out.push_str(&format!("| {label} |"));
        for size in sizes {
            let lines = size.crates.iter().find(|c| c.name == name);
            out.push_str(&format!(
                " {} |",
                lines.map(|c| count(c.lines)).unwrap_or_default()
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_the_rust_sources_once() {
        let text = "\
/t/deps/tessera_vfs-60b4.d: components/vfs/src/lib.rs components/vfs/src/a\\ b.rs /o/out/gen.rs data/table.bin

/t/deps/libtessera_vfs-60b4.rlib: components/vfs/src/lib.rs components/vfs/src/a\\ b.rs /o/out/gen.rs data/table.bin

components/vfs/src/lib.rs:
components/vfs/src/a\\ b.rs:
/o/out/gen.rs:
data/table.bin:

# env-dep:CARGO_PKG_VERSION=0.1.0
# env-dep:OUT_DIR=/o/out
";
        assert_eq!(
            rust_files(text),
            [
                "components/vfs/src/lib.rs",
                "components/vfs/src/a b.rs",
                "/o/out/gen.rs"
            ]
        );
        assert_eq!(rust_files(""), Vec::<String>::new());
    }

    #[test]
    fn lines_are_counted_as_an_editor_shows_them() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"fn main() {}\n"), 1);
        assert_eq!(count_lines(b"fn main() {}"), 1, "no final newline");
        assert_eq!(
            count_lines(b"a\n\n// c\r\n"),
            3,
            "blank and comment lines count"
        );
        assert_eq!(count_lines("é\nü".as_bytes()), 2);
    }

    #[test]
    fn package_names_from_ids() {
        for (id, name, version) in [
            (
                "path+file:///w/components/vfs#tessera-vfs@0.1.0",
                "tessera-vfs",
                "0.1.0",
            ),
            ("path+file:///w/components/pipe#0.1.0", "pipe", "0.1.0"),
            (
                "registry+https://github.com/rust-lang/crates.io-index#smoltcp@0.12.0",
                "smoltcp",
                "0.12.0",
            ),
            (
                "smoltcp 0.12.0 (registry+https://github.com/rust-lang/crates.io-index)",
                "smoltcp",
                "0.12.0",
            ),
        ] {
            assert_eq!(package_name(id), (name.into(), version.into()), "{id}");
        }
    }

    /// The dep-info of this build's artifact, not of another build's (another hash) left
    /// beside it, and the executable's through the file it was linked from.
    #[test]
    fn dep_info_of_this_build() {
        let dir = std::env::temp_dir().join(format!("xtask-size-{}", std::process::id()));
        let deps = dir.join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        let write = |name: &str, text: &str| std::fs::write(deps.join(name), text).unwrap();
        write("tessera-1111", "old kernel");
        write("tessera-1111.d", "");
        write("tessera-2222", "new kernel");
        write("tessera-2222.d", "");
        std::fs::hard_link(deps.join("tessera-2222"), dir.join("tessera")).unwrap();
        std::fs::write(dir.join("copied"), "old kernel").unwrap();
        write("copied-3333", "old kernel");
        assert_eq!(
            dep_info_path(&dir.join("tessera")).unwrap(),
            deps.join("tessera-2222.d")
        );
        assert_eq!(
            dep_info_path(&dir.join("copied")).unwrap(),
            deps.join("copied-3333.d")
        );
        assert_eq!(
            dep_info_path(&deps.join("libtessera_vfs-60b4.rlib")).unwrap(),
            deps.join("tessera_vfs-60b4.d")
        );
        assert!(dep_info_path(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn markdown_has_a_row_per_config_and_per_crate() {
        let krate = |name: &str, project, lines| Crate {
            name: name.into(),
            project,
            files: 1,
            lines,
        };
        let size = |config: &str, crates| Size {
            config: config.into(),
            crates,
            image: Image {
                file: 5000,
                loadable: 4000,
                code: 2000,
                rodata: 1000,
                data: 100,
                bss: 900,
            },
        };
        let sizes = [
            size(
                "fast",
                vec![
                    krate("tessera-kernel", true, 20_000),
                    krate("smoltcp 0.12.0", false, 30_000),
                ],
            ),
            size("minimal", vec![krate("tessera-kernel", true, 10_000)]),
        ];
        let md = markdown_tables(&sizes, "abc1234", "abc1234ffff");
        assert!(
            md.contains(
                "| fast | 20,000 | 30,000 | 50,000 | 5,000 | 4,000 | 2,000 | 1,000 | 100 | 900 |"
            ),
            "{md}"
        );
        assert!(md.contains("| minimal | 10,000 | 0 | 10,000 |"), "{md}");
        assert!(
            md.contains("| **tessera-kernel** | 20,000 | 10,000 |"),
            "{md}"
        );
        assert!(md.contains("| smoltcp 0.12.0 | 30,000 |  |"), "{md}");
        let text = text_table(&sizes[0]);
        assert!(text.contains("tessera-kernel"), "{text}");
        assert!(text.contains("50,000 lines"), "{text}");
    }
}
