terraform {
  required_providers {
    local = {
      source = "hashicorp/local"
    }
  }
}

resource "local_file" "a" {
  filename = "${path.module}/a.txt"
  content  = "alpha"
}

resource "local_file" "b" {
  filename = "${path.module}/b.txt"
  content  = "bravo"
}
