// Package policy decides what happens to each program the agent's shell
// starts. It reads Codex-compatible .rules files (Starlark, evaluated with
// go.starlark.net under resource limits), matches argv prefixes against them
// (strictest decision wins), decides whether a basename rule may apply to an
// absolute executable (program trust), falls back to Codex's dangerous and
// known-safe heuristics, loads config.toml and the admin requirements.toml
// (whose prompt/forbidden rules come after every rules file, see
// requirements.go), reloads rules when files change and appends "always
// allow" rules.
//
// The behaviour follows OpenAI Codex 0.97.0's execpolicy where Codex is right
// and differs where it is not (the README's "Rules" section lists what a
// user sees of it):
//   - basename rules apply only to trusted executables (Evaluate);
//   - the dangerous heuristic also catches rm -fr, rm -r -f, rm --recursive
//     --force and rm -Rf (see dangerous.go);
//   - untrusted projects never contribute rules (sources.go);
//   - evaluation is bounded in steps, memory and time (guard_rewrite.go);
//   - f-strings, which go.starlark.net lacks, are expanded before
//     evaluation, exactly as far as Codex's dialect has them (fstring.go).
package policy
