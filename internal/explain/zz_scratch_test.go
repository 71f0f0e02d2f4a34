package explain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestZZPaths(t *testing.T) {
	e := mustExplainer(t)
	out, _ := os.Create(os.Getenv("ZZOUT"))
	defer out.Close()
	for _, set := range []string{"blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "corpus", "tune", "tune2", "tune3", "tune5", "tune6", "tune7", "tune8", "tune9", "tune10", "tune11"} {
		dir := filepath.Join("testdata", "holdout", set)
		if set == "corpus" {
			dir = filepath.Join("testdata", "corpus")
		}
		for _, x := range loadLabelled(t, dir) {
			p := Extract(x.Input)
			h := e.rules.match(&p, matchText(&p))
			if h.rule != nil {
				continue
			}
			code := CauseOther
			if c, _ := e.rules.fallback(&p); c != nil {
				code = c.Cause
			}
			wc, prob, known := e.words.predict(wordTokens(nil, modelText(&p), p.Code, p.Enhanced))
			b, _ := json.Marshal(map[string]any{"set": set, "label": *x.Cause, "code": code, "words": wc, "prob": prob, "known": known, "hascode": p.Code != 0 || p.Enhanced != ""})
			fmt.Fprintln(out, string(b))
		}
	}
}
