//! Patterns for text fields: a small, safe subset of regular expressions, so a definition can
//! say "two letters then six digits" without pulling a regex engine into the browser.
//!
//! Supported: literal characters, `.`, classes `[a-z0-9-]` and `[^…]`, `\d`, `\w`, `\s`,
//! escaped characters (`\.`), and the quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`. A
//! pattern always matches the whole answer. Matching follows every possible position at once,
//! so it takes linear time whatever the pattern and the input.

use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    Any,
    Ranges {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

impl Class {
    fn matches(&self, c: char) -> bool {
        match self {
            Class::Any => c != '\n',
            Class::Ranges { ranges, negated } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Atom {
    class: Class,
    min: u32,
    /// `None`: unbounded.
    max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    atoms: Vec<Atom>,
}

/// Most repetitions a quantifier may name, and most atoms in a pattern.
const LIMIT: u32 = 1000;

fn shorthand(c: char) -> Option<Vec<(char, char)>> {
    Some(match c {
        'd' => vec![('0', '9')],
        'w' => vec![
            ('0', '9'),
            ('A', 'Z'),
            ('a', 'z'),
            ('_', '_'),
            ('\u{0400}', '\u{04FF}'),
        ],
        's' => vec![(' ', ' '), ('\t', '\t')],
        _ => return None,
    })
}

impl Pattern {
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = source.chars().collect();
        let mut atoms = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let class = match chars[i] {
                '.' => Class::Any,
                '\\' => {
                    i += 1;
                    let c = *chars.get(i).ok_or("a pattern cannot end with \\")?;
                    match shorthand(c) {
                        Some(ranges) => Class::Ranges {
                            ranges,
                            negated: false,
                        },
                        None => Class::Ranges {
                            ranges: vec![(c, c)],
                            negated: false,
                        },
                    }
                }
                '[' => {
                    i += 1;
                    let negated = chars.get(i) == Some(&'^');
                    if negated {
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    loop {
                        let c = *chars.get(i).ok_or("an unclosed [")?;
                        if c == ']' && !ranges.is_empty() {
                            break;
                        }
                        let lo = if c == '\\' {
                            i += 1;
                            let e = *chars.get(i).ok_or("an unclosed [")?;
                            if let Some(r) = shorthand(e) {
                                ranges.extend(r);
                                i += 1;
                                continue;
                            }
                            e
                        } else {
                            c
                        };
                        if chars.get(i + 1) == Some(&'-')
                            && chars.get(i + 2).is_some_and(|c| *c != ']')
                        {
                            let hi = chars[i + 2];
                            if hi < lo {
                                return Err(format!("the range {lo}-{hi} is backwards"));
                            }
                            ranges.push((lo, hi));
                            i += 3;
                        } else {
                            ranges.push((lo, lo));
                            i += 1;
                        }
                    }
                    Class::Ranges { ranges, negated }
                }
                c @ ('*' | '+' | '?' | '{' | '}' | ']' | '(' | ')' | '|' | '^' | '$') => {
                    return Err(format!(
                        "`{c}` must be escaped as \\{c} (groups, alternatives and anchors are not supported)"
                    ));
                }
                c => Class::Ranges {
                    ranges: vec![(c, c)],
                    negated: false,
                },
            };
            i += 1;
            let (min, max) = match chars.get(i) {
                Some('?') => (0, Some(1)),
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('{') => {
                    let end = chars[i..]
                        .iter()
                        .position(|c| *c == '}')
                        .ok_or("an unclosed {")?
                        + i;
                    let inside: String = chars[i + 1..end].iter().collect();
                    let number = |s: &str| {
                        s.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|n| *n <= LIMIT)
                            .ok_or(format!("`{{{inside}}}` is not a count up to {LIMIT}"))
                    };
                    let bounds = match inside.split_once(',') {
                        None => (number(&inside)?, Some(number(&inside)?)),
                        Some((lo, "")) => (number(lo)?, None),
                        Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
                    };
                    if bounds.1.is_some_and(|hi| hi < bounds.0) {
                        return Err(format!("`{{{inside}}}`: the maximum is below the minimum"));
                    }
                    i = end;
                    bounds
                }
                _ => {
                    i -= 1;
                    (1, Some(1))
                }
            };
            i += 1;
            atoms.push(Atom { class, min, max });
            if atoms.len() as u32 > LIMIT {
                return Err("the pattern is too long".into());
            }
        }
        Ok(Pattern { atoms })
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let n = self.atoms.len();
        // A state is (atom, repetitions so far); unbounded atoms count only up to their minimum.
        let close = |mut states: BTreeSet<(usize, u32)>| {
            let mut todo: Vec<(usize, u32)> = states.iter().copied().collect();
            while let Some((i, k)) = todo.pop() {
                if i < n && k >= self.atoms[i].min && states.insert((i + 1, 0)) {
                    todo.push((i + 1, 0));
                }
            }
            states
        };
        let mut states = close(BTreeSet::from([(0, 0)]));
        for c in text.chars() {
            let mut next = BTreeSet::new();
            for &(i, k) in &states {
                let Some(atom) = self.atoms.get(i) else {
                    continue;
                };
                if atom.class.matches(c) && atom.max.is_none_or(|m| k < m) {
                    next.insert((
                        i,
                        if atom.max.is_none() {
                            (k + 1).min(atom.min)
                        } else {
                            k + 1
                        },
                    ));
                }
            }
            if next.is_empty() {
                return false;
            }
            states = close(next);
        }
        states.contains(&(n, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::parse(pattern).unwrap().is_match(text)
    }

    #[test]
    fn whole_answers_only() {
        assert!(matches(r"\d{6}", "123456"));
        assert!(!matches(r"\d{6}", "1234567"));
        assert!(!matches(r"\d{6}", "12345"));
        assert!(!matches(r"\d{6}", "12a456"));
    }

    #[test]
    fn classes_ranges_and_negation() {
        let iban = r"KZ\d{2}[A-Z0-9]{16}";
        assert!(matches(iban, "KZ86125KZT5004100100"));
        assert!(!matches(iban, "KZ86125kzt5004100100"));
        assert!(matches("[^0-9]+", "abc"));
        assert!(!matches("[^0-9]+", "ab1"));
        assert!(matches("[a-c-]+", "a-b-c"), "a trailing hyphen is literal");
        assert!(matches(r"[\d.]+", "1.2.3"));
        assert!(matches(r"\w+", "Сәуле_2"), "Cyrillic word characters");
    }

    #[test]
    fn quantifiers() {
        assert!(matches("ab?c", "ac") && matches("ab?c", "abc") && !matches("ab?c", "abbc"));
        assert!(matches("ab*c", "ac") && matches("ab*c", "abbbbc"));
        assert!(!matches("ab+c", "ac") && matches("ab+c", "abbc"));
        assert!(matches(r"\d{2,}", "12345") && !matches(r"\d{2,}", "1"));
        assert!(matches(r"\d{2,4}", "123") && !matches(r"\d{2,4}", "12345"));
        assert!(matches(r"№ ?\d+-\d+", "№12-345") && matches(r"№ ?\d+-\d+", "№ 12-345"));
        assert!(matches(r"a\.b", "a.b") && !matches(r"a\.b", "axb"));
        assert!(matches(".*", "") && matches(".*", "anything at all"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        // Exponential for backtracking engines; linear here.
        let p = Pattern::parse(
            &"a?"
                .repeat(200)
                .to_string()
                .chars()
                .chain("a".repeat(200).chars())
                .collect::<String>(),
        )
        .unwrap();
        assert!(p.is_match(&"a".repeat(200)));
        assert!(!Pattern::parse("(a+)+b").is_ok());
        let long = "a".repeat(4000) + "!";
        assert!(!Pattern::parse("a*a*a*a*a*b").unwrap().is_match(&long));
    }

    #[test]
    fn malformed_patterns_are_explained() {
        for bad in [
            "[abc", r"\", "a{3", "a{x}", "a{5,2}", "[z-a]", "a|b", "^a$", "*a", "a{2000}",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }
}
