package items

import (
	"strings"
	"testing"
	"unicode"
)

// TestValidateNameRefusesWhatHidesOrReorders is the red-team list of the name policy: text that
// displays differently from what it holds (bidirectional controls, Trojan Source style),
// characters that display as nothing (zero-width and other default-ignorable code points,
// Hangul fillers, tag characters), and names that are blank once those are removed. Each is
// refused with the reason; the good cases that look alike (emoji sequences with ZWJ and
// variation selectors, ZWNJ inside Persian words, right-to-left scripts without controls) pass.
func TestValidateNameRefusesWhatHidesOrReorders(t *testing.T) {
	bad := []struct{ name, in, msg string }{
		{"empty", "", "name is required"},
		{"too long", strings.Repeat("é", 201), "at most 200"},
		{"spaces only", "   ", "blank"},
		{"nbsp and ideographic space only", "\u00a0\u3000", "blank"},
		{"braille blank only", "\u2800\u2800", "blank"},
		{"nul", "a\x00b", "control"},
		{"escape", "a\x1b[31mred", "control"},
		{"del", "a\x7fb", "control"},
		{"c1 control", "a\u0085b", "control"},
		{"newline", "a\nb", "control"},
		{"line separator", "a\u2028b", "line or paragraph separator"},
		{"paragraph separator", "a\u2029b", "line or paragraph separator"},
		{"right-to-left override", "invoice\u202efdp.exe", "bidirectional control"},
		{"left-to-right override", "a\u202db", "bidirectional control"},
		{"right-to-left embedding", "a\u202bb", "bidirectional control"},
		{"left-to-right embedding", "a\u202ab", "bidirectional control"},
		{"pop directional formatting", "a\u202cb", "bidirectional control"},
		{"right-to-left isolate", "a\u2067b\u2069", "bidirectional control"},
		{"left-to-right isolate", "a\u2066b", "bidirectional control"},
		{"first strong isolate", "a\u2068b", "bidirectional control"},
		{"pop directional isolate", "ab\u2069", "bidirectional control"},
		{"right-to-left mark", "a\u200fb", "bidirectional control"},
		{"left-to-right mark", "a\u200eb", "bidirectional control"},
		{"arabic letter mark", "a\u061cb", "bidirectional control"},
		{"zero-width space", "ad\u200bmin", "invisible"},
		{"word joiner", "ad\u2060min", "invisible"},
		{"byte order mark", "\ufeffadmin", "invisible"},
		{"soft hyphen", "ad\u00admin", "invisible"},
		{"mongolian vowel separator", "a\u180eb", "invisible"},
		{"combining grapheme joiner", "a\u034fb", "invisible"},
		{"hangul filler", "\u3164", "invisible"},
		{"hangul choseong filler", "a\u115fb", "invisible"},
		{"halfwidth hangul filler", "a\uffa0b", "invisible"},
		{"invisible times", "a\u2062b", "invisible"},
		{"interlinear annotation", "a\ufff9b\ufffbc", "invisible"},
		{"tag characters", "flag\U000e0067\U000e0062", "invisible"},
		{"zero-width joiner at the start", "\u200dadmin", "joiner"},
		{"zero-width joiner at the end", "admin\u200d", "joiner"},
		{"two joiners", "a\u200d\u200db", "joiner"},
		{"joiner before a space", "a\u200d b", "joiner"},
		{"zero-width non-joiner alone", "\u200c", "joiner"},
		{"variation selector at the start", "\ufe0fadmin", "variation selector"},
		{"two variation selectors", "a\ufe0f\ufe0e", "variation selector"},
		{"variation selector after a space", "a \ufe0f", "variation selector"},
		{"ideographic variation selector alone", "\U000e0100", "variation selector"},
		{"noncharacter", "a\ufdd0b", "noncharacter"},
		{"noncharacter at plane end", "a\U0010ffffb", "noncharacter"},
		{"invalid utf-8", "a\xffb", "UTF-8"},
		{"private use", "a\ue000b", "private-use or unassigned"},
		{"supplementary private use", "a\U000f0000", "private-use or unassigned"},
		{"unassigned", "a\u0378b", "private-use or unassigned"},
		{"unassigned astral", "a\U0002fffd", "private-use or unassigned"},
		{"conjoining jamo spelling a syllable", "\u1100\u1161", "conjoining Hangul jamo"},
		{"trailing jamo after a syllable", "\uac00\u11a8", "conjoining Hangul jamo"},
		{"extended jamo", "a\ua960", "conjoining Hangul jamo"},
		{"combining mark first", "\u0301admin", "start with a combining mark"},
		{"enclosing mark first", "\u20dd", "start with a combining mark"},
		{"spacing mark first", "\u0903a", "start with a combining mark"},
		{"marks stacked past the stream-safe limit", "Z" + strings.Repeat("\u0336\u0353", 16), "more than 30 combining marks"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("ValidateName(%+q) = %v, want an error containing %q", tc.in, err, tc.msg)
			}
		})
	}
	good := []struct{ name, in string }{
		{"ascii", "alpha"},
		{"200 characters", strings.Repeat("é", 200)},
		{"inner spaces", "New York office"},
		{"accents and cjk", "Café 東京"},
		{"arabic", "مرحبا بالعالم"},
		{"hebrew with digits", "שלום 2024"},
		{"emoji zwj family", "👨\u200d👩\u200d👧 team"},
		{"emoji with variation selector", "❤\ufe0f and ☺\ufe0e"},
		{"keycap", "1\ufe0f\u20e3"},
		{"persian with zwnj", "می\u200cخواهم"},
		{"devanagari with zwj", "क्\u200dष"},
		{"combining accent", "e\u0301te"},
		{"flag", "🇫🇷"},
		{"nbsp inside", "10\u00a0km"},
		{"braille text", "\u2801\u2803"},
		{"symbols", "a+b=c & <d>"},
		{"30 marks in a row", "a" + strings.Repeat("\u0301", 30)},
		{"vietnamese with stacked accents", "Nguy\u00ea\u0303n Tr\u1ea7n"},
		{"decomposed vietnamese", "Vie\u0323\u0302t"},
		{"mark after a space", "accent \u0301 alone"},
		{"precomposed hangul", "\ud55c\uad6d\uc5b4"},
		{"compatibility jamo", "\u3131\u314f"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateName(tc.in); err != nil {
				t.Fatalf("ValidateName(%+q) = %v", tc.in, err)
			}
		})
	}
}
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"alpha", "a\u202eb", "👨\u200d👩", "\u3164", "a\ufe0f", "\u0301a", "a\ue000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateName(s) != nil {
			return
		}
		// Whatever passes is valid UTF-8, 1 to 200 characters, and holds none of what the policy
		// refuses anywhere, and something visible; no mark comes first nor past 30 in a row.
		visible := false
		marks := 0
		for i, r := range s {
			if unicode.Is(unicode.M, r) && classify(r) == classVisible {
				if marks++; i == 0 || marks > MaxMarkRun {
					t.Fatalf("%+q passed with mark %U at %d (%d in a row)", s, r, i, marks)
				}
			} else {
				marks = 0
			}
			if c := classify(r); c != classVisible && c != classSpace && c != classJoiner && c != classVariation {
				t.Fatalf("%+q passed with %U at %d", s, r, i)
			}
			if classify(r) == classVisible {
				visible = true
			}
		}
		if !visible {
			t.Fatalf("%+q passed with nothing visible", s)
		}
	})
}

func TestCursorRoundTripAndRefusals(t *testing.T) {
	c := Cursor{xid: 1234567, id: [16]byte{1, 0xa2, 0x35, 0xcc, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0xfe}}
	s := c.String()
	if len(s) != cursorLen {
		t.Fatalf("cursor %q is %d characters", s, len(s))
	}
	if got, err := ParseCursor(s); err != nil || got != c {
		t.Fatalf("ParseCursor(%q) = %v, %v", s, got, err)
	}
	for _, bad := range []string{"", "01a229a6-8db1-791e-bd68-2e4bdb8501ad", s[:31], s + "A", s[:31] + "=", s[:31] + "+", s[:31] + "/",
		Cursor{id: c.id}.String(), Cursor{xid: 5}.String(), "AAAAAAAABAoBojXQf796F41K2gd4P6v!"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}
