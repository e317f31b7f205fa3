package main

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// The kv model: a store of keys with revisions, checked key by key. See README.md, "The kv
// model", for the semantics and why they are sound.

type kvOp uint8

const (
	kvGet kvOp = iota
	kvPut
	kvDelete
	kvCas
)

func (op kvOp) String() string {
	return [...]string{"get", "put", "delete", "cas"}[op]
}

type kvInput struct {
	op       kvOp
	key      string
	value    string // put, cas
	expected int64  // cas: expectedRevision; 0 = the key must not exist
}

type kvOutput struct {
	unknown  bool   // outcome unknown: any outcome is allowed
	found    bool   // get
	value    string // get, when found
	ok       bool   // cas
	deleted  bool   // delete
	revision int64  // the revision reported, 0 when not reported
}

// unbounded is the upper end of a revision interval that has none.
const unbounded = int64(math.MaxInt64)

// kvState is the state of one key. The modification revision of the key's latest write
// (put, cas, or delete of a present key) is only known to lie in [lo, hi]: it is exact
// (lo == hi) once a client observed it, and an interval after a write whose revision no
// client saw (unknown outcome, or a reply without revision). A key never written has
// lo == hi == 0. Revisions come from a store-wide counter, so successive writes to a key
// have strictly increasing, but not necessarily consecutive, revisions.
type kvState struct {
	present bool
	value   string
	lo, hi  int64
}

var kvInit = kvState{}

// afterWrite is the state after a write whose previous revision lay in [prevLo, ...]: the
// new revision is r when the client saw it, and otherwise only known to exceed prevLo.
func afterWrite(present bool, value string, prevLo, r int64) (kvState, bool) {
	if r == 0 {
		return kvState{present: present, value: value, lo: prevLo + 1, hi: unbounded}, true
	}
	if r <= prevLo {
		return kvState{}, false
	}
	return kvState{present: present, value: value, lo: r, hi: r}, true
}

// casMatches returns the state narrowed to the case where the compare of cas(expected)
// succeeds, or false when it cannot succeed.
func casMatches(s kvState, expected int64) (kvState, bool) {
	if expected == 0 {
		return s, !s.present
	}
	if !s.present || expected < s.lo || expected > s.hi {
		return kvState{}, false
	}
	s.lo, s.hi = expected, expected
	return s, true
}

// casFails returns the states narrowed to the case where the compare of cas(expected)
// fails (none when it cannot fail).
func casFails(s kvState, expected int64) []kvState {
	if expected == 0 {
		if s.present {
			return []kvState{s}
		}
		return nil
	}
	if !s.present || expected < s.lo || expected > s.hi {
		return []kvState{s}
	}
	var states []kvState
	if s.lo <= expected-1 {
		below := s
		below.hi = expected - 1
		states = append(states, below)
	}
	if expected+1 <= s.hi {
		above := s
		above.lo = expected + 1
		states = append(states, above)
	}
	return states
}

func kvStep(s kvState, in kvInput, out kvOutput) []kvState {
	one := func(s kvState, ok bool) []kvState {
		if !ok {
			return nil
		}
		return []kvState{s}
	}
	switch in.op {
	case kvGet:
		switch {
		case out.unknown:
			return []kvState{s}
		case !out.found:
			return one(s, !s.present)
		case !s.present || s.value != out.value:
			return nil
		case out.revision == 0:
			return []kvState{s}
		case out.revision < s.lo || out.revision > s.hi:
			return nil
		}
		s.lo, s.hi = out.revision, out.revision
		return []kvState{s}
	case kvPut:
		return one(afterWrite(true, in.value, s.lo, out.revision))
	case kvDelete:
		switch {
		case out.unknown:
			if !s.present {
				return []kvState{s}
			}
			return one(afterWrite(false, "", s.lo, 0))
		case !out.deleted:
			return one(s, !s.present)
		case !s.present:
			return nil
		}
		return one(afterWrite(false, "", s.lo, out.revision))
	case kvCas:
		var states []kvState
		if out.unknown || out.ok {
			if m, ok := casMatches(s, in.expected); ok {
				if next, ok := afterWrite(true, in.value, m.lo, out.revision); ok {
					states = append(states, next)
				}
			}
		}
		if out.unknown || !out.ok {
			states = append(states, casFails(s, in.expected)...)
		}
		return states
	}
	return nil
}

