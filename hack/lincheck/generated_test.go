package main

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// Histories generated from a sequential execution (each operation takes effect at a point
// inside its interval) are linearizable, so the checker must accept them: this guards the
// models against false alarms. Simple mutations that certainly break linearizability must
// be caught.

type genOp struct {
	testOp
	point     float64 // when it takes effect
	effective bool    // false: an unknown-outcome operation that never took effect
	key       string
	kind      string
}

// genSchedule makes per-client sequential operations with random intervals and effect
// points; about one in unknownOneIn has an unknown outcome (and then takes effect later or
// never).
func genSchedule(r *rand.Rand, clients, perClient, unknownOneIn int) []*genOp {
	var ops []*genOp
	for c := 0; c < clients; c++ {
		t := int64(r.Intn(10))
		for i := 0; i < perClient; i++ {
			call := t + 1 + int64(r.Intn(5))
			dur := int64(1 + r.Intn(30))
			op := &genOp{testOp: testOp{ClientID: c, Call: call, Return: call + dur}, effective: true}
			op.point = float64(call) + r.Float64()*float64(dur)
			if r.Intn(unknownOneIn) == 0 {
				op.Unknown = true
				op.effective = r.Intn(2) == 0
				op.point = float64(call) + r.Float64()*200
			}
			ops = append(ops, op)
			t = call + dur
		}
	}
	return ops
}

func byPoint(ops []*genOp) []*genOp {
	sorted := append([]*genOp(nil), ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].point < sorted[j].point })
	return sorted
}

func toDoc(model string, ops []*genOp) string {
	list := make([]testOp, len(ops))
	for i, op := range ops {
		list[i] = op.testOp
	}
	return doc(model, list...)
}

func genKV(r *rand.Rand, ops []*genOp) []*genOp {
	keys := []string{"a", "b", "c"}
	kinds := []string{"get", "get", "get", "put", "put", "delete", "cas", "cas"}
	for _, op := range ops {
		op.key = keys[r.Intn(len(keys))]
		op.kind = kinds[r.Intn(len(kinds))]
	}
	type entry struct {
		value string
		rev   int64
	}
	store := map[string]*entry{}
	lastRev := map[string]int64{}
	var revision int64
	newRevision := func() int64 {
		revision += 1 + int64(r.Intn(3)) // other clients' writes are not in the history
		return revision
	}
	maybe := func(rev int64) m {
		if r.Intn(5) == 0 {
			return m{}
		}
		return m{"revision": rev}
	}
	for n, op := range byPoint(ops) {
		cur := store[op.key]
		switch op.kind {
		case "get":
			op.Input = m{"op": "get", "key": op.key}
			switch {
			case cur == nil:
				op.Output = m{"found": false}
			case r.Intn(5) == 0:
				op.Output = m{"found": true, "value": cur.value}
			default:
				op.Output = m{"found": true, "value": cur.value, "revision": cur.rev}
			}
		case "put":
			value := fmt.Sprintf("v%d", n)
			op.Input = m{"op": "put", "key": op.key, "value": value}
			if op.effective {
				rev := newRevision()
				store[op.key], lastRev[op.key] = &entry{value, rev}, rev
				op.Output = maybe(rev)
			}
		case "delete":
			op.Input = m{"op": "delete", "key": op.key}
			switch {
			case cur == nil:
				op.Output = m{"deleted": false}
			case op.effective:
				rev := newRevision()
				delete(store, op.key)
				lastRev[op.key] = rev
				op.Output = maybe(rev)
				op.Output.(m)["deleted"] = true
			}
		case "cas":
			expected := int64(r.Intn(int(revision) + 1))
			if r.Intn(3) > 0 {
				expected = 0
				if cur != nil {
					expected = cur.rev
				}
			}
			value := fmt.Sprintf("v%d", n)
			op.Input = m{"op": "cas", "key": op.key, "value": value, "expectedRevision": expected}
			matches := (cur == nil && expected == 0) || (cur != nil && cur.rev == expected)
			switch {
			case !matches:
				op.Output = m{"ok": false}
			case op.effective:
				rev := newRevision()
				store[op.key], lastRev[op.key] = &entry{value, rev}, rev
				op.Output = maybe(rev)
				op.Output.(m)["ok"] = true
			}
		}
	}
	return ops
}

