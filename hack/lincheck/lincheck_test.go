package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command's logic with the given arguments and standard input.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// checkDoc checks an inline history given on standard input.
func checkDoc(t *testing.T, doc string, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, doc, append(args, "-")...)
}

// Every history under testdata/ is an example: kv-ok-*, lock-ok-* are linearizable,
// *-violation-* are not, invalid-* are bad input.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, verdict := -1, ""
			switch {
			case strings.HasPrefix(name, "invalid-"):
				want = exitBadInput
			case strings.Contains(name, "-ok-"):
				want, verdict = exitLinearizable, ": linearizable\n"
			case strings.Contains(name, "-violation-"):
				want, verdict = exitNotLinearizable, ": NOT linearizable\n"
			default:
				t.Fatalf("testdata file %s: name must start with invalid- or contain -ok- or -violation-", name)
			}
			code, stdout, stderr := runCLI(t, "", file)
			if code != want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
			}
			if verdict != "" && !strings.Contains(stdout, verdict) {
				t.Errorf("stdout lacks %q:\n%s", verdict, stdout)
			}
			if want == exitBadInput && (stdout != "" || !strings.HasPrefix(stderr, "lincheck: ") || strings.Count(stderr, "\n") != 1) {
				t.Errorf("bad input must give one line on stderr and nothing on stdout; stdout %q, stderr %q", stdout, stderr)
			}
		})
	}
}

