locals {
  a = "${1 + }"
}
