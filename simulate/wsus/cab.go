package wsus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// CAB layout constants from the Microsoft Cabinet format ([MS-CAB]); the writer was
// verified against cabextract (libmspack) and gcab (reference/libraries.md section 5).
const (
	cabHeaderSize = 36    // CFHEADER without the optional reserve fields
	cabFolderSize = 8     // CFFOLDER without reserve
	cabFileSize   = 16    // CFFILE before its NUL-terminated name
	cabDataSize   = 8     // CFDATA header before its data
	cabBlockSize  = 32768 // maximum uncompressed bytes per CFDATA block

	cabMaxName   = 255         // CB_MAX_FILENAME (256) minus the NUL
	cabMaxFiles  = 0xFFFF      // cFiles is a u16
	cabMaxFolder = 0x7FFF8000  // largest folder a CFFILE offset may address
	cabAttrArch  = 0x20        // _A_ARCH
	cabAttrUTF8  = 0x80        // _A_NAME_IS_UTF
	cabNoCompres = 0x0000      // tcompTYPE_NONE
	cabVersion   = 0x0103      // versionMajor 1, versionMinor 3
	cabMaxTotal  = 0xFFFFFFFF  // cbCabinet is a u32
	dosEpochYear = 1980        // DOS dates start in 1980
	dosLastYear  = 1980 + 0x7F // and end in 2107
)

// A CABFile is one file to store in a cabinet.
type CABFile struct {
	// Name is the file's path inside the cabinet, at most 255 bytes, without NUL.
	// Backslashes separate folders, as on Windows; slashes are converted.
	Name string
	// Data is the file's content.
	Data []byte
	// ModTime is stored as a DOS date and time (two-second resolution, local
	// fields taken as is). The zero time stores 1980-01-01 00:00:00.
	ModTime time.Time
}

// ErrCABTooLarge reports content beyond the limits of a single-folder cabinet.
var ErrCABTooLarge = errors.New("wsus/cab: content too large for one cabinet")