// The reports name what failed.
func TestViolationReports(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"kv-violation-stale-read.json", []string{
			`kv model, 4 operations, 1 key: NOT linearizable`,
			`key "x" (4 operations): no linearization exists`,
			`#3 client 2 [40, 50] get("x") -> "a"`,
		}},
		{"kv-violation-lost-write.json", []string{`key "x" (3 operations)`, `get("x") -> not found`}},
		{"kv-violation-stale-cas.json", []string{`cas("x", "c", expectedRevision=1) -> ok revision 3`}},
		{"kv-violation-revision-order.json", []string{
			`revision order: operation 2 (put("y", "b") -> ok revision 5) was invoked after operation 1 (get("x") -> "a" revision 10) had returned`,
		}},
		{"lock-violation-double-grant.json", []string{`lock "L" (2 operations): no linearization exists`}},
		{"lock-violation-token-not-increasing.json", []string{`acquire("L", owner="b") -> ok token 5`}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			code, stdout, _ := runCLI(t, "", filepath.Join("testdata", c.file))
			if code != exitNotLinearizable {
				t.Fatalf("exit %d, want 1:\n%s", code, stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	// The per-key part of the revision-order example is linearizable: no key is named.
	_, stdout, _ := runCLI(t, "", filepath.Join("testdata", "kv-violation-revision-order.json"))
	if strings.Contains(stdout, "no linearization exists") {
		t.Errorf("per-key check should pass for the revision-order example:\n%s", stdout)
	}
}

type testOp struct {
	ClientID int  `json:"clientId"`
	Input    any  `json:"input"`
	Output   any  `json:"output"`
	Call     any  `json:"call"`
	Return   any  `json:"return"`
	Unknown  bool `json:"-"`
}

func doc(model string, ops ...testOp) string {
	for i := range ops {
		if ops[i].Unknown {
			ops[i].Output, ops[i].Return = nil, nil
		}
	}
	data, err := json.Marshal(map[string]any{"model": model, "operations": ops})
	if err != nil {
		panic(err)
	}
	return string(data)
}

type m = map[string]any

func opDoc(client int, input, output m, call, ret int64) testOp {
	op := testOp{ClientID: client, Input: input, Output: output, Call: call, Return: ret}
	if output == nil {
		op.Unknown = true
	}
	return op
}

func TestKVHistories(t *testing.T) {
	put := func(k, v string) m { return m{"op": "put", "key": k, "value": v} }
	get := func(k string) m { return m{"op": "get", "key": k} }
	del := func(k string) m { return m{"op": "delete", "key": k} }
	cas := func(k, v string, e int) m { return m{"op": "cas", "key": k, "value": v, "expectedRevision": e} }
	found := func(v string, r int) m {
		if r == 0 {
			return m{"found": true, "value": v}
		}
		return m{"found": true, "value": v, "revision": r}
	}
	cases := []struct {
		name string
		ops  []testOp
		want int
	}{
		{"put with unknown outcome takes effect after its client gave up", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			{ClientID: 2, Input: put("x", "b"), Output: nil, Call: 20, Return: 25}, // gave up at 25
			opDoc(3, get("x"), found("a", 1), 30, 40),
			opDoc(3, get("x"), found("b", 2), 50, 60),
		}, exitLinearizable},
		{"get revision must match the put that wrote the value", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(3, get("x"), found("a", 2), 30, 40),
		}, exitNotLinearizable},
		{"revisions of one key increase", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 5}, 0, 10),
			opDoc(1, put("x", "b"), m{"revision": 3}, 20, 30),
		}, exitNotLinearizable},
		{"concurrent puts may take effect in either order", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 5}, 0, 100),
			opDoc(2, put("x", "b"), m{"revision": 3}, 0, 100),
			opDoc(3, get("x"), found("a", 5), 110, 120),
		}, exitLinearizable},
		{"unknown-revision put is pinned by the first get that reports it", []testOp{
			opDoc(1, put("x", "a"), m{}, 0, 10),
			opDoc(2, get("x"), found("a", 4), 20, 30),
			opDoc(2, get("x"), found("a", 6), 40, 50),
		}, exitNotLinearizable},
		{"a chain of unknown writes needs room between known revisions", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(1, put("x", "b"), m{}, 20, 30),
			opDoc(1, put("x", "c"), m{}, 40, 50),
			opDoc(2, get("x"), found("c", 2), 60, 70), // b took revision >= 2, c >= 3
		}, exitNotLinearizable},
		{"failed cas excludes the expected revision from an unknown one", []testOp{
			opDoc(1, put("x", "a"), m{}, 0, 10),
			opDoc(2, cas("x", "b", 4), m{"ok": false}, 20, 30),
			opDoc(2, get("x"), found("a", 4), 40, 50),
		}, exitNotLinearizable},
		{"failed cas with another revision is fine", []testOp{
			opDoc(1, put("x", "a"), m{}, 0, 10),
			opDoc(2, cas("x", "b", 4), m{"ok": false}, 20, 30),
			opDoc(2, get("x"), found("a", 5), 40, 50),
		}, exitLinearizable},
		{"cas on an unknown revision pins it", []testOp{
			opDoc(1, put("x", "a"), m{}, 0, 10),
			opDoc(2, cas("x", "b", 4), m{"ok": true, "revision": 9}, 20, 30),
			opDoc(2, get("x"), found("b", 9), 40, 50),
		}, exitLinearizable},
		{"cas with expectedRevision 0 fails on a present key", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(2, cas("x", "b", 0), m{"ok": true, "revision": 2}, 20, 30),
		}, exitNotLinearizable},
		{"delete of an absent key reports deleted false", []testOp{
			opDoc(1, del("x"), m{"deleted": true}, 0, 10),
		}, exitNotLinearizable},
		{"unknown cas may or may not have happened", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(2, cas("x", "b", 1), nil, 20, 0),
			opDoc(3, get("x"), found("a", 1), 30, 40),
			opDoc(3, get("x"), found("b", 0), 50, 60),
		}, exitLinearizable},
		{"unknown delete then a read of the old value is fine", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(2, del("x"), nil, 20, 0),
			opDoc(3, get("x"), found("a", 1), 30, 40),
			opDoc(3, get("x"), m{"found": false}, 50, 60),
		}, exitLinearizable},
		{"a value nobody wrote", []testOp{
			opDoc(1, put("x", "a"), nil, 0, 0),
			opDoc(3, get("x"), found("z", 0), 30, 40),
		}, exitNotLinearizable},
		{"duplicate revisions across keys", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 3}, 0, 10),
			opDoc(2, put("y", "a"), m{"revision": 3}, 0, 10),
		}, exitNotLinearizable},
		{"a get reports the revision of another key's write", []testOp{
			opDoc(1, put("x", "a"), m{}, 0, 10),
			opDoc(2, put("y", "a"), m{"revision": 3}, 0, 10),
			opDoc(3, get("x"), found("a", 3), 20, 30),
		}, exitNotLinearizable},
		{"stale read detected through another key's revision", []testOp{
			opDoc(1, put("x", "a"), m{"revision": 1}, 0, 10),
			opDoc(1, put("x", "b"), m{"revision": 2}, 20, 200), // concurrent with everything below
			opDoc(2, put("y", "c"), m{"revision": 3}, 30, 40),
			// invoked after y's revision 3 existed, so x was at revision 2 by then
			opDoc(3, get("x"), found("a", 1), 50, 60),
		}, exitNotLinearizable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := checkDoc(t, doc("kv", c.ops...))
			if code != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.want, stdout, stderr)
			}
		})
	}
}

