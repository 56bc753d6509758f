package server

import "time"

// DefaultGrace is how long a call waits, after the script exits, for
// processes it left in the background to close the output pipe.
const DefaultGrace = 250 * time.Millisecond

// NoteBackgroundKilled is the Outcome.Note when processes still holding the
// output after the script exited had to be killed.
const NoteBackgroundKilled = "the script exited but background processes kept its output open; they were killed"
