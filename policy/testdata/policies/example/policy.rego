# An example policy set for atoll: keep local files private, and guard
# destruction in the production workspace.
package atoll

# Files written by local_file must not be writable by everyone.
deny contains {
	"msg": sprintf("%s would be world-writable (mode %s)", [rc.change.after.filename, mode]),
	"resource": rc.address,
} if {
	some rc in input.plan.resource_changes
	rc.type == "local_file"
	mode := rc.change.after.file_permission
	world_writable(mode)
}

world_writable(mode) if regex.match(`[2367]$`, mode)

# Destroying anything in production needs the allow-destroy label on the PR.
deny contains sprintf("%s would be destroyed in production: add the allow-destroy label to proceed", [rc.address]) if {
	input.project.workspace == "production"
	not "allow-destroy" in input.pull_request.labels
	some rc in input.plan.resource_changes
	"delete" in rc.change.actions
}

# Every destruction is worth a second look.
warn contains {"msg": "will be destroyed", "resource": rc.address} if {
	some rc in input.plan.resource_changes
	rc.change.actions == ["delete"]
}
