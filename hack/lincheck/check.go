package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// modelSpec ties a model's input parsing, its Porcupine model and its extra checks together.
type modelSpec struct {
	name          string
	noun          string // what a partition is: "key" or "lock"
	parseInput    func(o object) (input any, partition string, err error)
	parseOutput   func(input any, o object) (any, error)
	unknownOutput any // the output of an operation whose outcome is unknown
	// constrainsNothing marks operations that can be left out of the check because every
	// outcome is allowed and they change nothing (a get with an unknown outcome).
	constrainsNothing func(op operation) bool
	// extraCheck finds violations that the per-partition check cannot see.
	extraCheck func(ops []operation) []violation
	model      porcupine.NondeterministicModel
}

var models = map[string]*modelSpec{
	"kv":   kvSpec,
	"lock": lockSpec,
}

// violation is a definite linearizability violation found outside Porcupine.
type violation struct {
	ops []*operation
	msg string
}

// opMeta is the Porcupine metadata of an operation: it links it back to the input.
type opMeta struct {
	op *operation
}

func describeMeta(m any) string {
	meta, ok := m.(opMeta)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("operation %d, client %d", meta.op.index, meta.op.clientID)
	if meta.op.unknown {
		s += ", outcome unknown"
	}
	if meta.op.meta != "" {
		s += ", meta " + meta.op.meta
	}
	return s
}

// porcupineModel is the Porcupine model of spec, partitioned by key or lock name.
func porcupineModel(spec *modelSpec) porcupine.Model {
	nm := spec.model
	nm.Partition = partitionOperations
	nm.PartitionEvent = partitionEvents
	nm.DescribeOperationMetadata = describeMeta
	return nm.ToModel()
}

func partitionOf(m any) string { return m.(opMeta).op.key }

// partitionOperations groups operations by partition, partitions sorted by name and
// operations in input order, so that the result is deterministic.
func partitionOperations(history []porcupine.Operation) [][]porcupine.Operation {
	groups := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := partitionOf(op.Metadata)
		groups[k] = append(groups[k], op)
	}
	names := make([]string, 0, len(groups))
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)
	result := make([][]porcupine.Operation, len(names))
	for i, k := range names {
		result[i] = groups[k]
	}
	return result
}

func partitionEvents(history []porcupine.Event) [][]porcupine.Event {
	groups := map[string][]porcupine.Event{}
	keyOfID := map[int]string{}
	for _, ev := range history {
		if ev.Kind == porcupine.CallEvent {
			keyOfID[ev.Id] = partitionOf(ev.Metadata)
		}
	}
	for _, ev := range history {
		k := keyOfID[ev.Id]
		groups[k] = append(groups[k], ev)
	}
	names := make([]string, 0, len(groups))
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)
	result := make([][]porcupine.Event, len(names))
	for i, k := range names {
		result[i] = groups[k]
	}
	return result
}

// partitionResult is the outcome for one key or lock.
type partitionResult struct {
	name       string
	ops        []porcupine.Operation
	linearized bool                  // a complete linearization was found
	longest    []porcupine.Operation // the longest partial linearization found otherwise
}

type checkResult struct {
	result     porcupine.CheckResult // Porcupine's verdict on the partitions
	timedOut   bool
	partitions []partitionResult
	violations []violation // from the model's extra check
	info       porcupine.LinearizationInfo
	model      porcupine.Model
}

// verdict is the overall result: Ok, Illegal or Unknown.
func (r *checkResult) verdict() porcupine.CheckResult {
	if len(r.violations) > 0 {
		return porcupine.Illegal
	}
	return r.result
}

func checkHistory(h *history, timeout time.Duration) *checkResult {
	spec := h.model
	model := porcupineModel(spec)
	var ops []porcupine.Operation
	clients := denseClients(h.ops)
	for i := range h.ops {
		op := &h.ops[i]
		if spec.constrainsNothing != nil && spec.constrainsNothing(*op) {
			continue
		}
		ops = append(ops, porcupine.Operation{
			ClientId: clients[op.clientID],
			Input:    op.input,
			Call:     op.call,
			Output:   op.output,
			Return:   op.ret,
			Metadata: opMeta{op},
		})
	}
	start := time.Now()
	result, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	r := &checkResult{
		result:   result,
		timedOut: timeout > 0 && time.Since(start) >= timeout,
		info:     info,
		model:    model,
	}
	partials := info.PartialLinearizationsOperations()
	for i, part := range partitionOperations(ops) {
		p := partitionResult{name: partitionOf(part[0].Metadata), ops: part}
		if i < len(partials) {
			for _, lin := range partials[i] {
				if len(lin) == len(part) {
					p.linearized = true
				}
				if len(lin) > len(p.longest) {
					p.longest = lin
				}
			}
		}
		r.partitions = append(r.partitions, p)
	}
	if spec.extraCheck != nil {
		r.violations = spec.extraCheck(h.ops)
		var annotations []porcupine.Annotation
		for _, v := range r.violations {
			start, end := v.ops[0].call, v.ops[0].ret
			for _, op := range v.ops[1:] {
				start, end = min(start, op.call), max(end, op.ret)
			}
			annotations = append(annotations, porcupine.Annotation{
				Tag:             "revision check",
				Start:           start,
				End:             end,
				Description:     "violation",
				Details:         v.msg,
				BackgroundColor: "#f8b4b4",
			})
		}
		r.info.AddAnnotations(annotations)
	}
	return r
}

// denseClients numbers the client ids 0, 1, ... in increasing order: Porcupine's
// visualization draws one row per number up to the largest.
func denseClients(ops []operation) map[int64]int {
	var ids []int64
	seen := map[int64]bool{}
	for _, op := range ops {
		if !seen[op.clientID] {
			seen[op.clientID] = true
			ids = append(ids, op.clientID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	dense := make(map[int64]int, len(ids))
	for i, id := range ids {
		dense[id] = i
	}
	return dense
}

// describeOp renders an operation for the report: index, client, times, call and result.
func describeOp(model porcupine.Model, op porcupine.Operation) string {
	o := op.Metadata.(opMeta).op
	return fmt.Sprintf("#%d client %d [%s, %s] %s", o.index, o.clientID, o.callText, o.retText, model.DescribeOperation(op.Input, op.Output))
}

const maxListed = 10

// listOps renders up to maxListed operations, one per line, with the given indent.
func listOps(model porcupine.Model, ops []porcupine.Operation, indent string) string {
	var b strings.Builder
	for i, op := range ops {
		if i == maxListed {
			fmt.Fprintf(&b, "%s... and %d more\n", indent, len(ops)-maxListed)
			break
		}
		fmt.Fprintf(&b, "%s%s\n", indent, describeOp(model, op))
	}
	return b.String()
}
