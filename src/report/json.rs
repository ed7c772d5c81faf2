//! A tiny JSON writer for `--check --json` and `--doctor --json`: a value
//! tree and its serialisation with RFC 8259 string escaping. Writing only;
//! lockdrop never reads JSON (serde_json would cost more than this file).
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Unsigned numbers (limits, byte counts) that may exceed i64.
    Uint(u64),
    Str(String),
    Arr(Vec<Value>),
    /// Keys in insertion order.
    Obj(Vec<(String, Value)>),
}

impl Value {
    pub fn obj() -> Value {
        Value::Obj(Vec::new())
    }
    /// Adds a key to an object (no-op on other values); returns self for chaining.
    pub fn with(mut self, key: &str, v: impl Into<Value>) -> Value {
        if let Value::Obj(ref mut m) = self {
            m.push((key.to_string(), v.into()));
        }
        self
    }
    pub fn push(&mut self, key: &str, v: impl Into<Value>) {
        if let Value::Obj(ref mut m) = self {
            m.push((key.to_string(), v.into()));
        }
    }
    /// One line of JSON.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(out, "{}", n);
            }
            Value::Uint(n) => {
                let _ = write!(out, "{}", n);
            }
            Value::Str(s) => string(out, s),
            Value::Arr(v) => {
                out.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    x.write(out);
                }
                out.push(']');
            }
            Value::Obj(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, k);
                    out.push(':');
                    x.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string: quotes, backslashes and control characters escaped (the
/// rest of Unicode passes through as UTF-8, which RFC 8259 allows).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            // U+2028/2029 are valid JSON but break JavaScript parsers.
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Uint(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Uint(n as u64)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Arr(v.into_iter().map(Into::into).collect())
    }
}

/// A limit value: the number, or "unlimited" for RLIM_INFINITY.
pub fn limit(v: u64) -> Value {
    if v == crate::model::rlimits::INFINITY {
        Value::Str("unlimited".into())
    } else {
        Value::Uint(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let v = Value::obj()
            .with("a\"b", "x\\y\n\t\u{1}\u{7f}é\u{2028}")
            .with(
                "n",
                Value::Arr(vec![Value::Null, true.into(), (-3i64).into()]),
            )
            .with("u", u64::MAX)
            .with("none", None::<String>);
        assert_eq!(
            v.to_json(),
            r#"{"a\"b":"x\\y\n\t\u0001\u007fé\u2028","n":[null,true,-3],"u":18446744073709551615,"none":null}"#
        );
        assert_eq!(limit(u64::MAX), Value::Str("unlimited".into()));
    }
}
