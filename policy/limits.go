package policy

import "time"

// Limits bound what evaluating a rules file may cost. A file exceeding any of
// them fails to load with an error naming the limit. The zero value of a field
// means "use the default".
type Limits struct {
	// MaxFileBytes caps a rules file's size before it is parsed.
	MaxFileBytes int64
	// MaxSteps caps Starlark execution steps per file.
	MaxSteps uint64
	// MaxRules caps the number of rules of one load, all files together.
	MaxRules int
	// MaxValueSize caps the size of any single value an operation builds or
	// walks: elements of a list, bytes of a string, nodes of a nested value.
	MaxValueSize int
	// MaxAllocated caps the total size of the values a file's bulk
	// operations (concatenation, repetition, copies, joins) build.
	MaxAllocated int64
	// MaxIntBits caps the magnitude of integers.
	MaxIntBits int
	// MaxNesting caps bracket and unary-operator nesting in the source, which
	// the recursive-descent parser would otherwise follow as deep as it goes.
	MaxNesting int
	// Timeout caps the wall-clock time spent evaluating one file.
	Timeout time.Duration
}

// DefaultLimits are generous for real rules files (a 10,000-rule file uses a
// few percent of them) and make hostile files fail within a second.
var defaultLimits = Limits{
	MaxFileBytes: 1 << 20,
	MaxSteps:     2_000_000,
	MaxRules:     200_000,
	MaxValueSize: 1 << 17,
	MaxAllocated: 1 << 20,
	MaxIntBits:   4096,
	MaxNesting:   200,
	Timeout:      time.Second,
}

// DefaultLimits returns the limits used when LoadOptions leaves them zero.
func DefaultLimits() Limits { return defaultLimits }

func (l Limits) withDefaults() Limits {
	d := defaultLimits
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxSteps > 0 {
		d.MaxSteps = l.MaxSteps
	}
	if l.MaxRules > 0 {
		d.MaxRules = l.MaxRules
	}
	if l.MaxValueSize > 0 {
		d.MaxValueSize = l.MaxValueSize
	}
	if l.MaxAllocated > 0 {
		d.MaxAllocated = l.MaxAllocated
	}
	if l.MaxIntBits > 0 {
		d.MaxIntBits = l.MaxIntBits
	}
	if l.MaxNesting > 0 {
		d.MaxNesting = l.MaxNesting
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	return d
}
