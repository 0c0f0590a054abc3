package observe

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings a log may come in.
const (
	EncodingUTF8    = "utf-8"
	EncodingUTF8BOM = "utf-8 (BOM)"
	EncodingUTF16LE = "utf-16le"
	EncodingUTF16BE = "utf-16be"
)

// sniffLen is how much of the input is inspected to choose the encoding.
const sniffLen = 4096

// decodeText wraps r so that it yields UTF-8, whatever Windows wrote:
// a UTF-8 or UTF-16 byte order mark, or UTF-16 without one (detected by its
// NUL bytes, as Windows PowerShell's Out-File and many exports write it).
// It returns the encoding it chose.
func decodeText(r io.Reader) (io.Reader, string, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		if len(head) == 0 {
			return nil, "", err
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, EncodingUTF8BOM, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return utf16Reader(br, unicode.LittleEndian), EncodingUTF16LE, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return utf16Reader(br, unicode.BigEndian), EncodingUTF16BE, nil
	}
	if e, ok := sniffUTF16(head); ok {
		return utf16Reader(br, e), map[unicode.Endianness]string{unicode.LittleEndian: EncodingUTF16LE, unicode.BigEndian: EncodingUTF16BE}[e], nil
	}
	return br, EncodingUTF8, nil
}

func utf16Reader(r io.Reader, e unicode.Endianness) io.Reader {
	// UseBOM: a BOM (if any) is consumed and may override e.
	return transform.NewReader(r, unicode.UTF16(e, unicode.UseBOM).NewDecoder())
}

// sniffUTF16 recognises BOM-less UTF-16 text: mostly ASCII, so every other
// byte is NUL. It needs a few characters to decide.
func sniffUTF16(b []byte) (unicode.Endianness, bool) {
	if len(b) < 8 {
		return unicode.LittleEndian, false
	}
	var even, odd int
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*7 && even*10 < pairs:
		return unicode.LittleEndian, true
	case even*10 >= pairs*7 && odd*10 < pairs:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}

// lineReader yields lines of at most max bytes; the rest of a longer line
// is skipped and counted, so a binary file or a runaway line cannot use
// unbounded memory.
type lineReader struct {
	r         *bufio.Reader
	max       int
	n         int // lines read
	truncated int // lines cut at max
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its end-of-line bytes; io.EOF after
// the last one. Other errors are the reader's, after whatever was read.
func (l *lineReader) next() (string, error) {
	var buf []byte
	cut := false
	for {
		frag, err := l.r.ReadSlice('\n')
		if len(buf)+len(frag) <= l.max {
			buf = append(buf, frag...)
		} else if !cut {
			buf = append(buf, frag[:l.max-len(buf)]...)
			cut = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && len(buf) == 0 && !cut {
			return "", err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			l.n++
			return string(trimEOL(buf)), err
		}
		break
	}
	l.n++
	if cut {
		l.truncated++
	}
	return string(trimEOL(buf)), nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// binaryish reports whether a line looks like binary data rather than
// text: invalid UTF-8 or many control characters.
func binaryish(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	ctl := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' {
			ctl++
		}
	}
	return ctl > 0 && ctl*8 > len(s)
}
