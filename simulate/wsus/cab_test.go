package wsus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// readCAB is a test-only reader for the cabinets WriteCAB produces (one
// uncompressed folder). It checks every offset, count and CFDATA checksum, so the
// tests do not depend on cabextract being installed.
func readCAB(b []byte) ([]CABFile, error) {
	le := binary.LittleEndian
	if len(b) < cabHeaderSize+cabFolderSize || string(b[:4]) != "MSCF" {
		return nil, errors.New("no CFHEADER")
	}
	if got := le.Uint32(b[8:]); int(got) != len(b) {
		return nil, fmt.Errorf("cbCabinet %d, file is %d bytes", got, len(b))
	}
	if v := le.Uint16(b[24:]); v != cabVersion {
		return nil, fmt.Errorf("version %#x", v)
	}
	if n := le.Uint16(b[26:]); n != 1 {
		return nil, fmt.Errorf("cFolders %d", n)
	}
	nFiles := int(le.Uint16(b[28:]))
	off := int(le.Uint32(b[16:]))
	if off != cabHeaderSize+cabFolderSize {
		return nil, fmt.Errorf("coffFiles %d", off)
	}
	coffData := int(le.Uint32(b[36:]))
	nBlocks := int(le.Uint16(b[40:]))
	if typ := le.Uint16(b[42:]); typ != cabNoCompres {
		return nil, fmt.Errorf("typeCompress %d", typ)
	}
	type ent struct {
		name      string
		off, size int
		date, tim uint16
	}
	var ents []ent
	for range nFiles {
		if off+cabFileSize > len(b) {
			return nil, errors.New("CFFILE past end")
		}
		e := ent{size: int(le.Uint32(b[off:])), off: int(le.Uint32(b[off+4:])), date: le.Uint16(b[off+10:]), tim: le.Uint16(b[off+12:])}
		end := bytes.IndexByte(b[off+cabFileSize:], 0)
		if end < 0 {
			return nil, errors.New("unterminated name")
		}
		e.name = string(b[off+cabFileSize : off+cabFileSize+end])
		off += cabFileSize + end + 1
		ents = append(ents, e)
	}
	if off != coffData {
		return nil, fmt.Errorf("CFDATA at %d, coffCabStart says %d", off, coffData)
	}
	var folder []byte
	for i := range nBlocks {
		if off+cabDataSize > len(b) {
			return nil, fmt.Errorf("block %d past end", i)
		}
		sum, cb, cu := le.Uint32(b[off:]), int(le.Uint16(b[off+4:])), int(le.Uint16(b[off+6:]))
		if cb != cu || cb > cabBlockSize || off+cabDataSize+cb > len(b) {
			return nil, fmt.Errorf("block %d: cbData %d cbUncomp %d", i, cb, cu)
		}
		data := b[off+cabDataSize : off+cabDataSize+cb]
		if want := cabChecksum(b[off+4:off+8], cabChecksum(data, 0)); sum != want {
			return nil, fmt.Errorf("block %d: checksum %#x, want %#x", i, sum, want)
		}
		folder = append(folder, data...)
		off += cabDataSize + cb
	}
	if off != len(b) {
		return nil, fmt.Errorf("%d trailing bytes", len(b)-off)
	}
	files := make([]CABFile, 0, len(ents))
	for _, e := range ents {
		if e.off+e.size > len(folder) {
			return nil, fmt.Errorf("file %q past the folder", e.name)
		}
		mt := time.Date(int(e.date>>9)+1980, time.Month(e.date>>5&0xF), int(e.date&0x1F), int(e.tim>>11), int(e.tim>>5&0x3F), int(e.tim&0x1F)*2, 0, time.UTC)
		files = append(files, CABFile{Name: e.name, Data: folder[e.off : e.off+e.size], ModTime: mt})
	}
	return files, nil
}

