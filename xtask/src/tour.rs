//! Keeps the links of `docs/tour.md` true to the code they point at.
//!
//! The tour links into the source as `[`snippet`](../path/to/file.rs#L52)`: the snippet must
//! occur, verbatim, on line 52 of that file. When someone edits the file and the line moves,
//! the test below fails, names the link and shows what line 52 holds now (and where the
//! snippet went, if it is still in the file), so the link is fixed in the same change.
//! Links without `#L` need only the file (or directory) to exist; links with a scheme
//! (`https:`) or to an anchor of the same page are not checked.
//!
//! Compiled for tests only: `cargo test -p xtask` runs it, and so does `cargo xtask test`.
#![cfg(test)]

use std::path::{Component, Path, PathBuf};

/// One Markdown link: where it is in the document, its text and its target.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    /// 1-based line of the document the link starts on.
    line: usize,
    text: String,
    target: String,
}

/// The inline links of a Markdown text (`[text](target)`), outside fenced code blocks and
/// outside code spans. Brackets inside a code span of the link text do not end it.
fn links(markdown: &str) -> Vec<Link> {
    let mut found = Vec::new();
    let mut fenced = false;
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '`' => i = skip_code_span(&chars, i),
                '[' => match link_at(&chars, i) {
                    Some((text, target, end)) => {
                        found.push(Link {
                            line: index + 1,
                            text,
                            target,
                        });
                        i = end;
                    }
                    None => i += 1,
                },
                _ => i += 1,
            }
        }
    }
    found
}

/// The index just past the code span opening at `start` (a run of backticks closed by a run
/// of the same length), or past the backticks alone when the span is never closed.
fn skip_code_span(chars: &[char], start: usize) -> usize {
    let ticks = chars[start..].iter().take_while(|&&c| c == '`').count();
    let mut i = start + ticks;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            if run == ticks {
                return i + run;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    start + ticks
}

/// The link starting with the `[` at `open`: (text, target, index past the `)`).
fn link_at(chars: &[char], open: usize) -> Option<(String, String, usize)> {
    let mut i = open + 1;
    let mut depth = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                i = skip_code_span(chars, i);
                continue;
            }
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            ']' => break,
            _ => {}
        }
        i += 1;
    }
    if chars.get(i) != Some(&']') || chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let text: String = chars[open + 1..i].iter().collect();
    let close = (i + 2..chars.len()).find(|&j| chars[j] == ')')?;
    let target: String = chars[i + 2..close].iter().collect();
    Some((text, target.trim().to_string(), close + 1))
}

/// The snippet of a link text that is one code span (`` `fn main` ``), without the ticks.
fn code_snippet(text: &str) -> Option<&str> {
    let ticks = text.chars().take_while(|&c| c == '`').count();
    if ticks == 0 || text.len() <= 2 * ticks {
        return None;
    }
    let inner = text
        .strip_prefix(&text[..ticks])?
        .strip_suffix(&text[..ticks])?;
    if inner.contains(&text[..ticks]) {
        return None;
    }
    // Markdown drops one space of padding on each side when both are there.
    Some(
        match inner.strip_prefix(' ').and_then(|s| s.strip_suffix(' ')) {
            Some(trimmed) if !trimmed.trim().is_empty() => trimmed,
            _ => inner,
        },
    )
}

/// `base` joined with the relative `target`, `..` resolved lexically; `None` if the result
/// leaves `root` (the repository) or the target is absolute.
fn resolve(root: &Path, base: &Path, target: &str) -> Option<PathBuf> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<String> = base
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(
        parts
            .iter()
            .fold(root.to_path_buf(), |path, part| path.join(part)),
    )
}

/// Every problem with the links of `doc` (a path relative to `root`), one message each.
fn check_links(root: &Path, doc: &str) -> Vec<String> {
    let text = match std::fs::read_to_string(root.join(doc)) {
        Ok(text) => text,
        Err(e) => return vec![format!("{doc}: cannot read it: {e}")],
    };
    let base = Path::new(doc).parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for link in links(&text) {
        if let Some(problem) = check_link(root, base, &link) {
            problems.push(format!(
                "{doc}:{}: [{}]({}): {problem}",
                link.line, link.text, link.target
            ));
        }
    }
    problems
}

/// What is wrong with one link, if anything.
fn check_link(root: &Path, base: &Path, link: &Link) -> Option<String> {
    let target = link.target.as_str();
    if target.is_empty() || target.starts_with('#') || target.contains("://") {
        return None;
    }
    if target.starts_with("mailto:") {
        return None;
    }
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (target, None),
    };
    let Some(file) = resolve(root, base, path) else {
        return Some(format!(
            "`{path}` points outside the repository (links must stay inside it)"
        ));
    };
    let shown = file
        .strip_prefix(root)
        .unwrap_or(&file)
        .display()
        .to_string();
    if !file.exists() {
        return Some(format!("{shown} does not exist"));
    }
    let line = fragment.and_then(|f| f.strip_prefix('L'))?;
    let Ok(line) = line.parse::<usize>() else {
        return Some(format!(
            "`#L{line}` is not a line number (expected #L<number>)"
        ));
    };
    let Some(snippet) = code_snippet(&link.text) else {
        return Some(
            "a link to a line needs a backticked snippet of that line as its text".to_string(),
        );
    };
    let contents = match std::fs::read_to_string(&file) {
        Ok(contents) => contents,
        Err(e) => return Some(format!("cannot read {shown}: {e}")),
    };
    let lines: Vec<&str> = contents.lines().collect();
    if line == 0 || line > lines.len() {
        return Some(format!(
            "{shown} has {} lines, so there is no line {line}{}",
            lines.len(),
            elsewhere(&lines, snippet)
        ));
    }
    let now = lines[line - 1];
    if now.contains(snippet) {
        return None;
    }
    let now = match now.trim() {
        "" => "empty".to_string(),
        text => format!("`{text}`"),
    };
    Some(format!(
        "`{snippet}` is not on line {line} of {shown}, which is now {now}{}",
        elsewhere(&lines, snippet)
    ))
}

