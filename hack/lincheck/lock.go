package main

import (
	"fmt"
	"hash/fnv"
	"math"

	"github.com/anishathalye/porcupine"
)

// The lock model: named locks with fencing tokens, checked lock by lock. See README.md,
// "The lock model".

type lockOp uint8

const (
	lockAcquire lockOp = iota
	lockRelease
)

func (op lockOp) String() string {
	return [...]string{"acquire", "release"}[op]
}

type lockInput struct {
	op    lockOp
	lock  string
	owner string
	// leaseExpired: the holder's lease may have run out before this operation took effect,
	// so the lock may have been freed just before it.
	leaseExpired bool
}

type lockOutput struct {
	unknown bool
	ok      bool
	token   int64
	tokenOK bool // a token was reported
}

// noToken is the token bound of a lock that was never granted.
const noToken = int64(math.MinInt64)

// lockState is the state of one lock: its holder ("" when free) and the latest fencing
// token granted, known only to lie in [lo, hi] when no client saw it (lo == hi == noToken
// before the first grant). Each grant's token is strictly greater than every earlier one.
type lockState struct {
	holder string
	lo, hi int64
}

var lockInit = lockState{lo: noToken, hi: noToken}

func lockStep(s lockState, in lockInput, out lockOutput) []lockState {
	states := lockStepHeld(s, in, out)
	if in.leaseExpired && s.holder != "" {
		expired := s
		expired.holder = ""
		states = append(states, lockStepHeld(expired, in, out)...)
	}
	return states
}

func lockStepHeld(s lockState, in lockInput, out lockOutput) []lockState {
	granted := func(lo, hi int64) lockState { return lockState{holder: in.owner, lo: lo, hi: hi} }
	switch {
	case in.op == lockAcquire && s.holder == "":
		// A free lock is granted, with a token above every earlier one.
		switch {
		case out.unknown || (out.ok && !out.tokenOK):
			return []lockState{granted(s.lo+1, unbounded)}
		case !out.ok || out.token <= s.lo:
			return nil
		}
		return []lockState{granted(out.token, out.token)}
	case in.op == lockAcquire && s.holder == in.owner:
		// Re-acquiring a lock one holds may be refused, or granted again with the same token
		// (a renewal) or a new, greater one: a token of at least lo either way.
		switch {
		case out.unknown:
			// Refused (s) or granted (token >= lo); the union of both is this one state.
			return []lockState{granted(s.lo, unbounded)}
		case !out.ok:
			return []lockState{s}
		case !out.tokenOK:
			return []lockState{granted(s.lo, unbounded)}
		case out.token < s.lo:
			return nil
		}
		return []lockState{granted(out.token, out.token)}
	case in.op == lockAcquire:
		// Held by another owner: refused.
		if out.unknown || !out.ok {
			return []lockState{s}
		}
		return nil
	case s.holder == in.owner:
		// Released by its holder.
		if out.unknown || out.ok {
			return []lockState{{holder: "", lo: s.lo, hi: s.hi}}
		}
		return nil
	default:
		// Released by someone who does not hold it: refused.
		if out.unknown || !out.ok {
			return []lockState{s}
		}
		return nil
	}
}

func parseLockInput(o object) (any, string, error) {
	op, _, err := o.str("op", true)
	if err != nil {
		return nil, "", err
	}
	in := lockInput{}
	switch op {
	case "acquire":
		in.op = lockAcquire
	case "release":
		in.op = lockRelease
	default:
		return nil, "", badInput("%s: unknown op %q; expected acquire or release", o.where, op)
	}
	if err := o.allow("op", "lock", "owner", "leaseExpired"); err != nil {
		return nil, "", err
	}
	if in.lock, _, err = o.str("lock", true); err != nil {
		return nil, "", err
	}
	if in.lock == "" {
		return nil, "", badInput("%s: \"lock\" must not be empty", o.where)
	}
	if in.owner, _, err = o.str("owner", true); err != nil {
		return nil, "", err
	}
	if in.owner == "" {
		return nil, "", badInput("%s: \"owner\" must not be empty", o.where)
	}
	if in.leaseExpired, _, err = o.boolean("leaseExpired", false); err != nil {
		return nil, "", err
	}
	return in, in.lock, nil
}

func parseLockOutput(input any, o object) (any, error) {
	in := input.(lockInput)
	out := lockOutput{}
	var err error
	if in.op == lockAcquire {
		err = o.allow("ok", "token")
	} else {
		err = o.allow("ok")
	}
	if err != nil {
		return nil, err
	}
	if out.ok, _, err = o.boolean("ok", true); err != nil {
		return nil, err
	}
	if o.present("token") && !out.ok {
		return nil, badInput("%s: \"token\" is only allowed when \"ok\" is true", o.where)
	}
	if out.token, out.tokenOK, err = o.integer("token", false, -maxNumber, maxNumber); err != nil {
		return nil, err
	}
	return out, nil
}

func describeLockOperation(input, output any) string {
	in := input.(lockInput)
	out := output.(lockOutput)
	call := fmt.Sprintf("%s(%q, owner=%q", in.op, in.lock, in.owner)
	if in.leaseExpired {
		call += ", leaseExpired"
	}
	call += ")"
	var result string
	switch {
	case out.unknown:
		result = "unknown"
	case out.ok && out.tokenOK:
		result = fmt.Sprintf("ok token %d", out.token)
	case out.ok:
		result = "ok"
	default:
		result = "refused"
	}
	return call + " -> " + result
}

func describeLockState(state any) string {
	s := state.(lockState)
	var token string
	switch {
	case s.lo == noToken && s.hi == noToken:
		token = "no token granted yet"
	case s.lo == s.hi:
		token = fmt.Sprintf("last token %d", s.lo)
	case s.hi == unbounded:
		token = fmt.Sprintf("last token >= %d", s.lo)
	default:
		token = fmt.Sprintf("last token in [%d, %d]", s.lo, s.hi)
	}
	if s.holder == "" {
		return "free, " + token
	}
	return fmt.Sprintf("held by %q, %s", s.holder, token)
}

func hashLockState(state any) uint64 {
	s := state.(lockState)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%s", s.lo, s.hi, s.holder)
	return h.Sum64()
}

var lockSpec = &modelSpec{
	name:          "lock",
	noun:          "lock",
	parseInput:    parseLockInput,
	parseOutput:   parseLockOutput,
	unknownOutput: lockOutput{unknown: true},
	model: porcupine.NondeterministicModel{
		Init: func() []any { return []any{lockInit} },
		Step: func(state, input, output any) []any {
			next := lockStep(state.(lockState), input.(lockInput), output.(lockOutput))
			states := make([]any, len(next))
			for i, s := range next {
				states[i] = s
			}
			return states
		},
		Hash:              hashLockState,
		DescribeOperation: describeLockOperation,
		DescribeState:     describeLockState,
	},
}