func TestLockHistories(t *testing.T) {
	acq := func(l, o string) m { return m{"op": "acquire", "lock": l, "owner": o} }
	acqX := func(l, o string) m { return m{"op": "acquire", "lock": l, "owner": o, "leaseExpired": true} }
	rel := func(l, o string) m { return m{"op": "release", "lock": l, "owner": o} }
	relX := func(l, o string) m { return m{"op": "release", "lock": l, "owner": o, "leaseExpired": true} }
	ok := func(token int) m { return m{"ok": true, "token": token} }
	refused := m{"ok": false}
	cases := []struct {
		name string
		ops  []testOp
		want int
	}{
		{"acquire of a free lock cannot be refused", []testOp{
			opDoc(1, acq("L", "a"), refused, 0, 10),
		}, exitNotLinearizable},
		{"overlapping acquires: only one wins", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 100),
			opDoc(2, acq("L", "b"), refused, 0, 100),
		}, exitLinearizable},
		{"release by a non-holder is refused", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(2, rel("L", "b"), m{"ok": true}, 20, 30),
		}, exitNotLinearizable},
		{"release by the holder succeeds", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(1, rel("L", "a"), refused, 20, 30),
		}, exitNotLinearizable},
		{"holder's release may fail after lease expiry", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(1, relX("L", "a"), refused, 20, 30),
			opDoc(2, acq("L", "b"), ok(2), 40, 50),
		}, exitLinearizable},
		{"tokens increase across unknown grants", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(1, rel("L", "a"), m{"ok": true}, 20, 30),
			opDoc(2, acq("L", "b"), nil, 40, 0),
			opDoc(3, acqX("L", "c"), ok(2), 50, 60),    // b's grant, if it happened, took token >= 2
			opDoc(3, acq("L", "c"), ok(3), 70, 80),     // re-acquire by the holder with a new token
			opDoc(3, acq("L", "c"), ok(3), 90, 100),    // or the same token
			opDoc(3, acq("L", "c"), refused, 110, 120), // or refused
		}, exitLinearizable},
		{"a grant after an unknown grant needs a larger token", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(1, rel("L", "a"), m{"ok": true}, 20, 30),
			opDoc(2, acq("L", "b"), nil, 40, 0),
			opDoc(4, acq("L", "d"), refused, 45, 55), // so b's acquire happened
			opDoc(3, acqX("L", "c"), ok(2), 60, 70),
		}, exitNotLinearizable},
		{"re-acquire by the holder cannot lower the token", []testOp{
			opDoc(1, acq("L", "a"), ok(5), 0, 10),
			opDoc(1, acq("L", "a"), ok(4), 20, 30),
		}, exitNotLinearizable},
		{"locks are independent", []testOp{
			opDoc(1, acq("L", "a"), ok(1), 0, 10),
			opDoc(2, acq("M", "b"), ok(1), 0, 10),
		}, exitLinearizable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := checkDoc(t, doc("lock", c.ops...))
			if code != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.want, stdout, stderr)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	op := `{"clientId": 1, "input": {"op": "put", "key": "x", "value": "a"}, "output": {"revision": 1}, "call": 0, "return": 10}`
	withOp := func(s string) string { return `{"model": "kv", "operations": [` + op + `, ` + s + `]}` }
	cases := []struct{ doc, want string }{
		{``, `empty input`},
		{`{"model": "kv", "operations": []`, `not valid JSON`},
		{`{"model": "kv", "operations": []} {}`, `unexpected data after the top-level JSON object`},
		{`[]`, `top level: expected a JSON object, got an array`},
		{`{"operations": []}`, `top level: "model" is required`},
		{`{"model": "register", "operations": []}`, `top level: unknown model "register"; expected kv or lock`},
		{`{"model": "kv"}`, `top level: "operations" is required`},
		{`{"model": "kv", "operations": {}}`, `top level: "operations" must be an array, got an object`},
		{`{"model": "kv", "operations": [], "extra": 1}`, `top level: unknown field "extra"; expected model, operations or description`},
		{withOp(`{"clientId": 1, "input": {"op": "gte", "key": "x"}, "output": null, "call": 0, "return": null}`),
			`operation 1: input: unknown op "gte"; expected get, put, delete or cas`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "call": 0, "return": null}`),
			`operation 1: "output" is required (use null for an unknown outcome)`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": false}, "call": 0, "return": null}`),
			`operation 1: "return" is null but "output" is given`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": false}, "call": 10, "return": 5}`),
			`operation 1: "return" (5) is earlier than "call" (10)`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": false}, "call": "soon", "return": 5}`),
			`operation 1: "call" must be a number or a string holding an integer, got "soon"`},
		{withOp(`{"clientId": -1, "input": {"op": "get", "key": "x"}, "output": {"found": false}, "call": 0, "return": 5}`),
			`operation 1: "clientId" must be between 0 and`},
		{withOp(`{"clientId": 1.5, "input": {"op": "get", "key": "x"}, "output": {"found": false}, "call": 0, "return": 5}`),
			`operation 1: "clientId" must be an integer, got 1.5`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": ""}, "output": {"found": false}, "call": 0, "return": 5}`),
			`operation 1: input: "key" must not be empty`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x", "value": "a"}, "output": {"found": false}, "call": 0, "return": 5}`),
			`operation 1: input: unknown field "value"; expected op or key`},
		{withOp(`{"clientId": 1, "input": {"op": "put", "key": "x"}, "output": {}, "call": 0, "return": 5}`),
			`operation 1: input: "value" is required`},
		{withOp(`{"clientId": 1, "input": {"op": "cas", "key": "x", "value": "b"}, "output": {"ok": false}, "call": 0, "return": 5}`),
			`operation 1: input: "expectedRevision" is required`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": true}, "call": 0, "return": 5}`),
			`operation 1: output: "value" is required`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": "yes"}, "call": 0, "return": 5}`),
			`operation 1: output: "found" must be true or false, got "yes"`},
		{withOp(`{"clientId": 1, "input": {"op": "get", "key": "x"}, "output": {"found": false, "revision": 3}, "call": 0, "return": 5}`),
			`operation 1: output: "revision" is only allowed when "found" is true`},
		{withOp(`{"clientId": 1, "input": {"op": "put", "key": "x", "value": "a"}, "output": {"revision": 0}, "call": 0, "return": 5}`),
			`operation 1: output: "revision" must be between 1 and`},
		{withOp(`{"clientId": 1, "input": {"op": "cas", "key": "x", "value": "a", "expectedRevision": 1}, "output": {"ok": false, "revision": 2}, "call": 0, "return": 5}`),
			`operation 1: output: "revision" is only allowed when "ok" is true`},
		{withOp(`{"clientId": 1, "input": {"op": "delete", "key": "x"}, "output": {"ok": true}, "call": 0, "return": 5}`),
			`operation 1: output: unknown field "ok"; expected deleted or revision`},
		{withOp(`{"clientId": 1, "input": {"op": "put", "key": "x", "value": "a"}, "output": [], "call": 0, "return": 5}`),
			`operation 1: output: expected a JSON object, got an array`},
		{`{"model": "lock", "operations": [{"clientId": 1, "input": {"op": "lock", "lock": "L", "owner": "a"}, "output": null, "call": 0, "return": null}]}`,
			`operation 0: input: unknown op "lock"; expected acquire or release`},
		{`{"model": "lock", "operations": [{"clientId": 1, "input": {"op": "acquire", "lock": "L"}, "output": null, "call": 0, "return": null}]}`,
			`operation 0: input: "owner" is required`},
		{`{"model": "lock", "operations": [{"clientId": 1, "input": {"op": "acquire", "lock": "L", "owner": "a"}, "output": {"ok": false, "token": 3}, "call": 0, "return": 1}]}`,
			`operation 0: output: "token" is only allowed when "ok" is true`},
		{`{"model": "lock", "operations": [{"clientId": 1, "input": {"op": "release", "lock": "L", "owner": "a"}, "output": {"ok": true, "token": 3}, "call": 0, "return": 1}]}`,
			`operation 0: output: unknown field "token"; expected ok`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			code, stdout, stderr := checkDoc(t, c.doc)
			if code != exitBadInput {
				t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.HasPrefix(stderr, "lincheck: stdin: ") || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, c.want)
			}
			if strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("want one line on stderr and nothing on stdout; stdout %q, stderr %q", stdout, stderr)
			}
		})
	}
}