func TestWriteCABRoundTrip(t *testing.T) {
	mod := time.Date(2024, 5, 17, 13, 45, 30, 0, time.UTC)
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes: three blocks
	tests := []struct {
		name  string
		files []CABFile
	}{
		{"one small file", []CABFile{{Name: "a.txt", Data: []byte("hello"), ModTime: mod}}},
		{"empty file", []CABFile{{Name: "empty.bin", ModTime: mod}}},
		{"exact block", []CABFile{{Name: "b.bin", Data: bytes.Repeat([]byte{7}, cabBlockSize), ModTime: mod}}},
		{"spans blocks", []CABFile{{Name: "big.bin", Data: big, ModTime: mod}}},
		{"several files across a block edge", []CABFile{
			{Name: "one.txt", Data: bytes.Repeat([]byte{1}, cabBlockSize-3), ModTime: mod},
			{Name: "dir/two.txt", Data: []byte("1234567"), ModTime: mod},
			{Name: "three.txt", Data: []byte{}, ModTime: mod},
		}},
		{"odd tails for the checksum", []CABFile{{Name: "t.bin", Data: []byte{1, 2, 3, 4, 5, 6, 7}, ModTime: mod}}},
		{"utf-8 name", []CABFile{{Name: "déjà.txt", Data: []byte("x"), ModTime: mod}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCAB(&buf, tt.files); err != nil {
				t.Fatalf("WriteCAB: %v", err)
			}
			got, err := readCAB(buf.Bytes())
			if err != nil {
				t.Fatalf("readCAB: %v", err)
			}
			if len(got) != len(tt.files) {
				t.Fatalf("got %d files, want %d", len(got), len(tt.files))
			}
			for i, f := range tt.files {
				if want := strings.ReplaceAll(f.Name, "/", `\`); got[i].Name != want {
					t.Errorf("file %d: name %q, want %q", i, got[i].Name, want)
				}
				if !bytes.Equal(got[i].Data, f.Data) {
					t.Errorf("file %d (%s): data differs (got %d bytes, want %d)", i, f.Name, len(got[i].Data), len(f.Data))
				}
				if !got[i].ModTime.Equal(f.ModTime) {
					t.Errorf("file %d: modtime %v, want %v", i, got[i].ModTime, f.ModTime)
				}
			}
			// Determinism: same input, same bytes.
			var again bytes.Buffer
			if err := WriteCAB(&again, tt.files); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("two writes of the same files differ")
			}
		})
	}
}

func TestWriteCABRejects(t *testing.T) {
	tests := []struct {
		name  string
		files []CABFile
		want  string
	}{
		{"no files", nil, "no files"},
		{"empty name", []CABFile{{Name: ""}}, "empty name"},
		{"NUL in name", []CABFile{{Name: "a\x00b"}}, "NUL"},
		{"long name", []CABFile{{Name: strings.Repeat("n", 256)}}, "at most 255"},
		{"bad UTF-8", []CABFile{{Name: "\xff.txt"}}, "not UTF-8"},
		{"year before DOS", []CABFile{{Name: "a", ModTime: time.Date(1979, 12, 31, 0, 0, 0, 0, time.UTC)}}, "outside 1980-2107"},
		{"year after DOS", []CABFile{{Name: "a", ModTime: time.Date(2108, 1, 1, 0, 0, 0, 0, time.UTC)}}, "outside 1980-2107"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteCAB(&bytes.Buffer{}, tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WriteCAB error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// And the boundary that must pass: a 255-byte name and the last DOS year.
	ok := []CABFile{{Name: strings.Repeat("n", 255), ModTime: time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)}}
	if err := WriteCAB(&bytes.Buffer{}, ok); err != nil {
		t.Fatalf("WriteCAB at the limits: %v", err)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

func TestWriteCABWriteError(t *testing.T) {
	files := []CABFile{{Name: "a", Data: bytes.Repeat([]byte{1}, 3*cabBlockSize)}}
	for after := range 4 {
		err := WriteCAB(&failWriter{after: after}, files)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("failing after %d writes: error %v, want the writer's error wrapped", after, err)
		}
	}
}

func TestCABChecksum(t *testing.T) {
	// Hand-computed values: words XOR, then the tail most significant first.
	tests := []struct {
		in   []byte
		seed uint32
		want uint32
	}{
		{nil, 0, 0},
		{nil, 0xdeadbeef, 0xdeadbeef},
		{[]byte{1, 0, 0, 0}, 0, 1},
		{[]byte{1, 2, 3, 4}, 0, 0x04030201},
		{[]byte{1, 2, 3, 4, 5}, 0, 0x04030201 ^ 0x05},
		{[]byte{1, 2, 3, 4, 5, 6}, 0, 0x04030201 ^ 0x0506},
		{[]byte{1, 2, 3, 4, 5, 6, 7}, 0, 0x04030201 ^ 0x050607},
		{[]byte{0xff, 0xff, 0xff, 0xff}, 0xffffffff, 0},
	}
	for _, tt := range tests {
		if got := cabChecksum(tt.in, tt.seed); got != tt.want {
			t.Errorf("cabChecksum(%x, %#x) = %#x, want %#x", tt.in, tt.seed, got, tt.want)
		}
	}
}
