package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The input format is documented in README.md; keep the two in step.

// maxNumber bounds revisions and fencing tokens (in absolute value) so that the models can
// add small offsets to them without overflowing int64.
const maxNumber = int64(1) << 62

// infinity is the return time of an operation whose outcome is unknown: later than every
// other time, so the operation may take effect at any point after its call, or never.
const infinity = int64(math.MaxInt64)

// operation is one validated entry of a history's "operations" array.
type operation struct {
	index    int    // position in the input's "operations" array, from 0
	clientID int64  // as given in the input
	key      string // partition: the key (kv) or the lock name (lock)
	input    any    // kvInput or lockInput
	output   any    // kvOutput or lockOutput
	unknown  bool   // the outcome is unknown (output null)
	call     int64  // comparable times, see mapTimes
	ret      int64  // infinity when unknown
	callText string // the times as written in the input, for messages
	retText  string
	meta     string // the optional "meta" value, compact JSON
}

// history is a validated input document.
type history struct {
	model *modelSpec
	ops   []operation
}

// inputError is a problem with the input document; main reports it with exit code 3.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// object is a JSON object whose fields are checked one by one, so that every problem can
// be reported with its place in the document ("operation 7: input: ...").
type object struct {
	where  string
	fields map[string]json.RawMessage
}

func parseObject(raw json.RawMessage, where string) (object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return object{}, badInput("%s: expected a JSON object, got %s", where, describeJSON(raw))
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return object{}, badInput("%s: %v", where, err)
	}
	return object{where: where, fields: fields}, nil
}

// allow rejects fields other than the given ones: a misspelt field must not silently weaken
// the check.
func (o object) allow(names ...string) error {
	var unknown []string
	for name := range o.fields {
		if !contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return badInput("%s: unknown field %q; expected %s", o.where, unknown[0], orList(names))
}

// present reports whether the field is given and not null.
func (o object) present(name string) bool {
	raw, ok := o.fields[name]
	return ok && !isNull(raw)
}

func (o object) missing(name string) error {
	return badInput("%s: %q is required", o.where, name)
}

func (o object) str(name string, required bool) (string, bool, error) {
	if !o.present(name) {
		if required {
			return "", false, o.missing(name)
		}
		return "", false, nil
	}
	raw := o.fields[name]
	var s string
	if bytes.TrimSpace(raw)[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false, badInput("%s: %q must be a string, got %s", o.where, name, describeJSON(raw))
	}
	return s, true, nil
}

func (o object) boolean(name string, required bool) (bool, bool, error) {
	if !o.present(name) {
		if required {
			return false, false, o.missing(name)
		}
		return false, false, nil
	}
	raw := o.fields[name]
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return false, false, badInput("%s: %q must be true or false, got %s", o.where, name, describeJSON(raw))
	}
	return b, true, nil
}

// integer reads an integer field in [lo, hi]. JSON numbers with an integral value (7, 7.0,
// 7e0) are accepted.
func (o object) integer(name string, required bool, lo, hi int64) (int64, bool, error) {
	if !o.present(name) {
		if required {
			return 0, false, o.missing(name)
		}
		return 0, false, nil
	}
	raw := o.fields[name]
	n, ok := parseInteger(raw)
	if !ok {
		return 0, false, badInput("%s: %q must be an integer, got %s", o.where, name, describeJSON(raw))
	}
	if n < lo || n > hi {
		return 0, false, badInput("%s: %q must be between %d and %d, got %d", o.where, name, lo, hi, n)
	}
	return n, true, nil
}

