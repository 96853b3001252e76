package atoll_test

import data.atoll

file_change(mode) := {
	"address": "local_file.f",
	"type": "local_file",
	"change": {"actions": ["create"], "after": {"filename": "f.txt", "file_permission": mode}},
}

destroy := {"address": "terraform_data.d", "type": "terraform_data", "change": {"actions": ["delete"], "after": null}}

doc(changes, workspace, labels) := {
	"plan": {"format_version": "1.2", "resource_changes": changes},
	"project": {"name": "app", "dir": "app", "workspace": workspace, "distribution": "terraform"},
	"pull_request": {"number": 1, "author": "alice", "labels": labels},
}

test_private_file_allowed if {
	count(atoll.deny) == 0 with input as doc([file_change("0644")], "default", [])
}

test_world_writable_file_denied if {
	msgs := atoll.deny with input as doc([file_change("0666")], "default", [])
	msgs == {{"msg": "f.txt would be world-writable (mode 0666)", "resource": "local_file.f"}}
}

test_destroy_warns if {
	warnings := atoll.warn with input as doc([destroy], "default", [])
	warnings == {{"msg": "will be destroyed", "resource": "terraform_data.d"}}
}

test_destroy_in_production_needs_label if {
	count(atoll.deny) == 1 with input as doc([destroy], "production", [])
	count(atoll.deny) == 0 with input as doc([destroy], "production", ["allow-destroy"])
}
