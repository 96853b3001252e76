resourc "terraform_data" "x" {
}
