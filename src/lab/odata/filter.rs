//! `$filter` expressions as Graph evaluates them: comparisons (`eq`, `ne`, `gt`, `ge`, `lt`, `le`),
//! `in`, `has`, the string functions `startswith`, `endswith` and `contains`, joined by `and`, `or`,
//! `not` and parentheses. Strings compare without regard to letter case, as Entra and Intune do;
//! unquoted date-time literals compare as instants. Anything else is refused, never ignored.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::value::{compare, lookup};

/// A parsed `$filter`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    root: Expr,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Op, Operand),
    In(Operand, Vec<Operand>),
    Has(Operand, Operand),
    Call(Function, Operand, Operand),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Function {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Path(Vec<String>),
    Literal(Value),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Text(String),
    Word(String),
}

/// Why a filter is refused: Graph's message.
pub type FilterError = String;

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(text).map_err(|why| invalid(&why))?;
        let mut parser = Parser { tokens, at: 0 };
        let root = parser.or()?;
        match parser.peek() {
            None => Ok(Filter { root }),
            Some(token) => Err(invalid(&format!("unexpected {}", describe(token)))),
        }
    }

    pub fn matches(&self, object: &Map<String, Value>) -> bool {
        self.root.eval(object)
    }
}

fn invalid(why: &str) -> FilterError {
    format!("Invalid filter clause: {why}")
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Comma => "`,`".into(),
        Token::Text(text) => format!("'{text}'"),
        Token::Word(word) => format!("`{word}`"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, expected: Token) -> Result<(), FilterError> {
        match self.next() {
            Some(token) if token == expected => Ok(()),
            Some(token) => Err(invalid(&format!("expected {}, found {}", describe(&expected), describe(&token)))),
            None => Err(invalid(&format!("expected {} at the end", describe(&expected)))),
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        // `(path) eq value`: a parenthesised operand, not a group.
        let parenthesised_operand = matches!(
            (self.tokens.get(self.at + 1), self.tokens.get(self.at + 2), self.tokens.get(self.at + 3)),
            (Some(Token::Word(_) | Token::Text(_)), Some(Token::Close), Some(Token::Word(op))) if is_operator(op)
        );
        if self.peek() == Some(&Token::Open) && !parenthesised_operand {
            self.at += 1;
            let inner = self.or()?;
            self.expect(Token::Close)?;
            return Ok(inner);
        }
        if let (Some(Token::Word(name)), Some(Token::Open)) = (self.peek(), self.tokens.get(self.at + 1)) {
            let function = match name.to_ascii_lowercase().as_str() {
                "startswith" => Function::StartsWith,
                "endswith" => Function::EndsWith,
                "contains" => Function::Contains,
                other => return Err(invalid(&format!("the function `{other}` is not supported"))),
            };
            self.at += 2;
            let subject = self.operand()?;
            self.expect(Token::Comma)?;
            let argument = self.operand()?;
            self.expect(Token::Close)?;
            return Ok(Expr::Call(function, subject, argument));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.operand()?;
        let Some(Token::Word(operator)) = self.next() else {
            return Err(invalid("expected an operator (eq, ne, gt, ge, lt, le, in, has) after an operand"));
        };
        let op = match operator.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "has" => return Ok(Expr::Has(left, self.operand()?)),
            "in" => {
                self.expect(Token::Open)?;
                let mut items = vec![self.operand()?];
                while self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                    items.push(self.operand()?);
                }
                self.expect(Token::Close)?;
                return Ok(Expr::In(left, items));
            }
            other => return Err(invalid(&format!("the operator `{other}` is not supported"))),
        };
        Ok(Expr::Compare(left, op, self.operand()?))
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.operand()?;
            self.expect(Token::Close)?;
            return Ok(inner);
        }
        match self.next() {
            Some(Token::Text(text)) => Ok(Operand::Literal(Value::String(text))),
            Some(Token::Word(word)) => Ok(word_operand(&word)),
            Some(token) => Err(invalid(&format!("expected a property or a value, found {}", describe(&token)))),
            None => Err(invalid("expected a property or a value at the end")),
        }
    }
}

fn is_operator(word: &str) -> bool {
    ["eq", "ne", "gt", "ge", "lt", "le", "in", "has"].iter().any(|op| word.eq_ignore_ascii_case(op))
}

/// A bare word: a literal (`true`, `null`, a number, a date-time) or a property path.
fn word_operand(word: &str) -> Operand {
    match word {
        "true" => return Operand::Literal(Value::Bool(true)),
        "false" => return Operand::Literal(Value::Bool(false)),
        "null" => return Operand::Literal(Value::Null),
        _ => {}
    }
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        if let Ok(number) = serde_json::from_str::<serde_json::Number>(word) {
            return Operand::Literal(Value::Number(number));
        }
        // Dates and date-times are compared in their text form, normalised by `compare`.
        return Operand::Literal(Value::String(word.to_string()));
    }
    Operand::Path(word.split('/').map(str::to_string).collect())
}

impl Operand {
    fn resolve<'a>(&'a self, object: &'a Map<String, Value>) -> &'a Value {
        match self {
            Operand::Literal(value) => value,
            Operand::Path(path) => lookup(object, path).unwrap_or(&Value::Null),
        }
    }
}

