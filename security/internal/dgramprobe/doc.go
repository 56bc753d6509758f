// Command dgramprobe is the attacker's tool for the unix-datagram attack
// test (security/unixdgram_linux_test.go); it exists for Linux only.
package main
