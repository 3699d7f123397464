//! `\mathbb`, `\mathbf`, `\mathcal` … as characters.
//!
//! MathML Core (what Chromium implements) draws `mathvariant` only as `normal`; the other math
//! alphabets are written with the characters of Unicode's Mathematical Alphanumeric Symbols
//! block (U+1D400 …), where a few letters that existed earlier live in the Letterlike Symbols
//! block instead (ℝ, ℂ, ℋ …). Offsets and exceptions follow Unicode's tables.

/// A math alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// `\mathrm`, `\operatorname`: upright letters.
    Upright,
    /// `\mathbf`.
    Bold,
    /// `\mathit`.
    Italic,
    /// `\boldsymbol`, `\bm`.
    BoldItalic,
    /// `\mathcal`, `\mathscr`.
    Script,
    /// `\mathfrak`.
    Fraktur,
    /// `\mathbb`.
    DoubleStruck,
    /// `\mathsf`.
    SansSerif,
    /// `\mathtt`.
    Monospace,
}

impl Font {
    /// The font of a `\math…` command, if `name` is one.
    pub fn of_command(name: &str) -> Option<Font> {
        Some(match name {
            "mathrm" | "mathup" | "mathnormal" => Font::Upright,
            "mathbf" => Font::Bold,
            "mathit" => Font::Italic,
            "boldsymbol" | "bm" | "mathbfit" => Font::BoldItalic,
            "mathcal" | "mathscr" => Font::Script,
            "mathfrak" => Font::Fraktur,
            "mathbb" => Font::DoubleStruck,
            "mathsf" => Font::SansSerif,
            "mathtt" => Font::Monospace,
            _ => return None,
        })
    }
}

/// `c` in `font`, or `c` itself where the alphabet has no such character.
pub fn styled(c: char, font: Font) -> char {
    if let Some(letter) = exception(c, font) {
        return letter;
    }
    let (upper, lower, digit) = match font {
        Font::Upright => return c,
        Font::Bold => (0x1D400, 0x1D41A, Some(0x1D7CE)),
        Font::Italic => (0x1D434, 0x1D44E, None),
        Font::BoldItalic => (0x1D468, 0x1D482, Some(0x1D7CE)),
        Font::Script => (0x1D49C, 0x1D4B6, None),
        Font::Fraktur => (0x1D504, 0x1D51E, None),
        Font::DoubleStruck => (0x1D538, 0x1D552, Some(0x1D7D8)),
        Font::SansSerif => (0x1D5A0, 0x1D5BA, Some(0x1D7E2)),
        Font::Monospace => (0x1D670, 0x1D68A, Some(0x1D7F6)),
    };
    let code = match c {
        'A'..='Z' => upper + (c as u32 - 'A' as u32),
        'a'..='z' => lower + (c as u32 - 'a' as u32),
        '0'..='9' => match digit {
            Some(base) => base + (c as u32 - '0' as u32),
            None => return c,
        },
        // Bold Greek (α … ω and Α … Ω) for \boldsymbol{\alpha} and \mathbf{\Omega}.
        'Α'..='Ω' if matches!(font, Font::Bold) => 0x1D6A8 + (c as u32 - 'Α' as u32),
        'α'..='ω' if matches!(font, Font::Bold) => 0x1D6C2 + (c as u32 - 'α' as u32),
        'Α'..='Ω' if matches!(font, Font::BoldItalic) => 0x1D71C + (c as u32 - 'Α' as u32),
        'α'..='ω' if matches!(font, Font::BoldItalic) => 0x1D736 + (c as u32 - 'α' as u32),
        _ => return c,
    };
    char::from_u32(code).unwrap_or(c)
}

/// The letters whose place in the math block is empty because Unicode had them already.
fn exception(c: char, font: Font) -> Option<char> {
    Some(match (font, c) {
        (Font::Italic, 'h') => 'ℎ',
        (Font::Script, 'B') => 'ℬ',
        (Font::Script, 'E') => 'ℰ',
        (Font::Script, 'F') => 'ℱ',
        (Font::Script, 'H') => 'ℋ',
        (Font::Script, 'I') => 'ℐ',
        (Font::Script, 'L') => 'ℒ',
        (Font::Script, 'M') => 'ℳ',
        (Font::Script, 'R') => 'ℛ',
        (Font::Script, 'e') => 'ℯ',
        (Font::Script, 'g') => 'ℊ',
        (Font::Script, 'o') => 'ℴ',
        (Font::Fraktur, 'C') => 'ℭ',
        (Font::Fraktur, 'H') => 'ℌ',
        (Font::Fraktur, 'I') => 'ℑ',
        (Font::Fraktur, 'R') => 'ℜ',
        (Font::Fraktur, 'Z') => 'ℨ',
        (Font::DoubleStruck, 'C') => 'ℂ',
        (Font::DoubleStruck, 'H') => 'ℍ',
        (Font::DoubleStruck, 'N') => 'ℕ',
        (Font::DoubleStruck, 'P') => 'ℙ',
        (Font::DoubleStruck, 'Q') => 'ℚ',
        (Font::DoubleStruck, 'R') => 'ℝ',
        (Font::DoubleStruck, 'Z') => 'ℤ',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_take_the_characters_of_their_alphabet() {
        // Each expected character is written as Unicode names it (U+1D400 is
        // MATHEMATICAL BOLD CAPITAL A, and so on), not computed from the offsets under test.
        assert_eq!(styled('A', Font::Bold), '\u{1D400}');
        assert_eq!(styled('z', Font::Bold), '\u{1D433}');
        assert_eq!(styled('7', Font::Bold), '\u{1D7D5}');
        assert_eq!(styled('x', Font::Italic), '\u{1D465}');
        assert_eq!(styled('A', Font::Script), '\u{1D49C}');
        assert_eq!(styled('g', Font::Fraktur), '\u{1D524}');
        assert_eq!(styled('1', Font::DoubleStruck), '\u{1D7D9}');
        assert_eq!(styled('a', Font::SansSerif), '\u{1D5BA}');
        assert_eq!(styled('a', Font::Monospace), '\u{1D68A}');
        assert_eq!(styled('α', Font::Bold), '\u{1D6C2}');
        assert_eq!(styled('Ω', Font::BoldItalic), '\u{1D734}');
    }

    #[test]
    fn letters_unicode_had_before_keep_their_older_characters() {
        assert_eq!(styled('R', Font::DoubleStruck), 'ℝ');
        assert_eq!(styled('N', Font::DoubleStruck), 'ℕ');
        assert_eq!(styled('L', Font::Script), 'ℒ');
        assert_eq!(styled('h', Font::Italic), 'ℎ');
        assert_eq!(styled('Z', Font::Fraktur), 'ℨ');
    }

    #[test]
    fn characters_outside_an_alphabet_stay_as_they_are() {
        assert_eq!(styled('+', Font::Bold), '+');
        assert_eq!(styled('7', Font::Script), '7');
        assert_eq!(styled('x', Font::Upright), 'x');
    }
}
