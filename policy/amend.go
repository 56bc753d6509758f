package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultRulesFile is the file "always allow" amendments go to, under the
// configuration home.
func DefaultRulesFile(home string) string {
	return filepath.Join(home, "rules", "default.rules")
}

// AmendmentLine is the rule line Amend writes for tokens, byte for byte as
// Codex writes it: prefix_rule(pattern=["a", "b"], decision="allow").
func AmendmentLine(tokens []string) (string, error) {
	if len(tokens) == 0 {
		return "", errors.New("prefix rule requires at least one token")
	}
	quoted := make([]string, len(tokens))
	for i, t := range tokens {
		quoted[i] = jsonQuote(t)
	}
	return "prefix_rule(pattern=[" + strings.Join(quoted, ", ") + `], decision="allow")`, nil
}

// Amend appends an allow rule for tokens to home/rules/default.rules, as
// Codex does when the user chooses "always allow": under an exclusive file
// lock, not at all if an identical line exists, after a newline if the file
// lacks a final one. The rules directory is created (one level, mode 0700)
// and the file with mode 0600.
func Amend(home string, tokens []string) error {
	line, err := AmendmentLine(tokens)
	if err != nil {
		return err
	}
	path := DefaultRulesFile(home)
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("failed to create policy directory %s: %w", dir, err)
	}
	if err := appendUnique(path, line); err != nil {
		return fmt.Errorf("failed to update rules file %s: %w", path, err)
	}
	return nil
}

func appendUnique(path, line string) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open policy file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("failed to write to policy file: %w", cerr)
		}
	}()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("failed to lock policy file: %w", err)
	}
	// Closing the file releases the lock; unlock explicitly first anyway so
	// the lock never outlives the write even if Close is delayed.
	defer unlockFile(f)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("failed to seek policy file: %w", err)
	}
	content, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("failed to read policy file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 64<<10), len(content)+1)
	for sc.Scan() {
		if strings.TrimSuffix(sc.Text(), "\r") == line {
			return nil
		}
	}
	var out strings.Builder
	if len(content) > 0 && content[len(content)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.WriteString(line + "\n")
	// O_APPEND: the write lands at the end whatever the offset.
	if _, err := f.WriteString(out.String()); err != nil {
		return fmt.Errorf("failed to write to policy file: %w", err)
	}
	return nil
}
