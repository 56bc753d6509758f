package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

func expired(b *Budget) bool {
	select {
	case <-b.Expired():
		return true
	default:
		return false
	}
}

func TestBudget(t *testing.T) {
	type step struct {
		sleep       time.Duration
		pause       bool
		resume      bool
		wantExpired bool
		wantUsed    time.Duration
	}
	tests := []struct {
		name  string
		limit time.Duration
		steps []step
	}{
		{"runs out", time.Second, []step{
			{sleep: 999 * time.Millisecond, wantUsed: 999 * time.Millisecond},
			{sleep: time.Millisecond, wantExpired: true, wantUsed: time.Second},
		}},
		{"pause stops the clock", time.Second, []step{
			{sleep: 600 * time.Millisecond, pause: true, wantUsed: 600 * time.Millisecond},
			{sleep: time.Hour, wantUsed: 600 * time.Millisecond},
			{resume: true},
			{sleep: 399 * time.Millisecond, wantUsed: 999 * time.Millisecond},
			{sleep: time.Millisecond, wantExpired: true},
		}},
		{"nested pauses need every resume", time.Second, []step{
			{sleep: 500 * time.Millisecond, pause: true},
			{pause: true},
			{sleep: time.Minute, resume: true},
			{sleep: time.Minute, wantUsed: 500 * time.Millisecond},
			{resume: true},
			{sleep: 500 * time.Millisecond, wantExpired: true},
		}},
		{"extra resume is harmless", time.Second, []step{
			{resume: true},
			{sleep: 500 * time.Millisecond, wantUsed: 500 * time.Millisecond},
			{sleep: 500 * time.Millisecond, wantExpired: true},
		}},
		{"zero limit expires at once", 0, []step{
			{wantExpired: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := NewBudget(tt.limit)
				defer b.Stop()
				for i, s := range tt.steps {
					time.Sleep(s.sleep)
					synctest.Wait()
					if s.pause {
						b.Pause()
					}
					if s.resume {
						b.Resume()
					}
					if got := expired(b); got != s.wantExpired {
						t.Fatalf("step %d: expired = %v, want %v", i, got, s.wantExpired)
					}
					if s.wantUsed != 0 && b.Used() != s.wantUsed {
						t.Fatalf("step %d: Used() = %v, want %v", i, b.Used(), s.wantUsed)
					}
				}
			})
		})
	}
}

func TestBudgetStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(time.Second)
		b.Stop()
		time.Sleep(time.Hour)
		synctest.Wait()
		if expired(b) {
			t.Error("stopped budget expired")
		}
	})
}
