package codes

import "regexp"

// sourceTag matches one evidence tag of reference/wu-codes.md inside a
// source text: "[L-WINHTTPERR]", "[H]", "[MS-WUSP]", "[KB3175743]".
var sourceTag = regexp.MustCompile(`\[([A-Z0-9][A-Z0-9.-]*)\]`)

// SourceTags returns the evidence tags a source text cites, in order,
// each once, without brackets ("[H] 12175; [L-2F8F]" → H, L-2F8F).
func SourceTags(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range sourceTag.FindAllStringSubmatch(s, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// Bibliography is where every evidence tag is described: the project's
// own docs/sources.md.
const Bibliography = "https://github.com/wufault/wufault/blob/main/docs/sources.md"

// SourceAnchor is the anchor of a tag's entry in docs/sources.md (the
// entry's heading is the tag itself: "L-WINHTTPERR" → "l-winhttperr").
func SourceAnchor(tag string) string {
	b := make([]byte, 0, len(tag))
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b = append(b, c)
		}
	}
	return string(b)
}

// SourceLink is the URL of a tag's entry in the bibliography.
func SourceLink(tag string) string { return Bibliography + "#" + SourceAnchor(tag) }
