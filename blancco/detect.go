package blancco

import (
	"bytes"
	"strings"
)

// DetectSize is how much of a file Detect needs: a caller reads up to this
// many bytes and passes them.
const DetectSize = 4096

// Detect reports whether the first bytes of a file (up to DetectSize)
// look like a Blancco XML report: after an optional UTF-8 byte order mark
// and white space, a "<" (an XML declaration or element), and then within
// head a <blancco_data> start tag (a report opens <root><report><blancco_data>).
// It looks at content only, never at a name.
func Detect(head []byte) bool {
	if len(head) > DetectSize {
		head = head[:DetectSize]
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("<blancco_data"))
		if j < 0 {
			return false
		}
		end := i + j + len("<blancco_data")
		if end == len(b) || strings.IndexByte(" \t\r\n>/", b[end]) >= 0 {
			return true
		}
		i = end
	}
}