func genLock(r *rand.Rand, ops []*genOp) []*genOp {
	locks := []string{"L", "M"}
	for _, op := range ops {
		op.key = locks[r.Intn(len(locks))]
		op.kind = "release"
		if r.Intn(5) < 3 {
			op.kind = "acquire"
		}
	}
	type lock struct {
		holder string
		token  int64
	}
	state := map[string]*lock{"L": {}, "M": {}}
	var counter int64
	hintUntilEffective := map[string]bool{}
	for _, op := range byPoint(ops) {
		l := state[op.key]
		owner := fmt.Sprintf("owner%d", op.ClientID)
		in := m{"op": op.kind, "lock": op.key, "owner": owner}
		op.Input = in
		if l.holder != "" && r.Intn(10) == 0 {
			// The lease runs out just before this operation. The checker can only let it run
			// out just before an operation with the hint that takes effect, so the hint goes
			// on every operation from here up to the first one that does (as a harness that
			// marks every operation that may take effect after an expiry would do).
			l.holder = ""
			hintUntilEffective[op.key] = true
		}
		if hintUntilEffective[op.key] || r.Intn(20) == 0 { // a needless hint is harmless
			in["leaseExpired"] = true
		}
		if op.effective {
			hintUntilEffective[op.key] = false
		}
		grant := func() m {
			if r.Intn(10) == 0 {
				return m{"ok": true}
			}
			return m{"ok": true, "token": l.token}
		}
		switch {
		case op.kind == "acquire" && l.holder == "":
			if op.effective {
				counter += 1 + int64(r.Intn(3))
				l.holder, l.token = owner, counter
				op.Output = grant()
			}
		case op.kind == "acquire" && l.holder == owner:
			switch x := r.Intn(3); {
			case x == 0:
				op.Output = m{"ok": false}
			case !op.effective:
			case x == 1:
				op.Output = grant()
			default:
				counter++
				l.token = counter
				op.Output = grant()
			}
		case op.kind == "acquire":
			op.Output = m{"ok": false}
		case l.holder == owner:
			if op.effective {
				l.holder = ""
				op.Output = m{"ok": true}
			}
		default:
			op.Output = m{"ok": false}
		}
	}
	return ops
}

func TestGeneratedHistoriesAreAccepted(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		for _, model := range []string{"kv", "lock"} {
			r := rand.New(rand.NewSource(seed))
			var ops []*genOp
			if model == "kv" {
				ops = genKV(r, genSchedule(r, 5, 40, 12))
			} else {
				ops = genLock(r, genSchedule(r, 5, 40, 12))
			}
			code, stdout, stderr := checkDoc(t, toDoc(model, ops), "-timeout", "60s")
			if code != exitLinearizable {
				t.Fatalf("%s seed %d: exit %d, want 0\nstdout:\n%s\nstderr:\n%s\nhistory:\n%s", model, seed, code, stdout, stderr, toDoc(model, ops))
			}
		}
	}
}

func TestGeneratedMutationsAreCaught(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		// kv: a get returns a value nobody wrote.
		r := rand.New(rand.NewSource(seed))
		ops := genKV(r, genSchedule(r, 4, 30, 20))
		for _, op := range ops {
			if out, ok := op.Output.(m); ok && !op.Unknown && op.kind == "get" && out["found"] == true {
				out["value"] = "never written"
				break
			}
		}
		if code, stdout, _ := checkDoc(t, toDoc("kv", ops), "-timeout", "60s"); code != exitNotLinearizable {
			t.Errorf("kv seed %d: exit %d, want 1\n%s", seed, code, stdout)
		}

		// lock: a grant to another owner that follows a grant in real time reuses its
		// token (or a smaller one).
		r = rand.New(rand.NewSource(seed))
		ops = genLock(r, genSchedule(r, 4, 30, 20))
		mutated := false
		for _, first := range ops {
			for _, second := range ops {
				o1, ok1 := first.Output.(m)
				o2, ok2 := second.Output.(m)
				if mutated || !ok1 || !ok2 || first.Unknown || second.Unknown || first.key != second.key || first.ClientID == second.ClientID ||
					first.kind != "acquire" || second.kind != "acquire" || o1["token"] == nil || o2["token"] == nil ||
					first.Return.(int64) >= second.Call.(int64) {
					continue
				}
				o2["token"] = o1["token"].(int64) - int64(r.Intn(2))
				mutated = true
			}
		}
		if !mutated {
			continue
		}
		if code, stdout, _ := checkDoc(t, toDoc("lock", ops), "-timeout", "60s"); code != exitNotLinearizable {
			t.Errorf("lock seed %d: exit %d, want 1\n%s", seed, code, stdout)
		}
	}
}
