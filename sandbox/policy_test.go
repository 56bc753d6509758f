package sandbox

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Policy
		wantErr string
	}{
		{`{"type":"read-only"}`, Policy{Mode: ReadOnly}, ""},
		{`{"type":"read_only"}`, Policy{Mode: ReadOnly}, ""},
		{`{"type":"readOnly"}`, Policy{Mode: ReadOnly}, ""},
		{`{"type":"ReadOnly","network_access":true}`, Policy{Mode: ReadOnly, NetworkAccess: true}, ""},
		{`{"type":"danger-full-access"}`, Policy{Mode: DangerFullAccess}, ""},
		{`{"type":"dangerFullAccess"}`, Policy{Mode: DangerFullAccess}, ""},
		{`{"type":"workspace-write","writable_roots":["/a","/b"],"network_access":true,"exclude_tmpdir_env_var":true,"exclude_slash_tmp":true}`,
			Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/a", "/b"}, NetworkAccess: true, ExcludeTmpdirEnvVar: true, ExcludeSlashTmp: true}, ""},
		{`{"type":"workspaceWrite","writableRoots":["/a"],"networkAccess":true,"excludeTmpdirEnvVar":true,"excludeSlashTmp":true}`,
			Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/a"}, NetworkAccess: true, ExcludeTmpdirEnvVar: true, ExcludeSlashTmp: true}, ""},
		{`{"type":"workspace_write","writable_roots":null,"read_only_access":{"type":"full-access"}}`, Policy{Mode: WorkspaceWrite}, ""},
		{`{"type":"external-sandbox"}`, Policy{}, "unknown sandbox policy type"},
		{`{"type":"bogus"}`, Policy{}, `"bogus"`},
		{`{}`, Policy{}, `missing field "type"`},
		{`{"type":7}`, Policy{}, `field "type"`},
		{`{"type":"workspace-write","writable_roots":"/a"}`, Policy{}, `field "writable_roots"`},
		{`{"type":"workspace-write","networkAccess":"yes"}`, Policy{}, `field "networkAccess"`},
		{`[]`, Policy{}, "sandbox policy"},
	} {
		var got Policy
		err := json.Unmarshal([]byte(tc.in), &got)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestUnknownModeIsErrUnknownMode(t *testing.T) {
	var p Policy
	err := json.Unmarshal([]byte(`{"type":"external-sandbox"}`), &p)
	if !errors.Is(err, ErrUnknownMode) {
		t.Fatalf("err = %v, want ErrUnknownMode", err)
	}
}

func TestPolicyMarshal(t *testing.T) {
	for _, tc := range []struct {
		in   Policy
		want string
	}{
		{Policy{Mode: ReadOnly}, `{"type":"read-only"}`},
		{Policy{Mode: ReadOnly, NetworkAccess: true}, `{"type":"read-only","network_access":true}`},
		{Policy{Mode: DangerFullAccess}, `{"type":"danger-full-access"}`},
		{Policy{Mode: WorkspaceWrite}, `{"type":"workspace-write","writable_roots":[],"network_access":false,"exclude_tmpdir_env_var":false,"exclude_slash_tmp":false}`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/x"}, NetworkAccess: true},
			`{"type":"workspace-write","writable_roots":["/x"],"network_access":true,"exclude_tmpdir_env_var":false,"exclude_slash_tmp":false}`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: got %s, %v; want %s", tc.in, b, err, tc.want)
		}
		var back Policy
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%s: round trip: %v", b, err)
		}
		if len(back.WritableRoots) == 0 {
			back.WritableRoots = tc.in.WritableRoots
		}
		if !reflect.DeepEqual(back, tc.in) {
			t.Errorf("%s: round trip gave %+v", b, back)
		}
	}
	if _, err := json.Marshal(Policy{Mode: "nope"}); err == nil {
		t.Error("marshalling an unknown mode succeeded")
	}
}

func TestPolicyValidate(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/f"
	mustWrite(t, file, "")
	for _, tc := range []struct {
		p       Policy
		wantErr string
	}{
		{Policy{Mode: ReadOnly}, ""},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{dir}}, ""},
		{Policy{Mode: "nope"}, `type`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{dir, "rel/dir"}}, `writable_roots[1] "rel/dir": not an absolute path`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{dir + "/../x"}}, `not a clean path`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{""}}, `writable_roots[0] "": empty path`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{dir + "/missing"}}, `no such file or directory`},
		{Policy{Mode: WorkspaceWrite, WritableRoots: []string{file}}, `not a directory`},
	} {
		err := tc.p.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: err = %v, want %q", tc.p, err, tc.wantErr)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"read-only": ReadOnly, "read_only": ReadOnly, "readOnly": ReadOnly, "ReadOnly": ReadOnly,
		"workspace-write": WorkspaceWrite, "WorkspaceWrite": WorkspaceWrite, "workspace_write": WorkspaceWrite,
		"danger-full-access": DangerFullAccess, "danger_full_access": DangerFullAccess, "DangerFullAccess": DangerFullAccess,
	} {
		if got, err := ParseMode(in); got != want || err != nil {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "full", "read only", "external-sandbox"} {
		if _, err := ParseMode(in); !errors.Is(err, ErrUnknownMode) {
			t.Errorf("ParseMode(%q): err = %v, want ErrUnknownMode", in, err)
		}
	}
}
