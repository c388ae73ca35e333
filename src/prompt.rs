//! Yes/no questions (spec: cli.md §4.2).

use std::io::{BufRead, IsTerminal};

/// Whether stdin and stdout are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Interprets one answer: `Some(true)` yes, `Some(false)` no, `None` ask again.
pub fn parse_answer(line: &str) -> Option<bool> {
    match line.trim().to_lowercase().as_str() {
        "y" | "yes" => Some(true),
        "n" | "no" | "" => Some(false),
        _ => None,
    }
}

/// Asks until the answer is clear; end of file or an error means no.
pub fn ask(question: &str) -> bool {
    let stdin = std::io::stdin();
    loop {
        let _ = crate::output::out(format_args!("{question}"));
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {
                if let Some(answer) = parse_answer(&line) {
                    return answer;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(parse_answer("Y\n"), Some(true));
        assert_eq!(parse_answer("yes"), Some(true));
        assert_eq!(parse_answer("\n"), Some(false));
        assert_eq!(parse_answer("No"), Some(false));
        assert_eq!(parse_answer("maybe"), None);
    }
}