// Times may be huge integers (as numbers or strings) or fractions; only their order counts.
func TestTimes(t *testing.T) {
	staleRead := func(times ...any) string {
		return doc("kv",
			testOp{ClientID: 1, Input: m{"op": "put", "key": "x", "value": "a"}, Output: m{}, Call: times[0], Return: times[1]},
			testOp{ClientID: 1, Input: m{"op": "put", "key": "x", "value": "b"}, Output: m{}, Call: times[2], Return: times[3]},
			testOp{ClientID: 2, Input: m{"op": "get", "key": "x"}, Output: m{"found": true, "value": "a"}, Call: times[4], Return: times[5]},
		)
	}
	cases := []struct {
		name  string
		times []any
		want  int
	}{
		{"nanoseconds since the epoch", []any{
			json.Number("1732650000000000001"), json.Number("1732650000000000010"),
			json.Number("1732650000000000020"), json.Number("1732650000000000030"),
			json.Number("1732650000000000040"), json.Number("1732650000000000050"),
		}, exitNotLinearizable},
		{"nanoseconds as strings, get concurrent with the second put", []any{
			"1732650000000000001", "1732650000000000010",
			"1732650000000000020", "1732650000000000030",
			"1732650000000000029", "1732650000000000050",
		}, exitLinearizable},
		{"beyond int64", []any{
			json.Number("99999999999999999990"), json.Number("99999999999999999991"),
			json.Number("99999999999999999992"), json.Number("99999999999999999993"),
			json.Number("99999999999999999994"), json.Number("99999999999999999995"),
		}, exitNotLinearizable},
		{"fractional milliseconds", []any{0.5, 1.25, 1.5, 2.75, 2.8, 3}, exitNotLinearizable},
		{"fractional milliseconds, concurrent", []any{0.5, 1.25, 1.5, 2.75, 2.75, 3}, exitLinearizable},
		{"exponent notation", []any{json.Number("1e3"), json.Number("2e3"), json.Number("3e3"), json.Number("4e3"), json.Number("5e3"), json.Number("6e3")}, exitNotLinearizable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := checkDoc(t, staleRead(c.times...))
			if code != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.want, stdout, stderr)
			}
		})
	}
}

