package output

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizePerByte(t *testing.T) {
	const r = "\uFFFD"
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"ascii", []string{"hello"}, "hello"},
		{"valid multibyte", []string{"héllo €𝄞"}, "héllo €𝄞"},
		{"lone continuation", []string{"a\x80b"}, "a" + r + "b"},
		{"two bad bytes are two replacements", []string{"\xff\xfe"}, r + r},
		{"truncated 3-byte then ascii", []string{"\xe2\x82x"}, r + r + "x"},
		{"overlong", []string{"\xc0\xaf"}, r + r},
		{"surrogate", []string{"\xed\xa0\x80"}, r + r + r},
		{"euro split 1+2", []string{"\xe2", "\x82\xac"}, "€"},
		{"euro split 2+1", []string{"\xe2\x82", "\xac"}, "€"},
		{"euro split 1+1+1", []string{"\xe2", "\x82", "\xac"}, "€"},
		{"clef split 1+1+1+1", []string{"\xf0", "\x9d", "\x84", "\x9e"}, "𝄞"},
		{"split then invalid", []string{"\xe2\x82", "x"}, r + r + "x"},
		{"split lead then new lead", []string{"\xe2", "\xe2\x82\xac"}, r + "€"},
		{"stream ends mid-rune", []string{"ok\xe2\x82"}, "ok" + r + r},
		{"nul kept", []string{"a\x00b"}, "a\x00b"},
		{"empty writes", []string{"", "a", "", "b"}, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture(0)
			for _, ch := range tt.chunks {
				if n, err := c.Write([]byte(ch)); n != len(ch) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", ch, n, err)
				}
			}
			if got := c.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Every split point of a mixed string must give the same result as one write.
func TestSanitizeAllSplits(t *testing.T) {
	in := []byte("a€b\xffc𝄞\xe2\x82d é\xc3")
	whole := NewCapture(0)
	whole.Write(in)
	want := whole.String()
	if !utf8.ValidString(want) {
		t.Fatalf("not valid UTF-8: %q", want)
	}
	for i := range len(in) + 1 {
		for j := i; j <= len(in); j++ {
			c := NewCapture(0)
			c.Write(in[:i])
			c.Write(in[i:j])
			c.Write(in[j:])
			if got := c.String(); got != want {
				t.Fatalf("split %d,%d: got %q, want %q", i, j, got, want)
			}
		}
	}
}

func TestHeadTail(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		in    string
		want  string
	}{
		{"under limit", 10, "12345", "12345"},
		{"exactly limit", 10, "0123456789", "0123456789"},
		{"one over", 10, "0123456789X", "01234\n[... 1 bytes omitted ...]\n6789X"},
		{"far over", 4, "abcdefghij", "ab\n[... 6 bytes omitted ...]\nij"},
		{"odd limit", 5, "abcdefghij", "ab\n[... 5 bytes omitted ...]\nhij"},
		// Runes are never cut: the omitted count grows instead.
		{"rune at head edge", 4, "a€bcdefg", "a\n[... 7 bytes omitted ...]\nfg"},
		{"rune at tail edge", 4, "abcdef€", "ab\n[... 7 bytes omitted ...]\n"},
		{"rune spanning head and tail, nothing omitted", 6, "ab€d", "ab€d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Same result whatever the write size.
			for _, step := range []int{1, 2, 3, 1000} {
				c := NewCapture(tt.limit)
				for i := 0; i < len(tt.in); i += step {
					c.Write([]byte(tt.in[i:min(i+step, len(tt.in))]))
				}
				if got := c.String(); got != tt.want {
					t.Errorf("step %d: got %q, want %q", step, got, tt.want)
				}
				if !utf8.ValidString(c.String()) {
					t.Errorf("step %d: invalid UTF-8", step)
				}
			}
		})
	}
}

func TestFiftyMegabytesStaysBounded(t *testing.T) {
	const limit = 1 << 20
	const total = 50 << 20
	c := NewCapture(limit)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB
	copy(chunk, "START")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for written := 0; written < total; written += len(chunk) {
		if written == total-len(chunk) {
			copy(chunk[len(chunk)-3:], "END")
		}
		c.Write(chunk)
		if written == len(chunk) {
			copy(chunk, "01234")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grew := int64(ms.HeapAlloc) - int64(before); grew > 3*limit {
		t.Errorf("heap grew by %d bytes after 50 MB through a %d-byte capture", grew, limit)
	}
	if r := c.Retained(); r > limit+utf8.UTFMax {
		t.Errorf("Retained() = %d, want <= %d", r, limit+utf8.UTFMax)
	}
	out := c.String()
	marker := fmt.Sprintf("\n[... %d bytes omitted ...]\n", total-limit)
	if !strings.Contains(out, marker) {
		t.Fatalf("missing %q in output of length %d", marker, len(out))
	}
	if len(out) != limit+len(marker) {
		t.Errorf("len(output) = %d, want %d", len(out), limit+len(marker))
	}
	if !strings.HasPrefix(out, "START") || !strings.HasSuffix(out, "END") {
		t.Errorf("head or tail lost: %q ... %q", out[:8], out[len(out)-8:])
	}
	if c.Total() != total {
		t.Errorf("Total() = %d, want %d", c.Total(), total)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("broken tee")
}

func TestTee(t *testing.T) {
	var term bytes.Buffer
	c := NewCapture(4, WithTee(&term))
	c.Write([]byte("abc\xff"))
	c.Write([]byte("defgh"))
	if term.String() != "abc\xffdefgh" {
		t.Errorf("tee got %q, want the raw bytes", term.String())
	}
	if c.TeeErr() != nil {
		t.Errorf("TeeErr() = %v", c.TeeErr())
	}

	fw := &failWriter{}
	c = NewCapture(0, WithTee(fw))
	for range 3 {
		if n, err := c.Write([]byte("xy")); n != 2 || err != nil {
			t.Fatalf("Write with failing tee = %d, %v", n, err)
		}
	}
	if fw.n != 1 || c.TeeErr() == nil {
		t.Errorf("failing tee called %d times, TeeErr %v; want once and an error", fw.n, c.TeeErr())
	}
	if c.String() != "xyxyxy" {
		t.Errorf("capture lost data with failing tee: %q", c.String())
	}
}

func BenchmarkCapture(b *testing.B) {
	chunk := bytes.Repeat([]byte("héllo wörld "), 2730)
	c := NewCapture(0)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		c.Write(chunk)
	}
}
