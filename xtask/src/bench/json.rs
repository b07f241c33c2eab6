//! A small JSON writer for the reports (xtask keeps its dependencies few: no serde).
//! Objects keep their key order, so the files diff well between runs.

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// Written as an integer: exact (counts, nanosecond totals).
    Int(u64),
    /// Written in Rust's shortest round-trip form; NaN and infinities become `null`.
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs.
    pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn str(text: impl Into<String>) -> Json {
        Json::Str(text.into())
    }

    /// The text, indented by two spaces per level, with a final newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = |out: &mut String, depth: usize| {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        };
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Num(x) if x.is_finite() => out.push_str(&x.to_string()),
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => escape(s, out),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                }
                indent(out, depth);
                out.push(']');
            }
            Json::Obj(pairs) if pairs.is_empty() => out.push_str("{}"),
            Json::Obj(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    escape(key, out);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn escape(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A strict reader for the tests: the written text must parse back to the same value.
#[cfg(test)]
pub mod read {
    use super::Json;

    /// Parses a whole JSON text (numbers with a fraction or exponent become `Num`).
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let value = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(value)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected `{}` at byte {}", c as char, self.i))
            }
        }

        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            let rest = &self.s[self.i..];
            for (word, value) in [
                ("null", Json::Null),
                ("true", Json::Bool(true)),
                ("false", Json::Bool(false)),
            ] {
                if rest.starts_with(word.as_bytes()) {
                    self.i += word.len();
                    return Ok(value);
                }
            }
            match rest.first() {
                Some(b'"') => self.string().map(Json::Str),
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Arr(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        } else {
                            self.eat(b']')?;
                            return Ok(Json::Arr(items));
                        }
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    let mut pairs = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Obj(pairs));
                    }
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.eat(b':')?;
                        pairs.push((key, self.value()?));
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        } else {
                            self.eat(b'}')?;
                            return Ok(Json::Obj(pairs));
                        }
                    }
                }
                _ => self.number(),
            }
        }

        fn number(&mut self) -> Result<Json, String> {
            let start = self.i;
            while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                self.i += 1;
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
            if !text.contains(['.', 'e', 'E', '-'])
                && let Ok(n) = text.parse()
            {
                return Ok(Json::Int(n));
            }
            text.parse()
                .map(Json::Num)
                .map_err(|_| format!("bad value at byte {start}"))
        }

        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut out = String::new();
            loop {
                let c = *self.s.get(self.i).ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => return Ok(out),
                    b'\\' => {
                        let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                        self.i += 1;
                        match e {
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                    .map_err(|e| e.to_string())?;
                                let code =
                                    u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                out.push(char::from_u32(code).ok_or("bad \\u")?);
                                self.i += 4;
                            }
                            other => out.push(other as char),
                        }
                    }
                    c if c < 0x20 => return Err("control character in a string".into()),
                    _ => {
                        // Copy one UTF-8 character.
                        let start = self.i - 1;
                        let len = match c {
                            0xf0.. => 4,
                            0xe0.. => 3,
                            0xc0.. => 2,
                            _ => 1,
                        };
                        out.push_str(
                            std::str::from_utf8(&self.s[start..start + len])
                                .map_err(|e| e.to_string())?,
                        );
                        self.i = start + len;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let value = Json::obj([
            ("name", Json::str("fast+dcache=off \"quoted\"\n\t\u{1}é")),
            ("iters", Json::Int(200000)),
            ("ns_per_op", Json::Num(344.5)),
            ("nan", Json::Num(f64::NAN)),
            ("ok", Json::Bool(true)),
            ("none", Json::Null),
            ("empty", Json::Arr(vec![])),
            (
                "list",
                Json::Arr(vec![Json::Int(1), Json::obj([("x", Json::Num(-0.25))])]),
            ),
        ]);
        let text = value.render();
        let back = read::parse(&text).unwrap();
        let Json::Obj(pairs) = back else { panic!() };
        assert_eq!(
            pairs[0].1,
            Json::str("fast+dcache=off \"quoted\"\n\t\u{1}é")
        );
        assert_eq!(pairs[1].1, Json::Int(200000));
        assert_eq!(pairs[2].1, Json::Num(344.5));
        assert_eq!(pairs[3].1, Json::Null, "NaN is not JSON");
        assert_eq!(pairs[6].1, Json::Arr(vec![]));
        assert!(read::parse("{\"a\": 1,}").is_err());
        assert!(read::parse("[1 2]").is_err());
    }
}