impl Expr {
    fn eval(&self, object: &Map<String, Value>) -> bool {
        match self {
            Expr::And(left, right) => left.eval(object) && right.eval(object),
            Expr::Or(left, right) => left.eval(object) || right.eval(object),
            Expr::Not(inner) => !inner.eval(object),
            Expr::Compare(left, op, right) => {
                let ordering = compare(left.resolve(object), right.resolve(object));
                match op {
                    Op::Eq => ordering == Some(Ordering::Equal),
                    Op::Ne => ordering != Some(Ordering::Equal),
                    Op::Gt => ordering == Some(Ordering::Greater),
                    Op::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
                    Op::Lt => ordering == Some(Ordering::Less),
                    Op::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                }
            }
            Expr::In(left, items) => {
                let value = left.resolve(object);
                items.iter().any(|item| compare(value, item.resolve(object)) == Some(Ordering::Equal))
            }
            // Flag enums are comma-separated names: `technologies has 'mdm'` matches "mdm,microsoftSense".
            Expr::Has(left, flag) => match (left.resolve(object), flag.resolve(object)) {
                (Value::String(flags), Value::String(flag)) => {
                    flags.split(',').any(|f| f.trim().eq_ignore_ascii_case(flag.trim()))
                }
                _ => false,
            },
            Expr::Call(function, subject, argument) => {
                let (Value::String(subject), Value::String(argument)) =
                    (subject.resolve(object), argument.resolve(object))
                else {
                    return false;
                };
                let (subject, argument) = (subject.to_lowercase(), argument.to_lowercase());
                match function {
                    Function::StartsWith => subject.starts_with(&argument),
                    Function::EndsWith => subject.ends_with(&argument),
                    Function::Contains => subject.contains(&argument),
                }
            }
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            _ if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '\'' => {
                chars.next();
                let mut literal = String::new();
                loop {
                    match chars.next() {
                        // A doubled quote is one quote inside the literal.
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(other) => literal.push(other),
                        None => return Err("unterminated string literal".into()),
                    }
                }
                tokens.push(Token::Text(literal));
            }
            _ if c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '$') => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
            _ => return Err(format!("unexpected character `{c}`")),
        }
    }
    if tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    fn check(filter: &str, value: Value) -> bool {
        Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&object(value))
    }

    #[test]
    fn string_literals_unescape_doubled_quotes() {
        assert!(check("displayName eq 'O''Brien''s Devices'", json!({"displayName": "O'Brien's Devices"})));
        assert!(check("displayName eq 'O''Brien''s Devices'", json!({"displayName": "o'brien's devices"})));
        assert!(!check("displayName eq 'O''Brien''s Devices'", json!({"displayName": "O'Brien"})));
        assert!(!check("displayName eq 'x'", json!({})));
    }

    #[test]
    fn comparisons_conjunctions_paths_and_literals() {
        let both = json!({"severity": "high", "status": "active"});
        assert!(check("severity eq 'high' and status eq 'active'", both.clone()));
        assert!(!check("severity eq 'high' and status eq 'resolved'", both.clone()));
        assert!(check("severity eq 'low' or status eq 'active'", both.clone()));
        assert!(check("not (severity eq 'low') and status ne 'resolved'", both.clone()));
        assert!(check("severity in ('medium', 'high')", both.clone()));
        assert!(!check("severity in ('low')", both));
        let policy = json!({"templateReference": {"templateFamily": "endpointSecurityFirewall"}, "settingCount": 3});
        assert!(check("templateReference/templateFamily eq 'endpointSecurityFirewall'", policy.clone()));
        assert!(check("settingCount ge 3 and settingCount lt 4 and settingCount gt 2.5", policy));
        assert!(check("isAssigned eq true and x eq null", json!({"isAssigned": true})));
        assert!(check("technologies has 'mdm'", json!({"technologies": "mdm,microsoftSense"})));
        let app = json!({"@odata.type": "#microsoft.graph.win32LobApp", "appAvailability": "lineOfBusiness"});
        let cast = "(microsoft.graph.managedApp/appAvailability) eq null or isAssigned eq true";
        assert!(check(cast, app.clone()), "a cast to a type the object is not of reads null");
        let cast = "(microsoft.graph.win32LobApp/appAvailability) eq 'lineOfBusiness'";
        assert!(check(cast, app));
    }

    #[test]
    fn date_times_compare_as_instants() {
        let incident = json!({"createdDateTime": "2026-03-01T10:00:00.1234567Z"});
        assert!(check("createdDateTime ge 2026-03-01T00:00:00Z", incident.clone()));
        assert!(check("createdDateTime lt 2026-03-01T10:00:01Z", incident.clone()));
        assert!(!check("createdDateTime le 2026-02-28T23:59:59Z", incident.clone()));
        assert!(check("createdDateTime gt 2026-03-01", incident));
    }

    #[test]
    fn string_functions() {
        let group = json!({"displayName": "Contoso Devices"});
        assert!(check("startswith(displayName, 'contoso')", group.clone()));
        assert!(check("endswith(displayName,'DEVICES')", group.clone()));
        assert!(check("contains(displayName, 'so De')", group.clone()));
        assert!(!check("startswith(displayName, 'Devices')", group));
    }

    #[test]
    fn what_is_not_understood_is_refused() {
        for text in [
            "",
            "displayName",
            "displayName eq",
            "displayName eq 'x",
            "displayName like 'x'",
            "a eq 'x' or",
            "(a eq 'x'",
            "substringof('x', displayName)",
            "assignments/any(a: a/id eq 'x')",
            "a eq 'x' b eq 'y'",
        ] {
            assert!(Filter::parse(text).is_err(), "{text}");
        }
    }
}
