package gofpdf

// This file is itad's addition to its copy of gofpdf (see README.itad.md):
// UTF-8 fonts are parsed once per process and their subsets made once per
// set of characters, instead of once per document, and zlib writers are
// reused.

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// utf8Cached is a parsed UTF-8 (TrueType) font shared by every document
// that adds the same bytes, and the subsets made of it. file is read only
// after parsing: it supplies the widths (CharWidths).
type utf8Cached struct {
	data []byte // a private copy of the font file
	sum  string // hex SHA-1 of data
	file *utf8FontFile
	desc FontDescType
	up   int
	ut   int

	mu   sync.Mutex
	cuts map[string]*utf8Cut // by cutKey
}

// utf8Cut is a subset of a font for one set of characters, as putfonts
// writes it.
type utf8Cut struct {
	stream   []byte // zlib-compressed subset font file
	size     int    // its uncompressed length (/Length1)
	cidToGid []byte // zlib-compressed CIDToGIDMap
	widths   string // the /W entry, "" to compute it per document
}

type fontBytesKey struct {
	p *byte
	n int
}

var (
	utf8Fonts   sync.Map // fontBytesKey -> *utf8Cached
	utf8FontsMu sync.Mutex
)

// maxCuts bounds the subsets kept per font; when full, the cache empties.
const maxCuts = 256

// cachedUTF8 returns the parse of the font file b, parsing it on first
// use. Fonts are identified by the address and length of b: callers must
// not change b after passing it (itad passes the Go fonts' package
// variables).
func cachedUTF8(b []byte) (*utf8Cached, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty font file")
	}
	k := fontBytesKey{unsafe.SliceData(b), len(b)}
	if v, ok := utf8Fonts.Load(k); ok {
		return v.(*utf8Cached), nil
	}
	utf8FontsMu.Lock()
	defer utf8FontsMu.Unlock()
	if v, ok := utf8Fonts.Load(k); ok {
		return v.(*utf8Cached), nil
	}
	pc, err := parseUTF8(b)
	if err != nil {
		return nil, err
	}
	utf8Fonts.Store(k, pc)
	return pc, nil
}

func parseUTF8(b []byte) (*utf8Cached, error) {
	data := append([]byte(nil), b...)
	file := newUTF8Font(&fileReader{array: append([]byte(nil), data...)})
	if err := file.parseFile(); err != nil {
		return nil, err
	}
	sum := sha1.Sum(data)
	return &utf8Cached{
		data: data,
		sum:  hex.EncodeToString(sum[:]),
		file: file,
		desc: FontDescType{
			Ascent:       int(file.Ascent),
			Descent:      int(file.Descent),
			CapHeight:    file.CapHeight,
			Flags:        file.Flags,
			FontBBox:     file.Bbox,
			ItalicAngle:  file.ItalicAngle,
			StemV:        file.StemV,
			MissingWidth: round(file.DefaultWidth),
		},
		up:   int(round(file.UnderlinePosition)),
		ut:   round(file.UnderlineThickness),
		cuts: map[string]*utf8Cut{},
	}, nil
}

// id is the font's resource ID in a document, distinct per font key.
func (pc *utf8Cached) id(fontkey string) string {
	s := sha1.Sum([]byte(pc.sum + "\n" + fontkey))
	return hex.EncodeToString(s[:])
}

// cut returns the subset for usedRunes, which it first pads with every
// printable ASCII character, so that documents differing only in their
// Latin letters and digits share one subset.
func (pc *utf8Cached) cut(usedRunes map[int]int) *utf8Cut {
	for r := 0x20; r < 0x7f; r++ {
		usedRunes[r] = r
	}
	key := cutKey(usedRunes)
	pc.mu.Lock()
	c, ok := pc.cuts[key]
	pc.mu.Unlock()
	if ok {
		return c
	}
	file := newUTF8Font(&fileReader{array: append([]byte(nil), pc.data...)})
	if err := file.parseFile(); err != nil {
		// Cannot happen: the same bytes parsed before.
		panic(fmt.Sprintf("gofpdf: reparse font: %v", err))
	}
	c = newUTF8Cut(file, usedRunes)
	def := fontDefType{Cw: pc.file.CharWidths, usedRunes: usedRunes}
	c.widths = cidWidths(&def, file.LastRune) // LastRune is set by GenerateCutFont
	pc.mu.Lock()
	if len(pc.cuts) >= maxCuts {
		pc.cuts = map[string]*utf8Cut{}
	}
	pc.cuts[key] = c
	pc.mu.Unlock()
	return c
}

// newUTF8Cut subsets file (which it changes) to usedRunes.
func newUTF8Cut(file *utf8FontFile, usedRunes map[int]int) *utf8Cut {
	delete(usedRunes, 0)
	stream := file.GenerateCutFont(usedRunes)
	dict := file.CodeSymbolDictionary
	delete(dict, 0)
	cidToGid := make([]byte, 256*256*2)
	for cc, glyph := range dict {
		cidToGid[cc*2] = byte(glyph >> 8)
		cidToGid[cc*2+1] = byte(glyph & 0xFF)
	}
	return &utf8Cut{stream: sliceCompress(stream), size: len(stream), cidToGid: sliceCompress(cidToGid)}
}

// cutKey is the sorted list of the runes used (those with a non-zero
// value, as GenerateCutFont counts them).
func cutKey(usedRunes map[int]int) string {
	rs := make([]int, 0, len(usedRunes))
	for r, v := range usedRunes {
		if r != 0 && v != 0 {
			rs = append(rs, r)
		}
	}
	sort.Ints(rs)
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(strconv.Itoa(r))
		b.WriteByte(',')
	}
	return b.String()
}

// zlibWriters reuses zlib writers: each holds about a megabyte of
// compressor state, which sliceCompress used to allocate per stream.
var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return w
}}

// sliceCompress returns a zlib-compressed copy of the specified byte array
func sliceCompress(data []byte) []byte {
	var buf bytes.Buffer
	cmp := zlibWriters.Get().(*zlib.Writer)
	cmp.Reset(&buf)
	cmp.Write(data)
	cmp.Close()
	zlibWriters.Put(cmp)
	return buf.Bytes()
}
