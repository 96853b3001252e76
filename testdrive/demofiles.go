package testdrive

import (
	"fmt"
	"os"
	"path/filepath"
)

// DemoOrg is the organization of the demo repositories.
const DemoOrg = "demo"

// demoInfra is the demo's main repository: two projects (app, db) sharing a
// local module, state in the data dir, and a local_file that drift edits.
func demoInfra(dataDir string) map[string]string {
	return map[string]string{
		"README.md": "# infra\n\nThe atoll demo: two projects sharing a module.\n",
		"modules/shared/main.tf": `variable "name" {
  type = string
}

resource "terraform_data" "shared" {
  input = "shared-${var.name}"
}

output "id" {
  value = terraform_data.shared.id
}
`,
		"app/main.tf": fmt.Sprintf(`terraform {
  backend "local" {
    path = %q
  }
  required_providers {
    local = { source = "hashicorp/local" }
  }
}

module "shared" {
  source = "../modules/shared"
  name   = "app"
}

resource "local_file" "motd" {
  filename        = %q
  content         = "hello from atoll\n"
  file_permission = "0644"
}
`, filepath.Join(dataDir, "state", "app.tfstate"), DemoMotdPath(dataDir)),
		"db/main.tf": fmt.Sprintf(`terraform {
  backend "local" {
    path = %q
  }
}

module "shared" {
  source = "../modules/shared"
  name   = "db"
}

resource "terraform_data" "db" {
  input = "v1"
}
`, filepath.Join(dataDir, "state", "db.tfstate")),
	}
}

// DemoMotdPath is the file the demo's app project manages.
func DemoMotdPath(dataDir string) string { return filepath.Join(dataDir, "demo", "motd.txt") }

// demoPlatform is the demo's second repository, applied after merge.
func demoPlatform(dataDir string) map[string]string {
	return map[string]string{
		"atoll.yaml": `version: 1
apply_mode: after_merge
projects:
  - name: network
    dir: network
`,
		"network/main.tf": fmt.Sprintf(`terraform {
  backend "local" {
    path = %q
  }
}

resource "terraform_data" "vpc" {
  input = "10.0.0.0/16"
}
`, filepath.Join(dataDir, "state", "network.tfstate")),
	}
}

// DemoPolicy writes the demo's policy set into dir: the security team
// forbids world-writable files.
func DemoPolicy(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "files.rego"), []byte(`package atoll

import rego.v1

# Files written by Terraform must not be world-writable.
deny contains {"msg": sprintf("%s is world-writable (file_permission %s)", [rc.address, rc.change.after.file_permission]), "resource": rc.address} if {
	some rc in input.plan.resource_changes
	rc.type == "local_file"
	"create" in rc.change.actions
	regex.match("[2367]$", rc.change.after.file_permission)
}

warn contains sprintf("%d resource(s) will be destroyed", [count(destroys)]) if {
	destroys := [rc | some rc in input.plan.resource_changes; "delete" in rc.change.actions]
	count(destroys) > 0
}
`), 0o644)
}
