package terraform

import (
	"fmt"
)

// Distribution names a Terraform-compatible CLI.
type Distribution string

const (
	// Terraform is HashiCorp Terraform (binary "terraform").
	Terraform Distribution = "terraform"
	// OpenTofu is OpenTofu (binary "tofu").
	OpenTofu Distribution = "opentofu"
)

// binaryName is the executable's file name.
func (d Distribution) binaryName() string {
	if d == OpenTofu {
		return "tofu"
	}
	return "terraform"
}

// orDefault returns Terraform for the empty Distribution.
func (d Distribution) orDefault() Distribution {
	if d == "" {
		return Terraform
	}
	return d
}

// validate reports an unknown distribution.
func (d Distribution) validate() error {
	switch d {
	case Terraform, OpenTofu:
		return nil
	}
	return fmt.Errorf("unknown distribution %q (want %q or %q)", string(d), Terraform, OpenTofu)
}
