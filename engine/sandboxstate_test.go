package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeSandboxState(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    SandboxState
		wantErr string
	}{
		{"camelCase", `{"sandboxPolicy":{"type":"workspace-write","network_access":true},"codexLinuxSandboxExe":"/x/codex-linux-sandbox","sandboxCwd":"/src/app","useLinuxSandboxBwrap":true}`,
			SandboxState{Policy: json.RawMessage(`{"type":"workspace-write","network_access":true}`), LinuxSandboxExe: "/x/codex-linux-sandbox", Cwd: "/src/app", UseLinuxSandboxBwrap: true}, ""},
		{"snake_case", `{"sandbox_policy":{"type":"read-only"},"codex_linux_sandbox_exe":null,"sandbox_cwd":"/src/app/","use_legacy_landlock":true}`,
			SandboxState{Policy: json.RawMessage(`{"type":"read-only"}`), Cwd: "/src/app", UseLegacyLandlock: true}, ""},
		{"file URI cwd and permission profile", `{"permissionProfile":{"name":"x"},"sandboxCwd":"file:///src/my%20app"}`,
			SandboxState{PermissionProfile: json.RawMessage(`{"name":"x"}`), Cwd: "/src/my app"}, ""},
		{"localhost file URI", `{"sandboxCwd":"file://localhost/srv"}`, SandboxState{Cwd: "/srv"}, ""},
		{"camelCase wins over snake_case", `{"sandboxCwd":"/a","sandbox_cwd":"/b"}`, SandboxState{Cwd: "/a"}, ""},
		{"null camel falls back to snake", `{"sandboxCwd":null,"sandbox_cwd":"/b"}`, SandboxState{Cwd: "/b"}, ""},
		{"empty", `{}`, SandboxState{}, ""},
		{"unknown keys ignored", `{"somethingNew":1}`, SandboxState{}, ""},
		{"relative cwd", `{"sandboxCwd":"src"}`, SandboxState{}, `sandboxCwd: "src" is not an absolute path`},
		{"remote URI", `{"sandbox_cwd":"file://host/x"}`, SandboxState{}, `sandbox_cwd: "file://host/x": file URI names a remote host`},
		{"http URI", `{"sandboxCwd":"http://x/y"}`, SandboxState{}, "only file:// URIs"},
		{"wrong type", `{"useLegacyLandlock":"yes"}`, SandboxState{}, "useLegacyLandlock"},
		{"not an object", `[1]`, SandboxState{}, "sandbox state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSandboxState([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
