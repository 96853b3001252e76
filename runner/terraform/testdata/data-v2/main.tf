terraform {
  required_version = ">= 1.5.0"
}

variable "label" {
  type    = string
  default = "two"
}

variable "token" {
  type    = string
  default = ""
}

variable "password" {
  type      = string
  default   = ""
  sensitive = true
}

resource "terraform_data" "keep" {
  input = var.label
}

resource "terraform_data" "repl" {
  triggers_replace = "b"
}

resource "terraform_data" "new" {
  input = "moving"
}

moved {
  from = terraform_data.old
  to   = terraform_data.new
}

resource "terraform_data" "added" {
  input = "hello"
}

import {
  to = terraform_data.imported
  id = "imported-id"
}

resource "terraform_data" "imported" {
}

output "label" {
  value = terraform_data.keep.output
}

output "echo" {
  value = var.token
}

output "password" {
  value     = var.password
  sensitive = true
}

output "extra" {
  value = "x"
}
