package client

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// readCAB extracts the files of an uncompressed cabinet (MS-CAB, as the
// lab emulator writes wuident.cab and wuredir.cab) and checks its
// structure: the signature, the declared size against the bytes received
// (a truncated cabinet fails here), the folder's data blocks. Compressed
// folders are accepted as long as the structure holds, without their
// contents.
func readCAB(b []byte) (map[string][]byte, error) {
	le := binary.LittleEndian
	if len(b) < 36 || string(b[:4]) != "MSCF" {
		return nil, errors.New("not a cabinet (no MSCF signature)")
	}
	size := le.Uint32(b[8:])
	if int(size) != len(b) {
		return nil, fmt.Errorf("cabinet declares %d bytes, got %d", size, len(b))
	}
	coffFiles := le.Uint32(b[16:])
	nFolders := int(le.Uint16(b[26:]))
	nFiles := int(le.Uint16(b[28:]))
	flags := le.Uint16(b[30:])
	off := 36
	var folderReserve, dataReserve int
	if flags&0x0004 != 0 { // cfhdrRESERVE_PRESENT
		if len(b) < off+4 {
			return nil, errors.New("truncated reserve header")
		}
		headerReserve := int(le.Uint16(b[off:]))
		folderReserve, dataReserve = int(b[off+2]), int(b[off+3])
		off += 4 + headerReserve
	}
	if flags&0x0003 != 0 {
		return nil, errors.New("multi-cabinet sets are not supported")
	}
	type folder struct {
		start    uint32
		blocks   int
		compress uint16
	}
	var folders []folder
	for range nFolders {
		if len(b) < off+8 {
			return nil, errors.New("truncated folder entry")
		}
		folders = append(folders, folder{le.Uint32(b[off:]), int(le.Uint16(b[off+4:])), le.Uint16(b[off+6:])})
		off += 8 + folderReserve
	}
	// Each folder's uncompressed data.
	data := make([][]byte, len(folders))
	for i, f := range folders {
		p := int(f.start)
		for range f.blocks {
			if p+8+dataReserve > len(b) {
				return nil, errors.New("truncated data block header")
			}
			cb := int(le.Uint16(b[p+4:]))
			p += 8 + dataReserve
			if p+cb > len(b) {
				return nil, errors.New("truncated data block")
			}
			if f.compress&0x000F == 0 {
				data[i] = append(data[i], b[p:p+cb]...)
			}
			p += cb
		}
	}
	files := map[string][]byte{}
	off = int(coffFiles)
	for range nFiles {
		if off+16 > len(b) {
			return nil, errors.New("truncated file entry")
		}
		cb := int(le.Uint32(b[off:]))
		start := int(le.Uint32(b[off+4:]))
		fi := int(le.Uint16(b[off+8:]))
		off += 16
		end := off
		for end < len(b) && b[end] != 0 {
			end++
		}
		if end >= len(b) {
			return nil, errors.New("truncated file name")
		}
		name := string(b[off:end])
		off = end + 1
		if fi >= len(folders) {
			return nil, fmt.Errorf("file %s in folder %d of %d", name, fi, len(folders))
		}
		if folders[fi].compress&0x000F != 0 {
			files[name] = nil
			continue
		}
		if start+cb > len(data[fi]) {
			return nil, fmt.Errorf("file %s runs past its folder", name)
		}
		files[name] = data[fi][start : start+cb]
	}
	return files, nil
}