// hardHistory is a history that Porcupine cannot decide quickly: n concurrent puts and a
// get of a value nobody wrote, so every order of the puts must be tried.
func hardHistory(n int) string {
	return doc("kv", hardOps(n)...)
}

func hardOps(n int) []testOp {
	var ops []testOp
	for i := 0; i < n; i++ {
		ops = append(ops, testOp{ClientID: i, Input: m{"op": "put", "key": "x", "value": fmt.Sprint(i)}, Output: m{}, Call: i, Return: 1000 + i})
	}
	return append(ops, testOp{ClientID: n, Input: m{"op": "get", "key": "x"}, Output: m{"found": true, "value": "never"}, Call: 2000, Return: 2001})
}

func TestUndecided(t *testing.T) {
	code, stdout, stderr := checkDoc(t, hardHistory(40), "-timeout", "100ms")
	if code != exitUndecided {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, `UNDECIDED: no verdict within 100ms (raise -timeout); undecided key: "x"`) {
		t.Errorf("unexpected report:\n%s", stdout)
	}
	// A revision order violation is definite even when the per-key check is undecided.
	ops := append(hardOps(40),
		opDoc(100, m{"op": "put", "key": "y", "value": "a"}, m{"revision": 10}, 0, 10),
		opDoc(101, m{"op": "put", "key": "z", "value": "b"}, m{"revision": 5}, 20, 30))
	code, stdout, _ = checkDoc(t, doc("kv", ops...), "-timeout", "100ms")
	if code != exitNotLinearizable ||
		!strings.Contains(stdout, `the per-key check did not finish within 100ms; undecided key: "x"`) ||
		!strings.Contains(stdout, `revision order: operation 42 (put("z", "b") -> ok revision 5)`) {
		t.Errorf("exit %d, want 1 with the revision order violation:\n%s", code, stdout)
	}
	// A small one is decided.
	if code, stdout, _ := checkDoc(t, hardHistory(4), "-timeout", "10s"); code != exitNotLinearizable {
		t.Fatalf("exit %d, want 1:\n%s", code, stdout)
	}
}