/// Where else the snippet occurs, as a hint for the fix.
fn elsewhere(lines: &[&str], snippet: &str) -> String {
    let at: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(snippet))
        .map(|(i, _)| format!("{}", i + 1))
        .collect();
    match at.len() {
        0 => "; the snippet is nowhere in the file".to_string(),
        _ => format!("; the snippet is on line {} now", at.join(", ")),
    }
}

#[test]
fn tour_links_point_at_their_lines() {
    let root = crate::root();
    let problems = check_links(&root, "docs/tour.md");
    assert!(
        problems.is_empty(),
        "docs/tour.md: {} link problem(s); each names the link and what its line holds now:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // A parser that found nothing would pass as well: the tour is made of line links.
    let text = std::fs::read_to_string(root.join("docs/tour.md")).expect("docs/tour.md");
    let line_links = links(&text)
        .into_iter()
        .filter(|l| l.target.contains(".rs#L"))
        .count();
    assert!(
        line_links >= 30,
        "only {line_links} line links found in docs/tour.md"
    );
}

/// A repository in a temporary directory: `docs/guide.md` with `markdown`, and
/// `src/lib.rs` with four known lines.
fn fixture(name: &str, markdown: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("xtask-tour-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "//! A library.\n\nfn first() {}\nfn second() -> [u8; 2] { [0; 2] }\n",
    )
    .unwrap();
    std::fs::write(root.join("docs/guide.md"), markdown).unwrap();
    root
}

fn problems_of(name: &str, markdown: &str) -> Vec<String> {
    let root = fixture(name, markdown);
    let problems = check_links(&root, "docs/guide.md");
    let _ = std::fs::remove_dir_all(&root);
    problems
}

#[test]
fn a_link_to_the_right_line_passes() {
    let doc = "See [`fn first`](../src/lib.rs#L3) and [`[u8; 2]`](../src/lib.rs#L4).\n";
    assert_eq!(problems_of("right", doc), Vec::<String>::new());
}

#[test]
fn a_link_to_a_wrong_line_fails_naming_the_link_and_the_line_now() {
    let doc = "Intro.\n\nThen [`fn second`](../src/lib.rs#L3) is called.\n";
    let problems = problems_of("wrong", doc);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = &problems[0];
    assert!(
        problem.starts_with("docs/guide.md:3: [`fn second`](../src/lib.rs#L3): "),
        "{problem}"
    );
    assert!(
        problem
            .contains("`fn second` is not on line 3 of src/lib.rs, which is now `fn first() {}`"),
        "{problem}"
    );
    assert!(
        problem.ends_with("the snippet is on line 4 now"),
        "{problem}"
    );

    let problems = problems_of("blank", "[`fn first`](../src/lib.rs#L2)\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].ends_with("which is now empty; the snippet is on line 3 now"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_line_past_the_end_or_a_missing_file_fails() {
    let doc = "[`fn first`](../src/lib.rs#L40) [`x`](../src/gone.rs#L1) [gone](../gone.md)\n";
    let problems = problems_of("missing", doc);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("src/lib.rs has 4 lines, so there is no line 40"),
        "{}",
        problems[0]
    );
    assert!(problems[0].ends_with("on line 3 now"), "{}", problems[0]);
    assert!(
        problems[1].contains("src/gone.rs does not exist"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].contains("gone.md does not exist"),
        "{}",
        problems[2]
    );
}

#[test]
fn a_line_link_needs_a_snippet_and_links_stay_in_the_repository() {
    let doc = "[first](../src/lib.rs#L3) [up](../../outside.rs) [`a`](../src/lib.rs#Lx)\n";
    let problems = problems_of("rules", doc);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("needs a backticked snippet"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("outside the repository"),
        "{}",
        problems[1]
    );
    assert!(problems[2].contains("not a line number"), "{}", problems[2]);
}

#[test]
fn files_without_lines_web_links_anchors_and_code_are_not_line_checked() {
    let doc = "\
[the library](../src/lib.rs), [the docs](.), [web](https://example.org/x.rs#L1),
[here](#boot), `[not](a/link.rs#L1)`

```
[`in a fence`](../src/lib.rs#L1)
```
";
    assert_eq!(problems_of("other", doc), Vec::<String>::new());
}

#[test]
fn the_parser_finds_links_with_brackets_in_their_code() {
    let found = links("a [`x[0]`](f.rs#L2) b [`]`](g.rs#L3)\n");
    assert_eq!(
        found,
        vec![
            Link {
                line: 1,
                text: "`x[0]`".into(),
                target: "f.rs#L2".into()
            },
            Link {
                line: 1,
                text: "`]`".into(),
                target: "g.rs#L3".into()
            },
        ]
    );
    assert_eq!(code_snippet("`x[0]`"), Some("x[0]"));
    assert_eq!(code_snippet("`` a`b ``"), Some("a`b"));
    assert_eq!(code_snippet("plain"), None);
}