func parseKVInput(o object) (any, string, error) {
	op, _, err := o.str("op", true)
	if err != nil {
		return nil, "", err
	}
	in := kvInput{}
	switch op {
	case "get":
		in.op, err = kvGet, o.allow("op", "key")
	case "put":
		in.op, err = kvPut, o.allow("op", "key", "value")
	case "delete":
		in.op, err = kvDelete, o.allow("op", "key")
	case "cas":
		in.op, err = kvCas, o.allow("op", "key", "value", "expectedRevision")
	default:
		return nil, "", badInput("%s: unknown op %q; expected get, put, delete or cas", o.where, op)
	}
	if err != nil {
		return nil, "", err
	}
	if in.key, _, err = o.str("key", true); err != nil {
		return nil, "", err
	}
	if in.key == "" {
		return nil, "", badInput("%s: \"key\" must not be empty", o.where)
	}
	if in.op == kvPut || in.op == kvCas {
		if in.value, _, err = o.str("value", true); err != nil {
			return nil, "", err
		}
	}
	if in.op == kvCas {
		if in.expected, _, err = o.integer("expectedRevision", true, 0, maxNumber); err != nil {
			return nil, "", err
		}
	}
	return in, in.key, nil
}

func parseKVOutput(input any, o object) (any, error) {
	in := input.(kvInput)
	out := kvOutput{}
	var err error
	revision := func(allowed bool, when string) error {
		if !o.present("revision") {
			return nil
		}
		if !allowed {
			return badInput("%s: \"revision\" is only allowed %s", o.where, when)
		}
		out.revision, _, err = o.integer("revision", false, 1, maxNumber)
		return err
	}
	switch in.op {
	case kvGet:
		if err = o.allow("found", "value", "revision"); err != nil {
			return nil, err
		}
		if out.found, _, err = o.boolean("found", true); err != nil {
			return nil, err
		}
		if out.found {
			if out.value, _, err = o.str("value", true); err != nil {
				return nil, err
			}
		} else if o.present("value") {
			return nil, badInput("%s: \"value\" is only allowed when \"found\" is true", o.where)
		}
		err = revision(out.found, "when \"found\" is true")
	case kvPut:
		if err = o.allow("revision"); err != nil {
			return nil, err
		}
		err = revision(true, "")
	case kvDelete:
		if err = o.allow("deleted", "revision"); err != nil {
			return nil, err
		}
		if out.deleted, _, err = o.boolean("deleted", true); err != nil {
			return nil, err
		}
		err = revision(out.deleted, "when \"deleted\" is true")
	case kvCas:
		if err = o.allow("ok", "revision"); err != nil {
			return nil, err
		}
		if out.ok, _, err = o.boolean("ok", true); err != nil {
			return nil, err
		}
		err = revision(out.ok, "when \"ok\" is true")
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func describeKVOperation(input, output any) string {
	in := input.(kvInput)
	out := output.(kvOutput)
	var call string
	switch in.op {
	case kvGet, kvDelete:
		call = fmt.Sprintf("%s(%q)", in.op, in.key)
	case kvPut:
		call = fmt.Sprintf("put(%q, %q)", in.key, in.value)
	case kvCas:
		call = fmt.Sprintf("cas(%q, %q, expectedRevision=%d)", in.key, in.value, in.expected)
	}
	rev := func() string {
		if out.revision == 0 {
			return ""
		}
		return fmt.Sprintf(" revision %d", out.revision)
	}
	var result string
	switch {
	case out.unknown:
		result = "unknown"
	case in.op == kvGet && !out.found:
		result = "not found"
	case in.op == kvGet:
		result = strconv.Quote(out.value) + rev()
	case in.op == kvPut:
		result = "ok" + rev()
	case in.op == kvDelete && out.deleted:
		result = "deleted" + rev()
	case in.op == kvDelete:
		result = "not found"
	case out.ok:
		result = "ok" + rev()
	default:
		result = "failed"
	}
	return call + " -> " + result
}

func describeKVState(state any) string {
	s := state.(kvState)
	var rev string
	switch {
	case s.lo == 0 && s.hi == 0:
		return "absent (never written)"
	case s.lo == s.hi:
		rev = fmt.Sprintf("revision %d", s.lo)
	case s.hi == unbounded:
		rev = fmt.Sprintf("revision >= %d", s.lo)
	default:
		rev = fmt.Sprintf("revision in [%d, %d]", s.lo, s.hi)
	}
	if !s.present {
		return "absent (deleted at " + rev + ")"
	}
	return strconv.Quote(s.value) + " at " + rev
}

func hashKVState(state any) uint64 {
	s := state.(kvState)
	h := fnv.New64a()
	fmt.Fprintf(h, "%t|%d|%d|%s", s.present, s.lo, s.hi, s.value)
	return h.Sum64()
}

var kvSpec = &modelSpec{
	name:          "kv",
	noun:          "key",
	parseInput:    parseKVInput,
	parseOutput:   parseKVOutput,
	unknownOutput: kvOutput{unknown: true},
	constrainsNothing: func(op operation) bool {
		return op.unknown && op.input.(kvInput).op == kvGet
	},
	extraCheck: checkKVRevisions,
	model: porcupine.NondeterministicModel{
		Init: func() []any { return []any{kvInit} },
		Step: func(state, input, output any) []any {
			next := kvStep(state.(kvState), input.(kvInput), output.(kvOutput))
			states := make([]any, len(next))
			for i, s := range next {
				states[i] = s
			}
			return states
		},
		Hash:              hashKVState,
		DescribeOperation: describeKVOperation,
		DescribeState:     describeKVState,
	},
}

// checkKVRevisions checks what the per-key check cannot see: revisions come from one
// store-wide counter that grows in linearization order. Every check here is a necessary
// condition of linearizability, so a violation is a definite one:
//
//   - two successful writes never report the same revision;
//   - a get that reports revision r on key k read a write of key k, so no write of another
//     key reports r;
//   - if operation A returned before operation B was invoked, A took effect first: with
//     lo(A) the least store revision at which A can have taken effect (its own revision for
//     a write, the revision it read for a get), every write B must create a revision above
//     lo(A), and every get B that read revision r of key k must have taken effect before
//     the next write of key k after r (if one is known, at revision w), so lo(A) < w.
func checkKVRevisions(ops []operation) []violation {
	type write struct {
		op       *operation
		revision int64
	}
	writes := map[int64]write{}
	keyRevisions := map[string][]int64{}
	var violations []violation
	for i := range ops {
		op := &ops[i]
		in, out := op.input.(kvInput), op.output.(kvOutput)
		if op.unknown || out.revision == 0 || in.op == kvGet {
			continue
		}
		if other, dup := writes[out.revision]; dup {
			violations = append(violations, violation{
				ops: []*operation{other.op, op},
				msg: fmt.Sprintf("operations %d and %d both report creating revision %d; every write creates its own revision", other.op.index, op.index, out.revision),
			})
			continue
		}
		writes[out.revision] = write{op, out.revision}
		keyRevisions[in.key] = append(keyRevisions[in.key], out.revision)
	}
	for _, revs := range keyRevisions {
		sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	}

	// Per operation: lo, the least store revision at which it can have taken effect, and
	// below, an exclusive upper bound when one is known.
	type bound struct {
		op        *operation
		lo, below int64
		next      *operation // for a get: the write whose revision is below
	}
	var bounds []bound
	for i := range ops {
		op := &ops[i]
		in, out := op.input.(kvInput), op.output.(kvOutput)
		if op.unknown || out.revision == 0 {
			continue
		}
		if in.op != kvGet {
			bounds = append(bounds, bound{op: op, lo: out.revision, below: out.revision})
			continue
		}
		if w, ok := writes[out.revision]; ok && w.op.input.(kvInput).key != in.key {
			violations = append(violations, violation{
				ops: []*operation{op, w.op},
				msg: fmt.Sprintf("operation %d (%s) returned revision %d of key %q, but operation %d created revision %d on key %q", op.index, describeKVOperation(op.input, op.output), out.revision, in.key, w.op.index, out.revision, w.op.input.(kvInput).key),
			})
		}
		b := bound{op: op, lo: out.revision}
		revs := keyRevisions[in.key]
		if j := sort.Search(len(revs), func(j int) bool { return revs[j] > out.revision }); j < len(revs) {
			b.below = revs[j]
			b.next = writes[revs[j]].op
		}
		bounds = append(bounds, b)
	}

	// For each B with an upper bound, the largest lo(A) over the A that returned before B
	// was invoked; A and B with equal times are concurrent.
	byReturn := make([]bound, len(bounds))
	copy(byReturn, bounds)
	sort.SliceStable(byReturn, func(i, j int) bool { return byReturn[i].op.ret < byReturn[j].op.ret })
	maxLo := make([]int, len(byReturn)) // index into byReturn of the largest lo so far
	for i := range byReturn {
		maxLo[i] = i
		if i > 0 && byReturn[maxLo[i-1]].lo >= byReturn[i].lo {
			maxLo[i] = maxLo[i-1]
		}
	}
	for _, b := range bounds {
		if b.below == 0 {
			continue
		}
		n := sort.Search(len(byReturn), func(i int) bool { return byReturn[i].op.ret >= b.op.call })
		if n == 0 {
			continue
		}
		a := byReturn[maxLo[n-1]]
		if a.lo < b.below {
			continue
		}
		aDesc := fmt.Sprintf("operation %d (%s)", a.op.index, describeKVOperation(a.op.input, a.op.output))
		bDesc := fmt.Sprintf("operation %d (%s)", b.op.index, describeKVOperation(b.op.input, b.op.output))
		var msg string
		if b.next == nil {
			msg = fmt.Sprintf("%s was invoked after %s had returned, so it must create a revision above %d, but it reports revision %d", bDesc, aDesc, a.lo, b.lo)
		} else {
			msg = fmt.Sprintf("%s was invoked after %s had returned, so it read the store at revision %d or later, but key %q had been rewritten at revision %d by operation %d before that", bDesc, aDesc, a.lo, b.op.input.(kvInput).key, b.below, b.next.index)
		}
		violations = append(violations, violation{ops: []*operation{a.op, b.op}, msg: msg})
	}
	return violations
}