// WriteCAB writes files to w as one Microsoft Cabinet with a single uncompressed
// folder ([MS-CAB]: CFHEADER, CFFOLDER, CFFILE entries, CFDATA blocks of at most
// 32 KiB, each with its checksum). The output depends only on files, so equal
// input gives equal bytes.
func WriteCAB(w io.Writer, files []CABFile) error {
	if len(files) == 0 {
		return errors.New("wsus/cab: no files")
	}
	if len(files) > cabMaxFiles {
		return fmt.Errorf("%w: %d files (at most %d)", ErrCABTooLarge, len(files), cabMaxFiles)
	}
	type entry struct {
		name   []byte
		attrs  uint16
		date   uint16
		tim    uint16
		offset uint32
		size   uint32
	}
	entries := make([]entry, len(files))
	var folder uint64 // uncompressed bytes in the folder
	filesSize := 0    // bytes of the CFFILE area
	for i, f := range files {
		name, attrs, err := cabName(f.Name)
		if err != nil {
			return fmt.Errorf("wsus/cab: file %d: %w", i, err)
		}
		date, tim, err := dosTime(f.ModTime)
		if err != nil {
			return fmt.Errorf("wsus/cab: file %q: %w", f.Name, err)
		}
		if folder+uint64(len(f.Data)) > cabMaxFolder {
			return fmt.Errorf("%w: %d bytes in the folder (at most %d)", ErrCABTooLarge, folder+uint64(len(f.Data)), cabMaxFolder)
		}
		entries[i] = entry{name: name, attrs: attrs, date: date, tim: tim, offset: uint32(folder), size: uint32(len(f.Data))}
		folder += uint64(len(f.Data))
		filesSize += cabFileSize + len(name) + 1
	}
	blocks := (folder + cabBlockSize - 1) / cabBlockSize
	coffFiles := uint64(cabHeaderSize + cabFolderSize)
	coffData := coffFiles + uint64(filesSize)
	total := coffData + blocks*cabDataSize + folder
	if total > cabMaxTotal {
		return fmt.Errorf("%w: %d bytes", ErrCABTooLarge, total)
	}

	var hdr bytes.Buffer
	hdr.Grow(int(coffData))
	le := binary.LittleEndian
	// CFHEADER
	hdr.WriteString("MSCF")
	hdr.Write(le.AppendUint32(nil, 0))                  // reserved1
	hdr.Write(le.AppendUint32(nil, uint32(total)))      // cbCabinet
	hdr.Write(le.AppendUint32(nil, 0))                  // reserved2
	hdr.Write(le.AppendUint32(nil, uint32(coffFiles)))  // coffFiles
	hdr.Write(le.AppendUint32(nil, 0))                  // reserved3
	hdr.Write(le.AppendUint16(nil, cabVersion))         // versionMinor, versionMajor
	hdr.Write(le.AppendUint16(nil, 1))                  // cFolders
	hdr.Write(le.AppendUint16(nil, uint16(len(files)))) // cFiles
	hdr.Write(le.AppendUint16(nil, 0))                  // flags: no prev/next cabinet, no reserve
	hdr.Write(le.AppendUint16(nil, 0))                  // setID
	hdr.Write(le.AppendUint16(nil, 0))                  // iCabinet
	// CFFOLDER
	hdr.Write(le.AppendUint32(nil, uint32(coffData))) // coffCabStart
	hdr.Write(le.AppendUint16(nil, uint16(blocks)))   // cCFData
	hdr.Write(le.AppendUint16(nil, cabNoCompres))     // typeCompress
	// CFFILE entries
	for _, e := range entries {
		hdr.Write(le.AppendUint32(nil, e.size))   // cbFile
		hdr.Write(le.AppendUint32(nil, e.offset)) // uoffFolderStart
		hdr.Write(le.AppendUint16(nil, 0))        // iFolder
		hdr.Write(le.AppendUint16(nil, e.date))
		hdr.Write(le.AppendUint16(nil, e.tim))
		hdr.Write(le.AppendUint16(nil, e.attrs))
		hdr.Write(e.name)
		hdr.WriteByte(0)
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return fmt.Errorf("wsus/cab: write header: %w", err)
	}

	// CFDATA blocks: the folder is the files' data concatenated, cut in 32 KiB blocks.
	block := make([]byte, 0, cabBlockSize)
	flush := func() error {
		var h [cabDataSize]byte
		le.PutUint16(h[4:], uint16(len(block))) // cbData
		le.PutUint16(h[6:], uint16(len(block))) // cbUncomp
		le.PutUint32(h[0:], cabChecksum(h[4:8], cabChecksum(block, 0)))
		if _, err := w.Write(h[:]); err != nil {
			return fmt.Errorf("wsus/cab: write data block: %w", err)
		}
		if _, err := w.Write(block); err != nil {
			return fmt.Errorf("wsus/cab: write data block: %w", err)
		}
		block = block[:0]
		return nil
	}
	for _, f := range files {
		data := f.Data
		for len(data) > 0 {
			n := min(cabBlockSize-len(block), len(data))
			block = append(block, data[:n]...)
			data = data[n:]
			if len(block) == cabBlockSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if len(block) > 0 {
		return flush()
	}
	return nil
}

// cabChecksum is the CFDATA checksum of [MS-CAB] (CSUMCompute): XOR of the data
// as little-endian 32-bit words, the 1-3 trailing bytes folded in most-significant
// first, starting from seed.
func cabChecksum(p []byte, seed uint32) uint32 {
	sum := seed
	for len(p) >= 4 {
		sum ^= binary.LittleEndian.Uint32(p)
		p = p[4:]
	}
	var tail uint32
	switch len(p) {
	case 3:
		tail = uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])
	case 2:
		tail = uint32(p[0])<<8 | uint32(p[1])
	case 1:
		tail = uint32(p[0])
	}
	return sum ^ tail
}

// cabName validates a file name and returns its stored bytes and attributes.
func cabName(name string) ([]byte, uint16, error) {
	if name == "" {
		return nil, 0, errors.New("empty name")
	}
	if len(name) > cabMaxName {
		return nil, 0, fmt.Errorf("name %.20q… is %d bytes (at most %d)", name, len(name), cabMaxName)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return nil, 0, fmt.Errorf("name %q contains NUL", name)
	}
	if !utf8.ValidString(name) {
		return nil, 0, fmt.Errorf("name %q is not UTF-8", name)
	}
	attrs := uint16(cabAttrArch)
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			attrs |= cabAttrUTF8
			break
		}
	}
	return []byte(strings.ReplaceAll(name, "/", `\`)), attrs, nil
}

// dosTime converts t to the DOS date and time fields of a CFFILE.
func dosTime(t time.Time) (date, tim uint16, err error) {
	if t.IsZero() {
		return 1<<5 | 1, 0, nil // 1980-01-01 00:00:00
	}
	if t.Year() < dosEpochYear || t.Year() > dosLastYear {
		return 0, 0, fmt.Errorf("modification year %d outside %d-%d", t.Year(), dosEpochYear, dosLastYear)
	}
	date = uint16(t.Year()-dosEpochYear)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tim = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return date, tim, nil
}