func TestVisualize(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kv-violation-stale-read.json", "kv-violation-revision-order.json", "lock-ok-basic.json"} {
		out := filepath.Join(dir, name+".html")
		code, stdout, stderr := runCLI(t, "", "-visualize", out, filepath.Join("testdata", name))
		if code == exitBadInput {
			t.Fatalf("%s: exit 3: %s", name, stderr)
		}
		html, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Contains(html, []byte("<html")) || !bytes.Contains(html, []byte("operation 0, client")) {
			t.Errorf("%s: the visualization does not look right", name)
		}
		if code == exitNotLinearizable && !strings.Contains(stdout, "visualization: "+out) {
			t.Errorf("%s: the report does not name the visualization:\n%s", name, stdout)
		}
	}
	code, _, stderr := runCLI(t, "", "-visualize", filepath.Join(dir, "missing", "v.html"), filepath.Join("testdata", "kv-ok-sequential.json"))
	if code != exitBadInput || !strings.Contains(stderr, "lincheck: -visualize: ") {
		t.Errorf("unwritable -visualize path: exit %d, stderr %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		want int
		msg  string
	}{
		{nil, exitBadInput, "expected exactly one history file"},
		{[]string{"a.json", "b.json"}, exitBadInput, "expected exactly one history file"},
		{[]string{"-bogus", "a.json"}, exitBadInput, "flag provided but not defined: -bogus"},
		{[]string{"-timeout", "-1s", "a.json"}, exitBadInput, "-timeout must not be negative"},
		{[]string{filepath.Join("testdata", "no-such-file.json")}, exitBadInput, "no-such-file.json"},
		{[]string{"-h"}, exitLinearizable, "usage: lincheck"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, "", c.args...)
		if code != c.want || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.want, c.msg)
		}
	}
}

// The built command exits 0, 1 and 3 as documented, and reads standard input for "-".
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	// go test puts its own GOROOT/bin first in PATH.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lincheck")
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cases := []struct {
		args  []string
		stdin string
		want  int
	}{
		{[]string{filepath.Join("testdata", "kv-ok-concurrent.json")}, "", exitLinearizable},
		{[]string{"-timeout", "5s", filepath.Join("testdata", "lock-violation-double-grant.json")}, "", exitNotLinearizable},
		{[]string{filepath.Join("testdata", "invalid-unknown-op.json")}, "", exitBadInput},
		{[]string{"-"}, `{"model": "lock", "operations": []}`, exitLinearizable},
		{[]string{"-timeout", "50ms", "-"}, hardHistory(40), exitUndecided},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		cmd.Stdin = strings.NewReader(c.stdin)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil {
			t.Fatalf("lincheck %v: %v", c.args, err)
		}
		if got := cmd.ProcessState.ExitCode(); got != c.want {
			t.Errorf("lincheck %v: exit %d, want %d\n%s", c.args, got, c.want, out)
		}
	}
}