func parseInteger(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if !isJSONNumber(raw) {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, true
	}
	r, ok := new(big.Rat).SetString(string(raw))
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

func isJSONNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

var integerString = regexp.MustCompile(`^-?[0-9]+$`)

// parseTime reads a time: a JSON number (integer or not) or a string holding a decimal
// integer (for values that do not fit a JavaScript number, e.g. String(process.hrtime.bigint())).
func parseTime(raw json.RawMessage) (*big.Rat, bool) {
	raw = bytes.TrimSpace(raw)
	if isJSONNumber(raw) {
		return new(big.Rat).SetString(string(raw))
	}
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && integerString.MatchString(s) {
		return new(big.Rat).SetString(s)
	}
	return nil, false
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func describeJSON(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orList renders ["a","b","c"] as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// parseHistory reads and validates a whole input document.
func parseHistory(r io.Reader) (*history, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, badInput("empty input; expected a JSON object with \"model\" and \"operations\"")
		}
		return nil, badInput("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badInput("unexpected data after the top-level JSON object")
	}
	top, err := parseObject(raw, "top level")
	if err != nil {
		return nil, err
	}
	if err := top.allow("model", "operations", "description"); err != nil {
		return nil, err
	}
	name, _, err := top.str("model", true)
	if err != nil {
		return nil, err
	}
	spec, ok := models[name]
	if !ok {
		return nil, badInput("top level: unknown model %q; expected kv or lock", name)
	}
	if !top.present("operations") {
		return nil, top.missing("operations")
	}
	var rawOps []json.RawMessage
	if opsRaw := bytes.TrimSpace(top.fields["operations"]); opsRaw[0] != '[' || json.Unmarshal(opsRaw, &rawOps) != nil {
		return nil, badInput("top level: \"operations\" must be an array, got %s", describeJSON(opsRaw))
	}
	h := &history{model: spec, ops: make([]operation, 0, len(rawOps))}
	calls := make([]*big.Rat, len(rawOps))
	rets := make([]*big.Rat, len(rawOps))
	for i, rawOp := range rawOps {
		op, call, ret, err := parseOperation(spec, i, rawOp)
		if err != nil {
			return nil, err
		}
		h.ops = append(h.ops, op)
		calls[i], rets[i] = call, ret
	}
	mapTimes(h.ops, calls, rets)
	return h, nil
}

func parseOperation(spec *modelSpec, i int, raw json.RawMessage) (operation, *big.Rat, *big.Rat, error) {
	where := fmt.Sprintf("operation %d", i)
	o, err := parseObject(raw, where)
	if err != nil {
		return operation{}, nil, nil, err
	}
	if err := o.allow("clientId", "input", "output", "call", "return", "meta"); err != nil {
		return operation{}, nil, nil, err
	}
	op := operation{index: i}
	if op.clientID, _, err = o.integer("clientId", true, 0, math.MaxInt32); err != nil {
		return operation{}, nil, nil, err
	}
	for _, name := range []string{"input", "output", "return"} {
		if _, ok := o.fields[name]; !ok {
			return operation{}, nil, nil, badInput("%s: %q is required (use null for an unknown outcome)", where, name)
		}
	}
	if !o.present("input") {
		return operation{}, nil, nil, o.missing("input")
	}
	in, err := parseObject(o.fields["input"], where+": input")
	if err != nil {
		return operation{}, nil, nil, err
	}
	if op.input, op.key, err = spec.parseInput(in); err != nil {
		return operation{}, nil, nil, err
	}
	if o.present("output") {
		out, err := parseObject(o.fields["output"], where+": output")
		if err != nil {
			return operation{}, nil, nil, err
		}
		if op.output, err = spec.parseOutput(op.input, out); err != nil {
			return operation{}, nil, nil, err
		}
	} else {
		op.unknown = true
		op.output = spec.unknownOutput
	}
	if !o.present("call") {
		return operation{}, nil, nil, o.missing("call")
	}
	call, ok := parseTime(o.fields["call"])
	if !ok {
		return operation{}, nil, nil, badInput("%s: \"call\" must be a number or a string holding an integer, got %s", where, describeJSON(o.fields["call"]))
	}
	op.callText = timeText(o.fields["call"])
	var ret *big.Rat
	if o.present("return") {
		if ret, ok = parseTime(o.fields["return"]); !ok {
			return operation{}, nil, nil, badInput("%s: \"return\" must be a number, a string holding an integer, or null, got %s", where, describeJSON(o.fields["return"]))
		}
		if ret.Cmp(call) < 0 {
			return operation{}, nil, nil, badInput("%s: \"return\" (%s) is earlier than \"call\" (%s)", where, timeText(o.fields["return"]), op.callText)
		}
		op.retText = timeText(o.fields["return"])
	} else if !op.unknown {
		return operation{}, nil, nil, badInput("%s: \"return\" is null but \"output\" is given; an operation with an output needs its return time (use \"output\": null if the outcome is unknown)", where)
	}
	if op.unknown {
		// The client gave up at "return" (if given), but the operation may still take effect
		// later: only an infinite return time is sound.
		op.retText = "unknown"
		ret = nil
	}
	if o.present("meta") {
		var buf bytes.Buffer
		if err := json.Compact(&buf, o.fields["meta"]); err == nil {
			op.meta = buf.String()
		}
	}
	return op, call, ret, nil
}

func timeText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

// mapTimes turns the exact input times into int64s for Porcupine. When every time is an
// integer that fits int64 (below the infinity marker) they are used as they are; otherwise
// (fractional or huge times) they are replaced by their ranks, which keeps their order and
// their ties, all that linearizability depends on.
func mapTimes(ops []operation, calls, rets []*big.Rat) {
	direct := true
	var all []*big.Rat
	for i := range ops {
		for _, t := range []*big.Rat{calls[i], rets[i]} {
			if t == nil {
				continue
			}
			all = append(all, t)
			if !t.IsInt() || !t.Num().IsInt64() || t.Num().Int64() == infinity {
				direct = false
			}
		}
	}
	toInt := func(t *big.Rat) int64 { return t.Num().Int64() }
	if !direct {
		sort.Slice(all, func(i, j int) bool { return all[i].Cmp(all[j]) < 0 })
		toInt = func(t *big.Rat) int64 {
			return int64(sort.Search(len(all), func(i int) bool { return all[i].Cmp(t) >= 0 }))
		}
	}
	for i := range ops {
		ops[i].call = toInt(calls[i])
		if rets[i] == nil {
			ops[i].ret = infinity
		} else {
			ops[i].ret = toInt(rets[i])
		}
	}
}
