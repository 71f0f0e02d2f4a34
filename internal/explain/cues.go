package explain

// The fixed phrase lists of the extraction step (stage cues, socket
// failures, bounce and delay-notice prose, client-library wording) are
// compiled once into one automaton (the same builder as the rules'), so an
// input is scanned once for all of them instead of once per phrase.

type cueKind uint8

const (
	cueStage cueKind = iota
	cueConnect
	cueFatal     // sendmail "permanent fatal errors"
	cueTransient // sendmail "transient non-fatal errors"
	cueDeferred
	cueFailed
	cueClient
)

type cueEntry struct {
	kind cueKind
	idx  int // index in stageCue for cueStage
}

type cueTable struct {
	ac      *automaton
	entries [][]cueEntry // keyword id -> what it signals
}

const cueWords = 8 // up to 512 phrases

var cues = buildCues()

func buildCues() *cueTable {
	kw := newKeywords()
	var entries [][]cueEntry
	add := func(kind cueKind, idx int, phrase string) {
		ids, err := kw.ids([]string{phrase})
		if err != nil {
			panic("explain: cue " + phrase + ": " + err.Error())
		}
		id := ids[0]
		for len(entries) <= id {
			entries = append(entries, nil)
		}
		entries[id] = append(entries[id], cueEntry{kind, idx})
	}
	for i, c := range stageCue {
		add(cueStage, i, c.phrase)
	}
	for _, c := range connectCue {
		add(cueConnect, 0, c)
	}
	add(cueFatal, 0, "permanent fatal error")
	// Postfix's bounce template ("I'm sorry to have to inform you that
	// your message could not be delivered to one or more recipients"),
	// never its delay notice ("could not be delivered for 4.0 hours"): a
	// bounce, even when the reason it quotes is "delivery temporarily
	// suspended".
	add(cueFatal, 0, "could not be delivered to one or more recipients")
	add(cueTransient, 0, "transient non-fatal error")
	for _, c := range proseDeferred {
		add(cueDeferred, 0, c)
	}
	for _, c := range proseFailed {
		add(cueFailed, 0, c)
	}
	for _, c := range clientMarkers {
		add(cueClient, 0, c)
	}
	if kw.n() > cueWords*64 {
		panic("explain: too many cue phrases")
	}
	return &cueTable{ac: kw.build(), entries: entries}
}

// cueHits is what one scan found.
type cueHits struct {
	stage            int // index into stageCue of the earliest cue in list order, -1 if none
	connect, client  bool
	fatal, transient bool
	deferred, failed bool
}

func scanCues(lower string) cueHits {
	var seen [cueWords]uint64
	var buf [32]int32
	h := cueHits{stage: -1}
	for _, id := range cues.ac.scan(lower, seen[:], buf[:0]) {
		for _, e := range cues.entries[id] {
			switch e.kind {
			case cueStage:
				if h.stage < 0 || e.idx < h.stage {
					h.stage = e.idx
				}
			case cueConnect:
				h.connect = true
			case cueFatal:
				h.fatal = true
			case cueTransient:
				h.transient = true
			case cueDeferred:
				h.deferred = true
			case cueFailed:
				h.failed = true
			case cueClient:
				h.client = true
			}
		}
	}
	return h
}

// stageName is the stage of the hits, "" if none.
func (h cueHits) stageName() string {
	if h.stage < 0 {
		return ""
	}
	return stageCue[h.stage].stage
}

// proseHint reads the status from bounce prose that has no log status
// field: sendmail's "The following addresses had permanent fatal errors"
// and "transient non-fatal errors" headings, then the wording of delay
// notices and bounces (proseDeferred, proseFailed).
func (h cueHits) proseHint() string {
	switch {
	case h.fatal:
		return HintFailed
	case h.transient, h.deferred:
		return HintDeferred
	case h.failed:
		return HintFailed
	}
	return HintNone
}
